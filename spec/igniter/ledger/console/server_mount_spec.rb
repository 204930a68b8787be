# frozen_string_literal: true

require "net/http"
require_relative "console_helpers"

RSpec.describe "The ledger server's /ui", :servers do
  it "serves the console over the server's store, behind the server's read rule (read or write token)" do
    server = build_server(auth_token: "tok", read_token: "rtok")
    server.start_adapters(http_port: 0)
    server.store.write(store: :tasks, key: "t1", value: { n: 1 })
    host, port = server.http_adapter.bind_address.split(":")
    Net::HTTP.start(host, Integer(port)) do |http|
      expect(http.get("/ui/api/stores").code).to eq("401")
      expect(http.get("/ui/api/stores", "Authorization" => "Bearer wrong").code).to eq("401")
      expect(http.get("/ui/api/stores", "Authorization" => "Bearer rtok").code).to eq("200")
      reply = http.get("/ui/api/stores", "Authorization" => "Bearer tok")
      expect(JSON.parse(reply.body, symbolize_names: true)[:stores]).to include(include(store: "tasks", facts: 1, keys: 1))
      status = JSON.parse(http.get("/ui/api/status", "Authorization" => "Bearer tok").body, symbolize_names: true)
      expect(status).to include(source: "server", status: "ready")
      expect(status[:series]).to include(:"facts in ledger", :requests, :"feed events")
      page = http.get("/ui/key?store=tasks&key=t1", "Authorization" => "Bearer tok").body
      expect(page).to include(%(src="&#x2F;ui&#x2F;assets&#x2F;console.js"))
      expect(http.get("/v1/health").code).to eq("200") # the API next to it is unchanged
    end
  end

  it "is open like every read when only writes need a token" do
    server = build_server(auth_token: "tok")
    server.start_adapters(http_port: 0)
    host, port = server.http_adapter.bind_address.split(":")
    Net::HTTP.start(host, Integer(port)) { |http| expect(http.get("/ui/api/stores").code).to eq("200") }
  end

  it "ends the console's live streams when the HTTP adapter stops" do
    server = build_server
    server.start_adapters(http_port: 0)
    host, port = server.http_adapter.bind_address.split(":")
    socket = TCPSocket.new(host, Integer(port))
    tracked_sockets << socket
    socket.write("GET /ui/api/events HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(socket.wait_readable(3)).to be_truthy
    expect(socket.readpartial(4096)).to include("text/event-stream")
    server.stop
    expect(poll_until(message: "stream still open") do
      socket.wait_readable(0.1) && socket.read_nonblock(4096, exception: false).nil?
    end).to be(true)
  end
end
