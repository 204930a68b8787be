# frozen_string_literal: true

RSpec.describe Igniter::Store::StoreServer, :servers do
  it "is ready right after new, before and after start_async" do
    server = build_server

    expect(server.wait_until_ready(timeout: 0.1)).to equal(server)
    server.start_async
    expect(server.wait_until_ready(timeout: 0.1)).to equal(server)
    expect(server).to be_ready
  end

  it "accepts connections queued before start" do
    server = build_server
    socket = op_socket(server)
    op_send(socket, op: "ping")
    server.start_async

    expect(op_read(socket)).to eq(ok: true, pong: true)
  end

  it "binds 127.0.0.1 by default and reports the real ephemeral port" do
    server = build_server

    expect(server.bind_address).to match(/\A127\.0\.0\.1:\d+\z/)
    expect(port_number(server)).to be_positive
  end

  it "resolves localhost:0 from address: to the numeric loopback address" do
    server = described_class.new(address: "localhost:0", logger: silent_logger, drain_timeout: 0.2)
    tracked_servers << server

    expect(server.bind_address).to match(/\A127\.0\.0\.1:\d+\z/)
  end

  it "tracks active connections and drops a closed client within 50 ms" do
    server = start_server
    client = client_for(server)
    client.send(:rpc, "ping")

    expect(server.active_connections).to eq(1)
    client.close
    poll_until(timeout: 0.5, message: "connection not released") { server.active_connections.zero? }
  end

  it "answers stats with facts, connections and a growing uptime" do
    server = start_server
    client = client_for(server)
    client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { title: "A" }))
    first = client.send(:rpc, "stats")
    second = client.send(:rpc, "stats")

    expect(first).to include(ok: true, facts_written: 1, connections_active: 1)
    expect(first[:uptime_ms]).to be_positive
    expect(second[:uptime_ms]).to be >= first[:uptime_ms]
  end

  it "refuses connections after stop" do
    server = start_server
    port = port_number(server)
    server.stop

    expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
  end

  it "raises NetworkError naming an unknown op" do
    client = client_for(start_server)

    expect { client.send(:rpc, "unknown_op") }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /Unknown op: "unknown_op"/)
  end

  it "writes its PID file on new and removes it on stop, even without start" do
    with_tmpdir do |dir|
      pid_file = File.join(dir, "server.pid")
      server = build_server(pid_file: pid_file)

      expect(File.read(pid_file)).to eq("#{Process.pid}\n")
      server.stop
      expect(File.exist?(pid_file)).to be(false)
    end
  end

  it "logs Listening on to the config's log_io before accepting" do
    io = StringIO.new
    config = Igniter::Store::ServerConfig.new(port: 0, log_io: io, drain_timeout: 0.2)
    server = described_class.new(config: config)
    tracked_servers << server
    server.start_async
    client_for(server).send(:rpc, "ping")

    expect(io.string).to include("Listening on #{server.bind_address} (transport=tcp backend=memory)")
  end

  it "is silent with a config whose log_io is nil" do
    config = Igniter::Store::ServerConfig.new(port: 0, log_io: nil, drain_timeout: 0.2)
    server = described_class.new(config: config)
    tracked_servers << server

    expect { server.start_async.join(0.05) }.not_to output.to_stdout
  end

  it "keeps facts of a file backend across a restart on the same port and path" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.wal")
      first = start_server(backend: :file, path: path)
      port = port_number(first)
      client = client_for(first)
      3.times { |i| client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "k#{i}", value: { n: i })) }
      client.close
      first.stop

      second = start_server(backend: :file, path: path, port: port)
      facts = client_for(second).replay

      expect(port_number(second)).to eq(port)
      expect(facts.map(&:key)).to eq(%w[k0 k1 k2])
    end
  end

  it "serves a unix socket, reporting its path and removing it on stop" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.sock")
      server = build_server(transport: :unix, host: path)
      server.start_async
      client = Igniter::Store::NetworkBackend.new(address: path, transport: :unix)
      tracked_clients << client

      expect(server.bind_address).to eq(path)
      expect(client.send(:rpc, "ping")).to eq(ok: true, pong: true)
      expect(server.health_snapshot[:transport]).to eq("unix")
      client.close
      server.stop
      expect(File.exist?(path)).to be(false)
    end
  end

  it "replaces a stale unix socket file left by a crashed server" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.sock")
      UNIXServer.new(path).close # the file stays, nobody listens

      expect(build_server(transport: :unix, host: path).bind_address).to eq(path)
    end
  end

  describe "push subscriptions" do
    it "counts a subscriber for its store and drops it after close" do
      server = start_server
      handle = client_for(server).subscribe(stores: [:tasks]) { |_fact| nil }

      expect(server.subscription_count(:tasks)).to eq(1)
      expect(server.subscription_count("notes")).to eq(0)
      handle.close
      poll_until(timeout: 0.5, message: "subscription not released") { server.subscription_count(:tasks).zero? }
    end

    it "delivers a fact written right after subscribe" do
      server = start_server
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) { |fact| received << fact }
      client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { a: 1 }))

      fact = pop_within(received)
      expect(fact.key).to eq("t1")
      expect(fact.store).to eq(:tasks)
      handle.close
    end

    it "does not deliver facts of other stores" do
      server = start_server
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) { |fact| received << fact.key }
      writer = client_for(server)
      writer.write_fact(Igniter::Store::Fact.build(store: :notes, key: "n1", value: {}))
      writer.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t1", value: {}))

      expect(pop_within(received)).to eq("t1")
      expect(received.size).to eq(0)
      handle.close
    end

    it "fans out to three subscribers" do
      server = start_server
      queues = Array.new(3) { Queue.new }
      handles = queues.map { |q| client_for(server).subscribe(stores: [:tasks]) { |fact| q << fact.key } }
      client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t9", value: {}))

      expect(queues.map { |q| pop_within(q) }).to eq(%w[t9 t9 t9])
      handles.each(&:close)
    end

    it "receives every store with an empty store list" do
      server = start_server
      received = Queue.new
      handle = client_for(server).subscribe(stores: []) { |fact| received << fact.store }
      writer = client_for(server)
      writer.write_fact(Igniter::Store::Fact.build(store: :a, key: "1", value: {}))
      writer.write_fact(Igniter::Store::Fact.build(store: :b, key: "1", value: {}))

      expect([pop_within(received), pop_within(received)]).to eq(%i[a b])
      handle.close
    end
  end

  describe "lifecycle" do
    it "stops idempotently, and start after stop returns at once" do
      server = start_server
      server.stop

      expect(server.stop).to equal(server)
      expect(server.status).to eq(:stopped)
      thread = Thread.new { server.start }
      expect(thread.join(1)).to be_truthy
    end

    it "makes start return after stop from another thread" do
      server = build_server
      thread = server.start_async
      poll_until(message: "server_start not emitted") { server.recent_events.any? { |e| e[:type] == :server_start } }
      server.stop

      expect(thread.join(2)).to be_truthy
    end

    it "answers close and then closes the connection" do
      socket = op_socket(start_server)

      expect(op_call(socket, op: "close")).to eq(ok: true)
      expect(op_read(socket)).to eq(:eof)
    end

    it "echoes a truthy request_id as the last key, keeping its JSON type" do
      socket = op_socket(start_server)

      reply = op_call(socket, op: "ping", request_id: 42)
      expect(reply.keys.last).to eq(:request_id)
      expect(reply[:request_id]).to eq(42)
      expect(op_call(socket, op: "ping", request_id: nil)).to eq(ok: true, pong: true)
      expect(op_call(socket, op: "nope", request_id: "r1")).to eq(
        ok: false, error_code: "unknown_op", error: 'Unknown op: "nope"', request_id: "r1"
      )
    end

    it "reports a missing op as Unknown op: nil" do
      socket = op_socket(start_server)

      expect(op_call(socket, {})).to include(ok: false, error_code: "unknown_op", error: "Unknown op: nil")
    end

    it "serves pipelined requests in order" do
      socket = op_socket(start_server)
      socket.write(raw_frame(JSON.generate(op: "ping", request_id: 1)) + raw_frame(JSON.generate(op: "stats",
                                                                                                  request_id: 2)))

      expect(op_read(socket)[:request_id]).to eq(1)
      expect(op_read(socket)[:request_id]).to eq(2)
    end
  end
end
