# frozen_string_literal: true

require "net/http"

# The 0.5.2 weaknesses (spec 05 §15) this server fixes; each example fails
# against the old behavior.
RSpec.describe "StoreServer hardening", :servers do
  def http_post(port, payload, token: nil)
    request = Net::HTTP::Post.new("/v1/dispatch", "Content-Type" => "application/json")
    request["Authorization"] = "Bearer #{token}" if token
    request.body = JSON.generate(payload)
    Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) { |http| http.request(request) }
  end

  def envelope(op, packet)
    { protocol: "igniter_store", schema_version: 1, request_id: "r", op: op, packet: packet }
  end

  describe "one durable store behind every transport" do
    it "persists envelope writes, shows them to legacy replay and emits them to the server changefeed" do
      with_tmpdir do |dir|
        path = File.join(dir, "l.wal")
        server = start_server(backend: :file, path: path)
        received = Queue.new
        handle = client_for(server).subscribe(stores: [:tasks]) { |f| received << f.key }
        reply = server.protocol.wire.dispatch(envelope("write", { store: "tasks", key: "env", value: { a: 1 } }))

        expect(reply[:status]).to eq(:ok)
        expect(client_for(server).replay.map(&:key)).to eq(["env"])
        expect(pop_within(received)).to eq("env")
        handle.close
        server.stop

        restarted = start_server(backend: :file, path: path)
        expect(restarted.protocol.wire.dispatch(envelope("read", { store: "tasks", key: "env" }))[:result])
          .to eq(value: { a: 1 }, found: true)
      end
    end

    it "makes legacy writes readable through the envelope protocol" do
      server = start_server
      client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { title: "x" }))

      expect(server.protocol.wire.dispatch(envelope("read", { store: "tasks", key: "t1" }))[:result])
        .to eq(value: { title: "x" }, found: true)
      expect(server.store.fact_count).to eq(1)
    end
  end

  describe "incoming fact verification" do
    it "refuses a fact whose value_hash does not match its value, writing nothing" do
      server = start_server
      socket = op_socket(server)

      reply = op_call(socket, op: "write_fact", fact: wire_fact(value_hash: "0" * 64))
      expect(reply).to include(ok: false, error_code: "invalid_fact")
      expect(reply[:error]).to include("value_hash mismatch")
      expect(server.store.fact_count).to eq(0)
      expect(server.changefeed.snapshot[:emitted_total]).to eq(0)
    end

    it "refuses a second fact with the same id" do
      server = start_server
      socket = op_socket(server)
      fact = wire_fact

      expect(op_call(socket, op: "write_fact", fact: fact)).to eq(ok: true)
      reply = op_call(socket, op: "write_fact", fact: fact.merge("key" => "other"))
      expect(reply).to include(ok: false, error_code: "invalid_fact")
      expect(reply[:error]).to include("duplicate fact id")
      expect(server.store.fact_count).to eq(1)
    end

    it "fills in a missing value_hash and keeps the sender's id and transaction_time" do
      server = start_server
      socket = op_socket(server)
      fact = wire_fact(value_hash: nil, transaction_time: 1_700_000_000.25)
      op_call(socket, op: "write_fact", fact: fact)

      stored = client_for(server).replay.first
      expect(stored.id).to eq(fact["id"])
      expect(stored.transaction_time).to eq(1_700_000_000.25)
      expect(stored.value_hash).to eq(Igniter::Store::JsonCanon.value_hash(title: "Hello"))
    end

    it "answers a write_fact without a fact object, or without store, as invalid_fact" do
      socket = op_socket(start_server)

      expect(op_call(socket, op: "write_fact")).to include(ok: false, error_code: "invalid_fact",
                                                           error: "expected a fact object, got null")
      expect(op_call(socket, op: "write_fact", fact: wire_fact.tap { |f| f.delete("store") }))
        .to include(ok: false, error_code: "invalid_fact",
                    error: "invalid fact: store must be a non-empty string, got null")
    end

    {
      { "store" => "" } => "store must be a non-empty string, got an empty string",
      { "store" => 12 } => "store must be a non-empty string, got a number",
      { "key" => nil } => "key must be a string or an integer, got null",
      { "key" => { "a" => 1 } } => "key must be a string or an integer, got an object",
      { "id" => 5 } => "id must be a non-empty string, got a number",
      { "causation" => 7 } => "causation must be a string, got a number",
      { "value_hash" => "ABC" } => "value_hash must be 64 lowercase hex digits, got a string",
      { "transaction_time" => "abc" } => "transaction_time must be a number, got a string",
      { "valid_time" => { "a" => 1 } } => "valid_time must be a number, got an object",
      { "schema_version" => "1" } => "schema_version must be an integer, got a string"
    }.each do |override, message|
      it "refuses a fact with #{override.inspect}: #{message}" do
        server = start_server

        expect(op_call(op_socket(server), op: "write_fact", fact: wire_fact.merge(override)))
          .to eq(ok: false, error_code: "invalid_fact", error: "invalid fact: #{message}")
        expect(server.store.fact_count).to eq(0)
      end
    end

    it "refuses a value that JSON parsed as Infinity (1e400)" do
      server = start_server
      body = JSON.generate(op: "write_fact", fact: wire_fact(value_hash: nil).merge("value" => { "x" => 1 }))
                 .sub('{"x":1}', '{"x":1e400}')

      reply = op_call(op_socket(server), body)
      expect(reply).to include(ok: false, error_code: "invalid_fact")
      expect(reply[:error]).to include("Infinity")
      expect(server.store.fact_count).to eq(0)
    end
  end

  describe "binding" do
    it "binds the adapters to the server's host, not 0.0.0.0" do
      skip "HTTPAdapter/TCPAdapter not built" unless defined?(Igniter::Store::HTTPAdapter) &&
                                                     defined?(Igniter::Store::TCPAdapter)
      server = build_server
      server.start_adapters(http_port: 0, tcp_port: 0)

      expect(server.http_adapter.bind_address).to start_with("127.0.0.1:")
      expect(server.tcp_adapter.bind_address).to start_with("127.0.0.1:")
      expect(port_of_address(server.http_adapter.bind_address)).to be_positive
    end

    it "releases the op port and closes the backend when an adapter cannot bind" do
      skip "HTTPAdapter not built" unless defined?(Igniter::Store::HTTPAdapter)
      taken = TCPServer.new("127.0.0.1", 0)
      server = build_server
      port = port_number(server)

      expect { server.start_with_adapters(http_port: taken.addr[1]) }.to raise_error(SystemCallError)
      expect(server.status).to eq(:stopped)
      expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
    ensure
      taken&.close
    end

    def port_of_address(address)
      Integer(address.split(":").last)
    end
  end

  describe "limits" do
    it "answers an oversized length header with frame_too_large and closes, without reading the body" do
      server = start_server(max_frame_bytes: 1024)
      socket = op_socket(server)
      socket.write([0xFFFF_FFF0].pack("N"))

      reply = op_read(socket)
      expect(reply).to include(ok: false, error_code: "frame_too_large")
      expect(reply[:error]).to include("4294967280", "1024")
      expect(op_read(socket)).to eq(:eof)
      expect(op_call(op_socket(server), op: "ping")).to eq(ok: true, pong: true)
    end

    it "accepts a frame of exactly max_frame_bytes" do
      body = JSON.generate(op: "ping", pad: "x" * 100)
      socket = op_socket(start_server(max_frame_bytes: body.bytesize))

      expect(op_call(socket, body)).to include(ok: true)
    end

    it "answers a frame that stalls half-way with read_timeout and closes" do
      server = start_server(read_timeout: 0.1)
      socket = op_socket(server)
      socket.write(raw_frame(JSON.generate(op: "ping")).byteslice(0, 6))

      expect(op_read(socket)).to include(ok: false, error_code: "read_timeout")
      expect(op_read(socket)).to eq(:eof)
      poll_until(message: "connection not released") { server.active_connections.zero? }
    end

    it "closes a connection idle longer than idle_timeout" do
      server = start_server(idle_timeout: 0.1)
      socket = op_socket(server)

      expect(op_call(socket, op: "ping")).to eq(ok: true, pong: true)
      expect(op_read(socket)).to eq(:eof)
      poll_until(message: "connection not released") { server.active_connections.zero? }
    end

    it "does not apply the idle timeout to a push subscriber" do
      server = start_server(idle_timeout: 0.05)
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) { |f| received << f.key }
      sleep 0.15 # longer than the idle timeout: the subscription must survive it
      Igniter::Store::NetworkBackend.new(address: server.bind_address).tap do |c|
        c.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "late", value: {}))
        c.close
      end

      expect(pop_within(received)).to eq("late")
      handle.close
    end

    it "bounds connections at 256 by default" do
      expect(build_server.instance_variable_get(:@max_connections)).to eq(256)
    end

    it "refuses invalid limits before binding" do
      expect { Igniter::Store::StoreServer.new(port: 0, max_frame_bytes: 0) }
        .to raise_error(ArgumentError, /max_frame_bytes/)
      expect { Igniter::Store::StoreServer.new(port: 0, read_timeout: -1) }
        .to raise_error(ArgumentError, /read_timeout/)
      expect { Igniter::Store::StoreServer.new(port: 0, max_connections: 0) }
        .to raise_error(ArgumentError, /max_connections/)
      expect { Igniter::Store::StoreServer.new(port: 0, max_frame_bytes: 65 * 1024 * 1024) }
        .to raise_error(ArgumentError, /max_frame_bytes must be an Integer in 1\.\./)
      expect { Igniter::Store::StoreServer.new(port: 70_000) }.to raise_error(ArgumentError, /port must be/)
      expect { Igniter::Store::StoreServer.new(port: 0, slow_op_threshold_ms: "fast") }
        .to raise_error(ArgumentError, /slow_op_threshold_ms/)
    end
  end

  describe "shared-secret token" do
    it "refuses write ops without the token and allows reads" do
      server = start_server(auth_token: "s3cret")
      socket = op_socket(server)

      expect(op_call(socket, op: "write_fact", fact: wire_fact))
        .to eq(ok: false, error_code: "unauthorized", error: "write_fact requires a valid token (the write token)")
      expect(op_call(socket, op: "write_snapshot", facts: [], token: "wrong")).to include(error_code: "unauthorized")
      expect(op_call(socket, op: "replay")).to eq(ok: true, facts: [])
      expect(server.store.fact_count).to eq(0)
    end

    it "accepts writes from a NetworkBackend built with the token" do
      server = start_server(auth_token: "s3cret")
      client = client_for(server, token: "s3cret")
      client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t", value: {}))

      expect(client.replay.map(&:key)).to eq(["t"])
      expect { client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "u", value: {})) }
        .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /requires a valid token/)
    end

    it "passes the token to the HTTP adapter" do
      skip "HTTPAdapter not built" unless defined?(Igniter::Store::HTTPAdapter)
      server = build_server(auth_token: "s3cret")
      server.start_adapters(http_port: 0)
      port = Integer(server.http_adapter.bind_address.split(":").last)
      write = envelope("write", { store: "tasks", key: "h", value: { a: 1 } })

      expect(http_post(port, write).code).to eq("401")
      expect(http_post(port, write, token: "s3cret").code).to eq("200")
      expect(server.store.fact_count).to eq(1)
    end
  end

  describe "subscribe" do
    it "registers the subscriber before acknowledging, so a write right after the ack is delivered" do
      server = start_server
      feed = server.changefeed
      allow(feed).to receive(:subscribe).and_wrap_original do |original, **kwargs, &block|
        sleep 0.1 # a slow registration: 0.5.2 acked before this finished
        original.call(**kwargs, &block)
      end
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) { |f| received << f.key }

      expect(server.subscription_count(:tasks)).to eq(1)
      client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "racer", value: {}))
      expect(pop_within(received)).to eq("racer")
      handle.close
    end
  end

  describe "stop" do
    it "closes connections still open at the drain deadline and closes the backend" do
      with_tmpdir do |dir|
        server = start_server(backend: :file, path: File.join(dir, "l.wal"), drain_timeout: 0.1)
        socket = op_socket(server)
        op_call(socket, op: "ping")
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        server.stop

        expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
        expect(op_read(socket)).to eq(:eof)
        expect(server.active_connections).to eq(0)
        expect { server.store.write(store: :x, key: "k", value: {}) }.to raise_error(IOError)
      end
    end

    it "closes idle keep-alive clients and subscribers at once instead of waiting out the drain timeout" do
      server = start_server(drain_timeout: 5)
      idle = client_for(server)
      idle.send(:rpc, "ping")
      handle = client_for(server).subscribe(stores: []) { |_f| nil }
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      server.stop

      expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
      expect(server.active_connections).to eq(0)
      expect(server.subscription_count(:tasks)).to eq(0)
      handle.close
    end

    it "lets a request in progress finish during the drain" do
      server = start_server(drain_timeout: 3)
      gate = Queue.new
      allow(server.store).to receive(:fact_log_all).and_wrap_original do |original|
        gate << :entered
        sleep 0.15 # the request is in progress while stop begins
        original.call
      end
      socket = op_socket(server)
      op_send(socket, op: "replay")
      pop_within(gate)
      server.stop

      expect(op_read(socket)).to eq(ok: true, facts: [])
    end

    it "validates transport and backend before creating the WAL file" do
      with_tmpdir do |dir|
        path = File.join(dir, "never.wal")

        expect { Igniter::Store::StoreServer.new(port: 0, backend: :file, path: path, transport: :bogus) }
          .to raise_error(ArgumentError, "Unknown transport: :bogus. Use :tcp or :unix")
        expect { Igniter::Store::StoreServer.new(port: 0, backend: :sql, path: path) }
          .to raise_error(ArgumentError, "StoreServer backend must be :memory, :file, :segmented or :postgres, got :sql")
        expect { Igniter::Store::StoreServer.new(port: 0, backend: :file) }
          .to raise_error(ArgumentError, /requires path/)
        expect(Dir.children(dir)).to eq([])
      end
    end
  end

  describe "error replies" do
    it "carry only the first line of an exception message (no error_highlight snippet)" do
      server = start_server
      error = NoMethodError.new("undefined method `x' for nil:NilClass\n\n  foo.x\n     ^^")
      allow(server.store).to receive(:fact_log_all).and_raise(error)

      expect(op_call(op_socket(server), op: "replay"))
        .to eq(ok: false, error_code: "internal_error", error: "undefined method `x' for nil:NilClass")
    end
  end
end
