# frozen_string_literal: true

require "net/http"

# StoreServer#start_adapters: the HTTP and framed-TCP envelope adapters
# over the server's own store, snapshots and changefeed.
RSpec.describe "StoreServer envelope adapters", :servers do
  before do
    skip "HTTPAdapter/TCPAdapter not built" unless defined?(Igniter::Store::HTTPAdapter) &&
                                                   defined?(Igniter::Store::TCPAdapter)
  end

  let(:server) { start_server.tap { |s| s.start_adapters(http_port: 0, tcp_port: 0) } }
  let(:http_port) { Integer(server.http_adapter.bind_address.split(":").last) }

  def get(path)
    response = Net::HTTP.start("127.0.0.1", http_port, open_timeout: 2, read_timeout: 5) { |h| h.get(path) }
    [response.code.to_i, JSON.parse(response.body, symbolize_names: true)]
  end

  def envelope(op, packet)
    { protocol: "igniter_store", schema_version: 1, request_id: "r-#{op}", op: op, packet: packet }
  end

  it "serves the server's health, status, metrics and recent events" do
    client_for(server).send(:rpc, "ping")

    code, health = get("/v1/health")
    expect(code).to eq(200)
    expect(health).to include(status: "ready", backend: "memory", bind_address: server.bind_address)
    expect(get("/v1/status").last.keys).to include(:metrics, :server, :changefeed)
    expect(get("/v1/metrics").last[:requests_total]).to include(ping: 1)
    expect(get("/v1/events/recent").last[:events].map { |e| e[:type] }).to include("server_start")
  end

  it "gives the adapters the server's body limit and timeouts" do
    limited = start_server(max_body_bytes: 64, read_timeout: 0.3, idle_timeout: 0.4)
    limited.start_adapters(http_port: 0, tcp_port: 0)
    port = Integer(limited.http_adapter.bind_address.split(":").last)
    big = Net::HTTP.start("127.0.0.1", port) { |h| h.post("/v1/dispatch", "x" * 100) }
    expect([big.code, JSON.parse(big.body)]).to eq(["413", { "error" => "Request body exceeds 64 bytes" }])

    tcp = TCPSocket.new("127.0.0.1", Integer(limited.tcp_adapter.bind_address.split(":").last))
    tracked_sockets << tcp
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    expect(tcp.wait_readable(3) && tcp.read_nonblock(1, exception: false)).to be_nil # closed when idle
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
  end

  it "reports not ready over HTTP while draining" do
    server.drain(timeout: 0.01)

    expect(get("/v1/ready")).to eq([503, { status: "unavailable" }])
  end

  it "streams legacy writes to SSE clients of /v1/events" do
    chunks = Queue.new
    reader = Thread.new do
      Net::HTTP.start("127.0.0.1", http_port, read_timeout: 5) do |http|
        http.request(Net::HTTP::Get.new("/v1/events?store=tasks")) do |response|
          response.read_body { |chunk| chunks << chunk }
        end
      end
    rescue IOError, SystemCallError
      nil
    end
    poll_until(message: "SSE subscriber not registered") { server.changefeed.subscriber_count.positive? }
    client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "sse1", value: {}))

    text = +""
    poll_until(message: "no SSE event") do
      text << chunks.pop until chunks.empty?
      text.include?("data: ")
    end
    data = JSON.parse(text[/^data: (.*)$/, 1], symbolize_names: true)
    expect(data).to include(type: "fact_committed", store: "tasks", key: "sse1")
    server.http_adapter.stop
    reader.join(3)
  end

  it "persists framed TCP envelope writes where legacy replay sees them" do
    socket = TCPSocket.new("127.0.0.1", Integer(server.tcp_adapter.bind_address.split(":").last))
    tracked_sockets << socket
    reply = op_call(socket, envelope("write", { store: "tasks", key: "tcp1", value: { v: 1 } }))

    expect(reply).to include(status: "ok", request_id: "r-write")
    expect(client_for(server).replay.map(&:key)).to eq(["tcp1"])
  end

  it "stops the adapters with the server" do
    port = http_port
    server.stop

    expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
  end
end
