# frozen_string_literal: true

RSpec.describe "MCPAdapter.remote against a running HTTPAdapter" do
  let(:store) { Igniter::Store.memory }
  let(:interpreter) { Igniter::Store::Protocol.new(store) }
  let(:adapters) { [] }

  after { adapters.each(&:stop) }

  def serve(target_interpreter = interpreter, **opts)
    Igniter::Store::HTTPAdapter.new(interpreter: target_interpreter, port: 0, **opts)
                               .tap { |a| adapters << a }.start_async
  end

  def endpoint(adapter)
    "http://#{adapter.bind_address}"
  end

  context "served by puma" do
    before do
      interpreter.write(store: :tasks, key: "t1", value: { title: "Plan", status: "open" })
      interpreter.write(store: :tasks, key: "t2", value: { title: "Ship", status: "open" })
    end

    it "normalizes read and query results like the embedded adapter" do
      mcp = Igniter::Store::MCPAdapter.remote(endpoint(serve))
      expect(mcp.call_tool(:read, store: "tasks", key: "t1")[:result]).to eq(title: "Plan", status: "open")
      expect(mcp.call_tool(:query, store: "tasks", limit: 1)[:result]).to eq([{ title: "Plan", status: "open" }])
    end

    it "surfaces a remote error with request_id and source op preserved" do
      mcp = Igniter::Store::MCPAdapter.remote(endpoint(serve))
      response = mcp.call_tool(:resolve, relation: "nope", from: "x", request_id: "rr")
      expect(response).to include(status: :error, request_id: "rr", source_protocol_op: :resolve)
      expect(response[:error]).to match(/\AInternal error: remote dispatch :resolve failed: .*No relation registered/)
    end

    it "bounds replay by limit so count reflects the limit" do
      mcp = Igniter::Store::MCPAdapter.remote(endpoint(serve))
      result = mcp.call_tool(:replay, limit: 1)[:result]
      expect([result[:count], result[:facts].size]).to eq([1, 1])
      expect(mcp.call_tool(:replay, store: "tasks")[:result][:count]).to eq(2)
    end

    it "keeps the dispatch path when the endpoint names one, and sends the token" do
      adapter = serve(auth_token: "s3cret")
      mcp = Igniter::Store::MCPAdapter.remote("#{endpoint(adapter)}/v1/dispatch", token: "s3cret")
      expect(mcp.call_tool(:read, store: "tasks", key: "t2")[:result]).to eq(title: "Ship", status: "open")
    end

    it "returns a SyncProfile like the embedded adapter" do
      mcp = Igniter::Store::MCPAdapter.remote(endpoint(serve))
      profile = mcp.call_tool(:sync_profile, stores: ["tasks"])[:result]
      expect(profile).to be_a(Igniter::Store::Protocol::SyncProfile)
      expect(profile.fact_count).to eq(2)
    end
  end

  it "keeps String keys for remote storage stats and manifests, like embedded" do
    with_tmpdir do |dir|
      seg = Igniter::Store.segmented(dir)
      seg.write(store: :readings, key: "r1", value: { v: 1 })
      adapter = serve(Igniter::Store::Protocol.new(seg))
      mcp = Igniter::Store::MCPAdapter.remote(endpoint(adapter))
      stats = mcp.call_tool(:storage_stats)[:result]
      manifest = mcp.call_tool(:segment_manifest, store: "readings")[:result]
      expect(stats["stores"]["readings"]["fact_count"]).to eq(1)
      expect(manifest["stores"]["readings"]["segments"]).to be_an(Array)
      embedded = Igniter::Store::MCPAdapter.new(seg).call_tool(:storage_stats)[:result]
      expect(stats.except("generated_at")).to eq(embedded.except("generated_at"))
    ensure
      seg&.close
    end
  end

  it "reports an HTTP error status as an internal error" do
    adapter = serve
    mcp = Igniter::Store::MCPAdapter.remote("http://#{adapter.bind_address}/v1/nowhere")
    expect(mcp.call_tool(:metadata_snapshot)[:error]).to match(%r{\AInternal error: HTTP http://.*/v1/nowhere returned 404\z})
  end

  it "gives up after read_timeout on a server that never answers" do
    silent = TCPServer.new("127.0.0.1", 0)
    held = []
    acceptor = Thread.new { loop { held << silent.accept } }
    mcp = Igniter::Store::MCPAdapter.remote("http://127.0.0.1:#{silent.addr[1]}", read_timeout: 0.2)
    response = mcp.call_tool(:metadata_snapshot)
    expect(response[:status]).to eq(:error)
    expect(response[:error]).to match(/\AInternal error: .*(Net::ReadTimeout|timed out)/i)
  ensure
    acceptor&.kill
    held&.each(&:close)
    silent&.close
  end

  it "reports a refused connection as an internal error" do
    mcp = Igniter::Store::MCPAdapter.remote("http://127.0.0.1:#{free_port}", open_timeout: 0.5)
    expect(mcp.call_tool(:metadata_snapshot)).to include(status: :error, error: start_with("Internal error: "))
  end

  it "rejects a non-http endpoint" do
    expect { Igniter::Store::MCPAdapter.remote("ftp://example.test") }.to raise_error(ArgumentError, /http/)
  end
end
