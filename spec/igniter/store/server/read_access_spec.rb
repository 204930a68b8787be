# frozen_string_literal: true

require "net/http"

# Read and write tokens on every transport: a request without a token, or
# with a wrong one, gets 401 (or the transport's "unauthorized" reply) and
# no data; a read token reads but may not write (403 / "forbidden"); the
# write token does both; health, readiness and ping stay open.
RSpec.describe "Read and write tokens", :servers do
  include LedgerSpec::AdapterHelpers

  let(:write_token) { "write-secret" }
  let(:read_token) { "read-secret" }
  let(:server) do
    build_server(auth_token: write_token, read_token: read_token).tap do |s|
      s.start_adapters(http_port: 0, tcp_port: 0)
      s.start_async
    end
  end
  let(:http_port) { port_of(server.http_adapter.bind_address) }

  before do
    server.store.write(store: :tasks, key: "t1", value: { secret: "personal data" })
  end

  def http(verb, path, token: nil, body: nil)
    Net::HTTP.start("127.0.0.1", http_port, open_timeout: 2, read_timeout: 5) do |h|
      request = Net::HTTP.const_get(verb.capitalize).new(path)
      request["Authorization"] = "Bearer #{token}" if token
      request["Content-Type"] = "application/json"
      request.body = body
      h.request(request)
    end
  end

  describe "op protocol" do
    it "refuses replay, stats, server_status and subscribe without a token or with a wrong one, and keeps ping open" do
      socket = op_socket(server)
      [nil, "wrong"].each do |token|
        %w[replay stats server_status subscribe].each do |op|
          request = { op: op }
          request[:token] = token if token
          reply = op_call(socket, request)
          expect(reply).to include(ok: false, error_code: "unauthorized")
          expect(reply.keys).to eq(%i[ok error_code error])
        end
      end
      expect(op_call(socket, op: "ping")).to eq(ok: true, pong: true)
    end

    it "lets a read token read and a write token do both; a read token cannot write" do
      reader = client_for(server, token: read_token)
      writer = client_for(server, token: write_token)
      fact = Igniter::Store::Fact.build(store: :tasks, key: "t2", value: {})

      expect(reader.replay.map(&:key)).to eq(["t1"])
      expect { reader.write_fact(fact) }
        .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /requires the write token; a read token cannot write/)
      writer.write_fact(fact)
      expect(writer.replay.map(&:key)).to eq(%w[t1 t2])
    end

    it "pushes to a subscriber with a read token and refuses one without" do
      expect { client_for(server).subscribe(stores: [:tasks]) { nil } }
        .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /requires a valid token/)
      pushed = Queue.new
      subscription = client_for(server, token: read_token).subscribe(stores: [:tasks]) { |f| pushed << f.key }
      server.store.write(store: :tasks, key: "t3", value: {})
      expect(pop_within(pushed)).to eq("t3")
      subscription.close
    end
  end

  describe "envelope TCP" do
    let(:read) { envelope(:read, { store: "tasks", key: "t1" }, request_id: "r") }

    it "answers a read without a token, or with a wrong one, Unauthorized and without a result" do
      [nil, "wrong"].each do |token|
        reply = tcp_request(server.tcp_adapter, token ? read.merge(token: token) : read)
        expect(reply).to include("status" => "error", "error" => "Unauthorized", "request_id" => "r")
        expect(reply).not_to have_key("result")
      end
    end

    it "serves a read token's read and refuses its write as Forbidden" do
      expect(tcp_request(server.tcp_adapter, read.merge(token: read_token))["result"])
        .to eq("value" => { "secret" => "personal data" }, "found" => true)
      write = envelope(:write, { store: "tasks", key: "x", value: {} }, token: read_token)
      expect(tcp_request(server.tcp_adapter, write)).to include("status" => "error",
                                                                "error" => "Forbidden: a read token cannot write")
      expect(server.store.fact_count).to eq(1)
    end
  end

  describe "HTTP" do
    read_paths = %w[/v1/status /v1/metrics /metrics /v1/events/recent /v1/metadata /v1/compaction/activity]

    it "answers every read endpoint 401 without a token or with a wrong one, with no data" do
      read_paths.each do |path|
        [nil, "wrong"].each do |token|
          response = http("get", path, token: token)
          expect(response.code).to eq("401"), path
          expect(response["WWW-Authenticate"]).to eq('Bearer realm="igniter-ledger"')
          expect(response.body).not_to include("personal data")
          expect(JSON.parse(response.body).keys).to eq(["error"])
        end
      end
      dispatch = http("post", "/v1/dispatch", body: JSON.generate(envelope(:read, { store: "tasks", key: "t1" })))
      expect(dispatch.code).to eq("401")
      expect(dispatch.body).not_to include("personal data")
    end

    it "serves the read endpoints to the read token and to the write token" do
      [read_token, write_token].each do |token|
        read_paths.each { |path| expect(http("get", path, token: token).code).to eq("200"), path }
        read = http("post", "/v1/dispatch", token: token, body: JSON.generate(envelope(:read, { store: "tasks", key: "t1" })))
        expect(JSON.parse(read.body)["result"]["value"]).to eq("secret" => "personal data")
      end
    end

    it "keeps health and readiness open" do
      expect(http("get", "/v1/health").code).to eq("200")
      expect(http("get", "/v1/ready").code).to eq("200")
    end

    it "answers a write with the read token 403 and writes nothing" do
      write = http("post", "/v1/dispatch", token: read_token,
                                           body: JSON.generate(envelope(:write, { store: "tasks", key: "x", value: {} })))
      expect([write.code, JSON.parse(write.body)["error"]])
        .to eq(["403", "Forbidden: a read token cannot write; use the write token"])
      expect(server.store.fact_count).to eq(1)
    end

    it "guards the SSE feed: 401 without a token, a stream with ?access_token=" do
      expect(http("get", "/v1/events").code).to eq("401")
      thread, chunks = http_stream(http_port, "/v1/events?access_token=#{read_token}")
      text = +""
      expect(wait_until { sse_frames(text << drain_queue(chunks)).size == 1 }).to be(true)
      expect(sse_frames(text).first[:data]["key"]).to eq("t1")
      server.stop
      thread.join(3)
    end
  end

  describe "MCP over HTTP" do
    it "gets an error and no result without the read token, and the data with it" do
      endpoint = "http://#{server.http_adapter.bind_address}"
      anonymous = Igniter::Store::MCPAdapter.remote(endpoint).call_tool(:read, store: "tasks", key: "t1")
      expect(anonymous).to include(status: :error, error: end_with("returned 401: the server needs a read token (token:)"))
      expect(anonymous).not_to have_key(:result)
      trusted = Igniter::Store::MCPAdapter.remote(endpoint, token: read_token).call_tool(:read, store: "tasks", key: "t1")
      expect(trusted).to include(status: :ok, result: { secret: "personal data" })
    end
  end

  describe "auth_reads with only a write token" do
    it "makes reads need the write token" do
      guarded = build_server(auth_token: write_token, auth_reads: true)
      socket = op_socket(guarded.tap(&:start_async))
      expect(op_call(socket, op: "replay")).to include(error_code: "unauthorized")
      expect(op_call(socket, op: "replay", token: write_token)).to eq(ok: true, facts: [])
    end
  end

  it "refuses settings that would leave a door open or make no sense, before binding" do
    expect { Igniter::Store::StoreServer.new(port: 0, read_token: "r") }
      .to raise_error(ArgumentError, /a read token needs a write token too/)
    expect { Igniter::Store::StoreServer.new(port: 0, auth_token: "same", read_token: "same") }
      .to raise_error(ArgumentError, /must differ/)
    expect { Igniter::Store::StoreServer.new(port: 0, auth_reads: true) }
      .to raise_error(ArgumentError, /auth_reads needs a token/)
  end
end
