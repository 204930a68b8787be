# frozen_string_literal: true

RSpec.describe "HTTPAdapter serving on a real socket (puma)" do
  let(:interpreter) { Igniter::Store::Protocol.new }
  let(:buffer) { Igniter::Store::ChangefeedBuffer.new }
  let(:adapters) { [] }

  after do
    adapters.each(&:stop)
    buffer.close
  end

  def serve(**opts)
    Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: 0, changefeed_provider: -> { buffer }, **opts)
                               .tap { |a| adapters << a }.start_async
  end

  # Writes +text+ on a fresh connection and reads until the server closes it
  # (or +read_timeout+ of silence).
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

  it "accepts requests as soon as start_async returns, on the reported ephemeral port" do
    adapter = serve
    port = port_of(adapter.bind_address)
    expect(adapter.bind_address).to eq("127.0.0.1:#{port}")
    expect(adapter.server_kind).to eq(:puma)
    response = http_post_json(port, "/v1/dispatch", envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }))
    expect([response.code, response["Content-Type"]]).to eq(%w[200 application/json])
    expect(JSON.parse(response.body)["result"]["status"]).to eq("accepted")
    expect(JSON.parse(http_get(port, "/v1/health").body)["status"]).to eq("ready")
  end

  it "raises from start_async when the port is taken" do
    blocker = TCPServer.new("127.0.0.1", 0)
    adapter = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: blocker.addr[1])
    expect { adapter.start_async }.to raise_error(Errno::EADDRINUSE)
    expect(adapter.bind_address).to eq("127.0.0.1:#{blocker.addr[1]}")
  ensure
    blocker&.close
  end

  it "refuses the retired built-in server by name" do
    expect { Igniter::Store::HTTPAdapter.new(interpreter: interpreter, server: :builtin) }
      .to raise_error(ArgumentError, /retired; puma serves HTTP/)
  end

  it "answers garbage JSON with 400 and an oversized body with 413" do
    adapter = serve(max_body_bytes: 256)
    port = port_of(adapter.bind_address)
    garbage = http_post_json(port, "/v1/dispatch", "{nope")
    huge = http_post_json(port, "/v1/dispatch", JSON.generate(envelope(:write, { store: "t", key: "k", value: "x" * 1000 })))
    expect([garbage.code, JSON.parse(garbage.body)["error"]]).to match(["400", start_with("Invalid JSON: ")])
    expect([huge.code, JSON.parse(huge.body)]).to eq(["413", { "error" => "Request body exceeds 256 bytes" }])
  end

  it "refuses a declared oversized body with 413 from the headers, before the body is sent" do
    adapter = serve(max_body_bytes: 100)
    # 1 GB announced, a few bytes sent: the answer comes without waiting for the rest.
    reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" \
                              "Content-Length: 1000000000\r\n\r\n{\"protocol\":")
    expect(reply).to start_with("HTTP/1.1 413 Payload Too Large\r\n")
    expect(reply).to end_with('{"error":"Request body exceeds 100 bytes"}')
    expect(adapter.metrics.snapshot[:requests_total]).to eq("unknown" => 1)
  end

  it "answers Expect: 100-continue with 413 instead of 100 Continue for an oversized body" do
    adapter = serve(max_body_bytes: 100)
    reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" \
                              "Content-Length: 5000\r\n\r\n")
    expect(reply).to start_with("HTTP/1.1 413 ")
    expect(reply).not_to include("100 Continue")
  end

  it "cuts off a chunked body with 413 once it grows past the limit" do
    adapter = serve(max_body_bytes: 100)
    chunk = "x" * 80
    reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" \
                              "#{chunk.bytesize.to_s(16)}\r\n#{chunk}\r\n#{chunk.bytesize.to_s(16)}\r\n#{chunk}\r\n")
    expect(reply).to start_with("HTTP/1.1 413 ")
  end

  it "requires the Bearer token for writes over the wire" do
    adapter = serve(auth_token: "s3cret")
    port = port_of(adapter.bind_address)
    write = envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } })
    expect(http_post_json(port, "/v1/dispatch", write).code).to eq("401")
    expect(http_post_json(port, "/v1/dispatch", write, "Authorization" => "Bearer s3cret").code).to eq("200")
  end

  it "streams SSE (retained, then live) and stop ends the stream" do
    adapter = serve
    emit_facts(buffer, 2)
    thread, chunks = http_stream(port_of(adapter.bind_address), "/v1/events")
    expect(wait_until { buffer.subscriber_count == 1 }).to be(true)
    buffer.emit(Igniter::Store::Fact.build(store: :tasks, key: "live1", value: {}))
    text = +""
    expect(wait_until { sse_frames(text << drain_queue(chunks)).size >= 3 }).to be(true)
    adapter.stop
    expect(thread.join(3)).not_to be_nil
    frames = sse_frames(text << drain_queue(chunks))
    expect(frames.map { |f| f[:sequence] }).to eq([1, 2, 3])
    expect(frames.last[:data]["key"]).to eq("live1")
    expect(wait_until { buffer.subscriber_count.zero? }).to be(true)
    expect(adapter.open_streams).to eq(0)
  end

  it "streams SSE off puma's worker threads: more streams than workers leave requests answered" do
    adapter = serve(max_connections: 2)
    port = port_of(adapter.bind_address)
    streams = 4.times.map { http_stream(port, "/v1/events") }
    expect(wait_until { adapter.open_streams == 4 }).to be(true)
    expect(http_get(port, "/v1/health").code).to eq("200")
    buffer.emit(Igniter::Store::Fact.build(store: :tasks, key: "k", value: {}))
    streams.each do |_thread, chunks|
      text = +""
      expect(wait_until { sse_frames(text << drain_queue(chunks)).size == 1 }).to be(true)
    end
    adapter.stop
    expect(streams.map { |thread, _| thread.join(3) }).to all(be_truthy)
  end

  it "answers 503 once max_streams event streams are open" do
    adapter = serve(max_streams: 1)
    port = port_of(adapter.bind_address)
    http_stream(port, "/v1/events")
    expect(wait_until { adapter.open_streams == 1 }).to be(true)
    second = http_get(port, "/v1/events")
    expect([second.code, JSON.parse(second.body)["error"]]).to eq(["503", "Too many event streams open; retry later"])
  end

  it "refuses connections after stop" do
    adapter = serve
    port = port_of(adapter.bind_address)
    adapter.stop
    expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
    expect(adapter.stop).to be(adapter)
  end

  it "serves from the blocking start until stop" do
    adapter = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: 0)
    adapters << adapter
    runner = Thread.new { adapter.start }
    expect(wait_until { adapter.server_kind }).to eq(:puma)
    expect(http_get(port_of(adapter.bind_address), "/v1/health").code).to eq("200")
    adapter.stop
    expect(runner.join(3)).not_to be_nil
  end

  it "refuses to start twice" do
    adapter = serve
    expect { adapter.start_async }.to raise_error(RuntimeError, /already started/)
  end

  it "closes a keep-alive connection idle past idle_timeout" do
    adapter = serve(idle_timeout: 0.2)
    socket = TCPSocket.new("127.0.0.1", port_of(adapter.bind_address))
    socket.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(socket.wait_readable(2)).to be_truthy
    socket.readpartial(4096)
    expect(closed_by_peer?(socket)).to be(true)
  ensure
    socket&.close
  end

  it "answers a malformed request with 400" do
    adapter = serve
    expect(raw_http(adapter, "HELLO\r\n\r\n")).to start_with("HTTP/1.1 400 ")
  end

  it "answers a request whose body stalls past read_timeout with 408" do
    adapter = serve(read_timeout: 0.3)
    reply = raw_http(adapter, "POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{", read_timeout: 3)
    expect(reply).to start_with("HTTP/1.1 408 ")
  end

  it "serves several requests on one keep-alive connection" do
    adapter = serve
    Net::HTTP.start("127.0.0.1", port_of(adapter.bind_address)) do |http|
      codes = 3.times.map { http.get("/v1/health").code }
      expect(codes).to eq(%w[200 200 200])
    end
  end
end
