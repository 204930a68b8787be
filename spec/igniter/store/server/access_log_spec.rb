# frozen_string_literal: true

require "net/http"

# Every HTTP request of a session — answered by the app, refused by puma
# from its headers, or streamed — has one access line in the server's log,
# and no line carries a token.
RSpec.describe "HTTP access log", :servers do
  include LedgerSpec::AdapterHelpers

  let(:log) { StringIO.new }
  let(:write_token) { "w-0123456789-secret" }
  let(:read_token) { "r-9876543210-secret" }
  let(:server) do
    logger = Igniter::Store::ServerLogger.new(log, :info, format: :json)
    build_server(logger: logger, auth_token: write_token, read_token: read_token)
      .tap { |s| s.start_adapters(http_port: 0) }
  end
  let(:port) { port_of(server.http_adapter.bind_address) }

  # The session: each request with its own X-Request-Id, recorded with the status it got.
  def session
    sent = []
    request = lambda do |verb, path, body: nil, headers: {}|
      id = "req-#{sent.size + 1}"
      response = Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
        message = Net::HTTP.const_get(verb.capitalize).new(path, { "X-Request-Id" => id }.merge(headers))
        message.body = body if body
        http.request(message)
      end
      expect(response["X-Request-Id"]).to eq(id)
      sent << { id: id, method: verb.upcase, path: path.split("?").first, status: response.code.to_i }
    end
    bearer = ->(token) { { "Authorization" => "Bearer #{token}", "Content-Type" => "application/json" } }
    write = JSON.generate(envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }))

    request.call("get", "/v1/health")
    request.call("post", "/v1/dispatch", body: write, headers: bearer.call(write_token))
    request.call("post", "/v1/dispatch", body: write, headers: bearer.call(read_token))
    request.call("post", "/v1/dispatch", body: JSON.generate(envelope(:write, { key: "k" })),
                                         headers: bearer.call(write_token))
    request.call("get", "/v1/status")
    request.call("get", "/v1/status?access_token=#{read_token}")
    request.call("get", "/v1/nowhere")
    request.call("get", "/metrics", headers: bearer.call(read_token))
    sent
  end

  def access_lines
    log.string.lines.map { |line| JSON.parse(line) }.select { |line| line["component"] == "http" && line["msg"] == "request" }
  end

  it "writes one line per request with method, path, status, op, duration, bytes, request id and peer" do
    sent = session
    poll_until(message: "access lines missing") { access_lines.size >= sent.size }
    lines = access_lines

    expect(lines.map { |l| l.values_at("request_id", "method", "path", "status") })
      .to eq(sent.map { |r| r.values_at(:id, :method, :path, :status) })
    expect(sent.map { |r| r[:status] }).to eq([200, 200, 403, 422, 401, 200, 404, 200])
    lines.each do |line|
      expect(line).to include("level" => "info", "remote" => "127.0.0.1")
      expect(line["duration_ms"]).to be_a(Numeric)
      expect(line["bytes_out"]).to be_positive
      expect(line["ts"]).to match(/\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:[+-]\d{2}:\d{2}|Z)\z/)
    end
    expect(lines[1]).to include("op" => "write")
    expect(lines[1]["bytes_in"]).to be_positive
    expect(lines[5]["query"]).to eq("access_token=[redacted]")
  end

  it "never writes a token to the log" do
    session
    expect(log.string).not_to include(write_token)
    expect(log.string).not_to include(read_token)
  end

  it "logs a request puma refused from its headers (413) and an SSE stream once it ends" do
    socket = TCPSocket.new("127.0.0.1", port)
    socket.write("POST /v1/dispatch HTTP/1.1\r\nHost: x\r\nX-Request-Id: big\r\nContent-Length: 999999999\r\n\r\n")
    expect(socket.gets).to start_with("HTTP/1.1 413")
    socket.close
    thread, = http_stream(port, "/v1/events?access_token=#{read_token}")
    poll_until(message: "stream not open") { server.http_adapter.open_streams == 1 }
    server.stop
    thread.join(3)

    lines = access_lines
    expect(lines.find { |l| l["status"] == 413 }).to include("request_id" => "big", "path" => "/v1/dispatch")
    expect(lines.find { |l| l["path"] == "/v1/events" }).to include("status" => 200, "op" => "/v1/events")
  end

  it "writes text lines with the same facts" do
    text = StringIO.new
    plain = build_server(logger: Igniter::Store::ServerLogger.new(text, :info)).tap { |s| s.start_adapters(http_port: 0) }
    http_get(port_of(plain.http_adapter.bind_address), "/v1/health")
    poll_until(message: "no access line") { text.string.include?(" http: request ") }

    line = %r{\A\S+ INFO  http: request method=GET path=/v1/health status=200 op=/v1/health duration_ms=[\d.]+ } \
           .source + 'bytes_in=0 bytes_out=\d+ request_id=[0-9a-f]{16} remote=127\.0\.0\.1\n\z'
    expect(text.string.lines.grep(/ http: request /).first).to match(Regexp.new(line))
  end
end
