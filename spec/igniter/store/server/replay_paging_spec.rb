# frozen_string_literal: true

# 0.5.2 sent the whole log in one replay frame, so a log bigger than a frame
# could never be replayed. The op now pages when the request has "limit".
RSpec.describe "op-protocol replay paging", :servers do
  let(:server) { start_server }

  def write_facts(count)
    client = client_for(server)
    Array.new(count) do |i|
      Igniter::Store::Fact.build(store: :tasks, key: "k#{i}", value: { n: i }).tap { |f| client.write_fact(f) }
    end
  end

  it "answers a request without limit with every fact and no \"more\" key, as 0.5.2 clients expect" do
    write_facts(3)
    reply = op_call(op_socket(server), op: "replay")
    expect(reply[:facts].size).to eq(3)
    expect(reply).not_to have_key(:more)
  end

  it "returns one page and \"more\" when the request has a limit" do
    written = write_facts(5)
    socket = op_socket(server)
    first = op_call(socket, op: "replay", limit: 2)
    second = op_call(socket, op: "replay", limit: 2, after: first[:facts].last[:id], offset: 2)
    last = op_call(socket, op: "replay", limit: 2, after: second[:facts].last[:id], offset: 4)

    expect([first[:more], second[:more], last[:more]]).to eq([true, true, false])
    ids = (first[:facts] + second[:facts] + last[:facts]).map { |f| f[:id] }
    expect(ids).to eq(written.map(&:id))
  end

  it "finds the cursor fact by id when the offset hint is wrong" do
    written = write_facts(4)
    reply = op_call(op_socket(server), op: "replay", limit: 10, after: written[1].id, offset: 99)
    expect(reply[:facts].map { |f| f[:id] }).to eq(written[2..].map(&:id))
  end

  it "rejects a cursor that is not in the log and a non-positive limit with invalid_request" do
    write_facts(1)
    socket = op_socket(server)
    unknown = op_call(socket, op: "replay", limit: 5, after: "no-such-id")
    zero = op_call(socket, op: "replay", limit: 0)

    expect([unknown[:ok], unknown[:error_code]]).to eq([false, "invalid_request"])
    expect(unknown[:error]).to include("no-such-id")
    expect(zero[:error_code]).to eq("invalid_request")
  end

  it "lets NetworkBackend#replay read a log bigger than one page, every fact once, in commit order" do
    stub_const("Igniter::Store::NetworkBackend::REPLAY_PAGE_SIZE", 3)
    written = write_facts(10)
    expect(client_for(server).replay.map(&:id)).to eq(written.map(&:id))
  end
end
