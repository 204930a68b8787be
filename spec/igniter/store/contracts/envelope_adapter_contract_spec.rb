# frozen_string_literal: true

# The three envelope transports against one written-down contract
# (doc/contracts.md, lib/igniter/store/contracts/envelope_adapter_lint.rb),
# each reached the way its clients reach it.
RSpec.describe "The envelope adapter contract" do
  include LedgerSpec::AdapterHelpers

  let(:adapters) { [] }
  after { adapters.each(&:stop) }

  def lint_envelope(op, packet, request_id)
    { protocol: "igniter_store", schema_version: 1, request_id: request_id, op: op, packet: packet }
  end

  describe Igniter::Store::TCPAdapter do
    it_behaves_like "an igniter-ledger envelope adapter", read_result: :receipt do
      # Framed JSON over a real loopback socket, one connection per request.
      let(:adapter) { described_class.new(interpreter: interpreter, port: 0).tap { |a| adapters << a }.start_async }
      let(:call_adapter) { ->(op, packet, id) { tcp_request(adapter, lint_envelope(op, packet, id)) } }
    end
  end

  describe Igniter::Store::HTTPAdapter do
    it_behaves_like "an igniter-ledger envelope adapter", read_result: :receipt do
      # POST /v1/dispatch to a real HTTP server on a loopback port.
      let(:adapter) { described_class.new(interpreter: interpreter, port: 0).tap { |a| adapters << a }.start_async }
      let(:call_adapter) do
        lambda do |op, packet, id|
          JSON.parse(http_post_json(port_of(adapter.bind_address), "/v1/dispatch", lint_envelope(op, packet, id)).body)
        end
      end
    end
  end

  describe Igniter::Store::MCPAdapter do
    it_behaves_like "an igniter-ledger envelope adapter", read_result: :value do
      # MCP tools are called in process by the MCP server; the reply is what it serializes.
      let(:adapter) { described_class.new(interpreter) }
      let(:call_adapter) do
        ->(op, packet, id) { JSON.parse(JSON.generate(adapter.call_tool(op, packet.merge(request_id: id)))) }
      end
    end
  end
end
