# frozen_string_literal: true

require "json"
require_relative "../../store"

# The envelope adapter contract (doc/contracts.md): what every transport in
# front of a Protocol::Interpreter answers, as RSpec shared examples.
#
#   require "igniter/store/contracts/envelope_adapter_lint"
#
#   RSpec.describe MyAdapter do
#     it_behaves_like "an igniter-ledger envelope adapter", read_result: :receipt do
#       # op (String), packet (Hash), request_id (String) => the reply as the
#       # client received it, as JSON with String keys
#       let(:call_adapter) { ->(op, packet, request_id) { ... } }
#     end
#   end
#
# The adapter must serve `interpreter` (defined here; the including group
# may override it). +read_result:+ is the shape of a `read` result:
# `:receipt` (`{"value", "found"}`, the op protocol) or `:value` (the value
# alone, nil when absent: MCP tools).
RSpec.shared_examples "an igniter-ledger envelope adapter" do |read_result:|
  let(:lint_store) { Igniter::Store::IgniterStore.new }
  let(:interpreter) { Igniter::Store::Protocol.new(lint_store) }

  def lint_json(value)
    JSON.parse(JSON.generate(value))
  end

  define_method(:lint_read) do |value|
    if read_result == :receipt
      value.nil? ? { "value" => nil, "found" => false } : { "value" => value, "found" => true }
    else
      value
    end
  end

  before { interpreter.write(store: :lint_tasks, key: "t1", value: { title: "Plan", status: "open" }) }

  it "answers with schema_version 1, the request id it was given, status ok and the op's result" do
    reply = call_adapter.call("metadata_snapshot", {}, "lint-1")
    expect(reply).to include("schema_version" => 1, "request_id" => "lint-1", "status" => "ok")
    expect(reply["result"]).to eq(lint_json(interpreter.metadata_snapshot))
    expect(reply).not_to have_key("error")
  end

  it "reads what the interpreter holds, and what is written after it started" do
    first = call_adapter.call("read", { store: "lint_tasks", key: "t1" }, "lint-2")
    interpreter.write(store: :lint_tasks, key: "t1", value: { title: "Plan", status: "done" })
    second = call_adapter.call("read", { store: "lint_tasks", key: "t1" }, "lint-3")
    expect(first["result"]).to eq(lint_read({ "title" => "Plan", "status" => "open" }))
    expect(second["result"]).to eq(lint_read({ "title" => "Plan", "status" => "done" }))
  end

  it "answers a read of an absent key as not found, not as an error" do
    reply = call_adapter.call("read", { store: "lint_tasks", key: "absent" }, "lint-4")
    expect([reply["status"], reply["result"]]).to eq(["ok", lint_read(nil)])
  end

  it "answers an unknown op with status error naming it, and no result" do
    reply = call_adapter.call("teleport", {}, "lint-5")
    expect(reply).to include("request_id" => "lint-5", "status" => "error")
    expect(reply["error"]).to be_a(String).and include("teleport")
    expect(reply).not_to have_key("result")
  end

  it "answers a packet without a required field with status error naming the field, then keeps serving" do
    bad = call_adapter.call("read", { store: "lint_tasks" }, "lint-6")
    good = call_adapter.call("read", { store: "lint_tasks", key: "t1" }, "lint-7")
    expect(bad).to include("request_id" => "lint-6", "status" => "error")
    expect(bad["error"]).to include("key")
    expect(good).to include("request_id" => "lint-7", "status" => "ok")
  end

  it "answers each request with its own request id" do
    ids = %w[a b c].map { |id| call_adapter.call("metadata_snapshot", {}, "lint-#{id}")["request_id"] }
    expect(ids).to eq(%w[lint-a lint-b lint-c])
  end
end
