# frozen_string_literal: true

RSpec.describe "HTTPAdapter serving on a real socket" do
  let(:interpreter) { Igniter::Store::Protocol.new }
  let(:buffer) { Igniter::Store::ChangefeedBuffer.new }
  let(:adapters) { [] }

  after do
    adapters.each(&:stop)
    buffer.close
  end

  def serve(kind, **opts)
    Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: 0, server: kind,
                                    changefeed_provider: -> { buffer }, **opts)
                               .tap { |a| adapters << a }.start_async
  end

  LedgerSpec.http_server_kinds.each do |kind|
    context "with server: #{kind.inspect}" do
      it "accepts requests as soon as start_async returns, on the reported ephemeral port" do
        adapter = serve(kind)
        port = port_of(adapter.bind_address)
        expect(adapter.bind_address).to eq("127.0.0.1:#{port}")
        expect(adapter.server_kind).to eq(kind)
        response = http_post_json(port, "/v1/dispatch", envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }))
        expect([response.code, response["Content-Type"]]).to eq(%w[200 application/json])
        expect(JSON.parse(response.body)["result"]["status"]).to eq("accepted")
        expect(JSON.parse(http_get(port, "/v1/health").body)["status"]).to eq("ready")
      end

      it "raises from start_async when the port is taken" do
        blocker = TCPServer.new("127.0.0.1", 0)
        adapter = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: blocker.addr[1], server: kind)
        expect { adapter.start_async }.to raise_error(Errno::EADDRINUSE)
        expect(adapter.bind_address).to eq("127.0.0.1:#{blocker.addr[1]}")
      ensure
        blocker&.close
      end

      it "answers garbage JSON with 400 and an oversized body with 413" do
        adapter = serve(kind, max_body_bytes: 256)
        port = port_of(adapter.bind_address)
        garbage = http_post_json(port, "/v1/dispatch", "{nope")
        huge = http_post_json(port, "/v1/dispatch", JSON.generate(envelope(:write, { store: "t", key: "k", value: "x" * 1000 })))
        expect([garbage.code, JSON.parse(garbage.body)["error"]]).to match(["400", start_with("Invalid JSON: ")])
        expect([huge.code, JSON.parse(huge.body)]).to eq(["413", { "error" => "Request body exceeds 256 bytes" }])
      end

      it "requires the Bearer token for writes over the wire" do
        adapter = serve(kind, auth_token: "s3cret")
        port = port_of(adapter.bind_address)
        write = envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } })
        expect(http_post_json(port, "/v1/dispatch", write).code).to eq("401")
        expect(http_post_json(port, "/v1/dispatch", write, "Authorization" => "Bearer s3cret").code).to eq("200")
      end

      it "streams SSE (retained, then live) and stop ends the stream" do
        adapter = serve(kind)
        emit_facts(buffer, 2)
        thread, chunks = http_stream(port_of(adapter.bind_address), "/v1/events")
        expect(wait_until { buffer.subscriber_count == 1 }).to be(true)
        buffer.emit(Igniter::Store::Fact.build(store: :tasks, key: "live1", value: {}))
        text = +""
        expect(wait_until { sse_frames(text << drain_queue(chunks)).size >= 3 }).to be(true)
        adapter.stop
        expect(thread.join(3)).not_to be_nil
        frames = sse_frames(text << drain_queue(chunks))
        expect(frames.map { |f| f[:id] }).to eq([1, 2, 3])
        expect(frames.last[:data]["key"]).to eq("live1")
        expect(wait_until { buffer.subscriber_count.zero? }).to be(true)
        expect(adapter.open_streams).to eq(0)
      end

      it "refuses connections after stop" do
        adapter = serve(kind)
        port = port_of(adapter.bind_address)
        adapter.stop
        expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
        expect(adapter.stop).to be(adapter)
      end
    end
  end

  it "serves from the blocking start until stop" do
    adapter = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: 0, server: :builtin)
    adapters << adapter
    runner = Thread.new { adapter.start }
    expect(wait_until { adapter.server_kind }).to eq(:builtin)
    expect(http_get(port_of(adapter.bind_address), "/v1/health").code).to eq("200")
    adapter.stop
    expect(runner.join(3)).not_to be_nil
  end

  it "falls back to the built-in server when puma cannot be loaded" do
    allow(Igniter::Store::HTTPAdapter::PumaRunner).to receive(:available?).and_return(false)
    adapter = serve(:auto)
    expect(adapter.server_kind).to eq(:builtin)
    expect(http_get(port_of(adapter.bind_address), "/v1/health").code).to eq("200")
  end

  it "raises LoadError for server: :puma without puma and releases the port" do
    allow(Igniter::Store::HTTPAdapter::PumaRunner).to receive(:available?).and_return(false)
    port = free_port
    adapter = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: port, server: :puma)
    expect { adapter.start_async }.to raise_error(LoadError, /puma/)
    expect { TCPServer.new("127.0.0.1", port).close }.not_to raise_error
  end

  it "refuses to start twice" do
    adapter = serve(:builtin)
    expect { adapter.start_async }.to raise_error(RuntimeError, /already started/)
  end

  context "with the built-in server" do
    it "closes a keep-alive connection idle past idle_timeout" do
      adapter = serve(:builtin, idle_timeout: 0.2)
      socket = TCPSocket.new("127.0.0.1", port_of(adapter.bind_address))
      expect(closed_by_peer?(socket)).to be(true)
    ensure
      socket&.close
    end

    def raw_http(adapter, text, read_timeout: 3)
      socket = TCPSocket.new("127.0.0.1", port_of(adapter.bind_address))
      socket.write(text)
      out = +""
      while socket.wait_readable(read_timeout)
        chunk = socket.read_nonblock(4096, exception: false)
        break if chunk.nil? || chunk == :wait_readable

        out << chunk
      end
      out
    rescue Errno::ECONNRESET
      out
    ensure
      socket&.close
    end

    it "refuses a declared oversized body with 413 before it is sent" do
      adapter = serve(:builtin, max_body_bytes: 100)
      reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
      expect(reply).to start_with("HTTP/1.1 413 ")
      expect(reply).to end_with('{"error":"Request body exceeds 100 bytes"}')
    end

    it "answers a malformed request line with 400 and closes" do
      adapter = serve(:builtin)
      expect(raw_http(adapter, "HELLO\r\n\r\n")).to start_with("HTTP/1.1 400 ")
    end

    it "refuses chunked request bodies with 411" do
      adapter = serve(:builtin)
      reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
      expect(reply).to start_with("HTTP/1.1 411 ")
    end

    it "answers a request whose head stalls past read_timeout with 408" do
      adapter = serve(:builtin, read_timeout: 0.2)
      expect(raw_http(adapter, "GET /v1/health HTTP/1.1\r\nHost:")).to start_with("HTTP/1.1 408 ")
    end

    it "serves several requests on one keep-alive connection" do
      adapter = serve(:builtin)
      Net::HTTP.start("127.0.0.1", port_of(adapter.bind_address)) do |http|
        codes = 3.times.map { http.get("/v1/health").code }
        expect(codes).to eq(%w[200 200 200])
      end
    end

    it "answers connections beyond max_connections with 503" do
      adapter = serve(:builtin, max_connections: 1)
      holder = TCPSocket.new("127.0.0.1", port_of(adapter.bind_address))
      holder.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
      holder.wait_readable(2)
      expect(raw_http(adapter, "GET /v1/health HTTP/1.1\r\n\r\n")).to start_with("HTTP/1.1 503 ")
    ensure
      holder&.close
    end
  end
end
