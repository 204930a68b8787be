# frozen_string_literal: true

RSpec.describe Igniter::Store::TCPAdapter do
  let(:interpreter) { Igniter::Store::Protocol.new }
  let(:adapters) { [] }

  def start_adapter(**opts)
    described_class.new(interpreter: interpreter, port: 0, **opts).tap { |a| adapters << a }.start_async
  end

  after { adapters.each(&:stop) }

  describe "envelope dispatch over frames (0.5.2 checklist)" do
    let(:adapter) { start_adapter }

    it "answers metadata_snapshot with an ok envelope" do
      reply = tcp_request(adapter, envelope(:metadata_snapshot, request_id: "r1"))
      expect(reply).to include("protocol" => "igniter_store", "schema_version" => 1, "request_id" => "r1",
                               "status" => "ok")
      expect(reply["result"]["schema_version"]).to eq(1)
    end

    it "answers an unknown op and a wrong protocol with error envelopes" do
      unknown = tcp_request(adapter, envelope(:teleport))
      wrong = tcp_request(adapter, envelope(:read).merge(protocol: "other_proto"))
      expect([unknown["status"], unknown["error"]]).to eq(["error", "Unknown or missing op: :teleport"])
      expect([wrong["status"], wrong["error"]]).to eq(["error", "Unknown protocol: :other_proto"])
    end

    it "registers, writes, reads and queries through the interpreter" do
      reg = tcp_request(adapter, envelope(:register_descriptor,
                                          { schema_version: 1, kind: "store", name: "tasks", key: "id",
                                            fields: [{ name: "label", type: "string" }] }))
      write = tcp_request(adapter, envelope(:write, { store: "tasks", key: "t1", value: { label: "Ship", done: false } }))
      read = tcp_request(adapter, envelope(:read, { store: "tasks", key: "t1" }))
      query = tcp_request(adapter, envelope(:query, { store: "tasks", where: { done: false } }))
      expect(reg["result"]["status"]).to eq("accepted")
      expect(write["result"]).to include("kind" => "receipt", "status" => "accepted", "store" => "tasks", "key" => "t1")
      expect(read["result"]).to eq("value" => { "label" => "Ship", "done" => false }, "found" => true)
      expect(query["result"]["count"]).to eq(1)
    end

    it "serves sync_hub_profile as a serialized profile" do
      tcp_request(adapter, envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }))
      result = tcp_request(adapter, envelope(:sync_hub_profile))["result"]
      expect(result["kind"]).to eq("sync_hub_profile")
      expect(result["facts"].map { |f| f["key"] }).to eq(["t1"])
    end

    it "answers sequential requests on one connection in order" do
      socket = tcp_connect(adapter)
      ids = 3.times.map { |i| tcp_call(socket, envelope(:metadata_snapshot, request_id: i))["request_id"] }
      expect(ids).to eq([0, 1, 2])
    ensure
      socket&.close
    end

    it "serves concurrent clients" do
      replies = 3.times.map do |i|
        Thread.new { tcp_request(adapter, envelope(:metadata_snapshot, request_id: "c#{i}")) }
      end.map(&:value)
      expect(replies.map { |r| r["request_id"] }).to eq(%w[c0 c1 c2])
      expect(replies.map { |r| r["status"] }.uniq).to eq(["ok"])
    end
  end

  describe "#bind_address" do
    it "reports the configured port without starting" do
      port = free_port
      adapter = described_class.new(interpreter: interpreter, port: port).tap { |a| adapters << a }
      expect(adapter.bind_address).to eq("127.0.0.1:#{port}")
    end

    it "reports the real ephemeral port for port 0 (0.5.2 said :0)" do
      adapter = described_class.new(interpreter: interpreter, port: 0).tap { |a| adapters << a }
      port = port_of(adapter.bind_address)
      expect(port).to be > 0
      expect { TCPSocket.new("127.0.0.1", port).close }.not_to raise_error
    end

    it "is the socket path for the unix transport" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "envelope.sock")
        adapter = described_class.new(interpreter: interpreter, host: path, transport: :unix).start_async
        socket = UNIXSocket.new(path)
        socket.write(raw_frame(JSON.generate(envelope(:metadata_snapshot))))
        expect(adapter.bind_address).to eq(path)
        expect(read_reply(socket)["status"]).to eq("ok")
        socket.close
        adapter.stop
        expect(File.exist?(path)).to be(false)
      end
    end
  end

  it "rejects an unknown transport before binding" do
    expect { described_class.new(interpreter: interpreter, transport: :udp) }
      .to raise_error(ArgumentError, "Unknown transport: :udp. Use :tcp or :unix")
  end

  it "raises on a port that is already in use" do
    first = start_adapter
    expect { described_class.new(interpreter: interpreter, port: port_of(first.bind_address)) }
      .to raise_error(Errno::EADDRINUSE)
  end

  describe "auth_token" do
    let(:adapter) { start_adapter(auth_token: "s3cret") }

    it "refuses mutating ops without the token and leaves the store untouched" do
      reply = tcp_request(adapter, envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }, request_id: 7))
      expect(reply).to include("status" => "error", "error" => "Unauthorized", "request_id" => 7)
      expect(interpreter.read(store: :tasks, key: "t1")).to be_nil
    end

    it "refuses a wrong token" do
      reply = tcp_request(adapter, envelope(:write, { store: "tasks", key: "t1", value: {} }, token: "guess"))
      expect(reply["error"]).to eq("Unauthorized")
    end

    it "accepts mutating ops with the token and keeps reads open" do
      write = tcp_request(adapter, envelope(:write, { store: "tasks", key: "t1", value: { n: 1 } }, token: "s3cret"))
      read = tcp_request(adapter, envelope(:read, { store: "tasks", key: "t1" }))
      expect(write["status"]).to eq("ok")
      expect(read["result"]).to eq("value" => { "n" => 1 }, "found" => true)
    end

    it "rejects an empty token at construction" do
      expect { described_class.new(interpreter: interpreter, port: 0, auth_token: "") }
        .to raise_error(ArgumentError, /auth_token/)
    end
  end

  describe "limits and faults" do
    it "refuses a frame above max_frame_bytes from its header alone, then closes" do
      adapter = start_adapter(max_frame_bytes: 1024)
      socket = tcp_connect(adapter)
      socket.write([0xFFFF_FFF0].pack("N")) # a 4 GiB promise, never followed by a body
      reply = read_reply(socket)
      expect(reply["error"]).to eq("Frame of 4294967280 bytes exceeds max_frame_bytes 1024")
      expect(closed_by_peer?(socket)).to be(true)
    ensure
      socket&.close
    end

    it "answers a frame with a bad CRC with an error, then closes" do
      adapter = start_adapter
      socket = tcp_connect(adapter)
      frame = raw_frame(JSON.generate(envelope(:metadata_snapshot)))
      frame[-1] = (frame[-1].ord ^ 0xFF).chr
      socket.write(frame)
      expect(read_reply(socket)["error"]).to eq("Corrupt frame: CRC mismatch")
      expect(closed_by_peer?(socket)).to be(true)
    ensure
      socket&.close
    end

    it "answers a JSON body that is not an object with an internal error envelope" do
      adapter = start_adapter
      reply = tcp_request(adapter, [1, 2])
      expect(reply).to include("status" => "error", "request_id" => nil)
      expect(reply["error"]).to start_with("Internal error: ")
    end

    it "answers well-framed non-JSON and non-UTF-8 bodies with error envelopes and keeps the connection" do
      adapter = start_adapter
      socket = tcp_connect(adapter)
      socket.write(raw_frame("{not json"))
      bad = read_reply(socket)
      expect(bad["status"]).to eq("error")
      expect(bad["error"]).to start_with("Invalid JSON: ")
      socket.write(raw_frame("\xFF\xFE{".b))
      expect(read_reply(socket)["error"]).to eq("Invalid JSON: body is not valid UTF-8")
      expect(tcp_call(socket, envelope(:metadata_snapshot))["status"]).to eq("ok")
    ensure
      socket&.close
    end

    it "closes a connection whose frame stalls past read_timeout" do
      adapter = start_adapter(read_timeout: 0.2)
      socket = tcp_connect(adapter)
      socket.write(raw_frame(JSON.generate(envelope(:metadata_snapshot)))[0, 6])
      expect(closed_by_peer?(socket)).to be(true)
      expect(wait_until { adapter.active_connections.zero? }).to be(true)
    ensure
      socket&.close
    end

    it "closes a connection idle past idle_timeout" do
      adapter = start_adapter(idle_timeout: 0.2)
      socket = tcp_connect(adapter)
      expect(closed_by_peer?(socket)).to be(true)
    ensure
      socket&.close
    end

    it "refuses connections beyond max_connections with an error, serving the admitted ones" do
      adapter = start_adapter(max_connections: 1)
      first = tcp_connect(adapter)
      expect(tcp_call(first, envelope(:metadata_snapshot))["status"]).to eq("ok")
      second = tcp_connect(adapter)
      expect(read_reply(second)["error"]).to eq("Too many connections")
      expect(tcp_call(first, envelope(:metadata_snapshot))["status"]).to eq("ok")
    ensure
      first&.close
      second&.close
    end

    it "does not send Ruby error-highlight snippets to clients" do
      adapter = start_adapter
      reply = tcp_request(adapter, envelope(:read, { store: 5, key: "k" }))
      expect(reply["status"]).to eq("error")
      expect(reply["error"]).to start_with("Internal error: ")
      expect(reply["error"]).not_to include("\n")
      expect(reply["error"]).not_to include("^^")
    end

    it "logs unexpected connection errors through the logger, not $stderr" do
      failing = Object.new
      wire = Object.new
      def wire.dispatch_classified(_env) = raise(NoMethodError, "boom\n  snippet ^^^^")
      failing.define_singleton_method(:wire) { wire }
      logger = Class.new do
        attr_reader :lines

        def initialize = @lines = Queue.new
        def warn(msg) = @lines << msg
        def info(msg) = @lines << msg
      end.new
      adapter = described_class.new(interpreter: failing, port: 0, logger: logger).tap { |a| adapters << a }.start_async
      expect { tcp_request(adapter, envelope(:metadata_snapshot)) }.not_to output.to_stderr
      expect(wait_until { !logger.lines.empty? }).to be(true)
      expect(logger.lines.pop).to eq("TCPAdapter: client error: NoMethodError: boom")
    end
  end

  describe "#stop" do
    it "closes open client connections promptly and refuses new ones" do
      adapter = start_adapter
      clients = 3.times.map { tcp_connect(adapter) }
      clients.each { |c| expect(tcp_call(c, envelope(:metadata_snapshot))["status"]).to eq("ok") }
      adapter.stop
      expect(clients.map { |c| closed_by_peer?(c, timeout: 1) }).to eq([true, true, true])
      expect { TCPSocket.new("127.0.0.1", port_of(adapter.bind_address)) }.to raise_error(Errno::ECONNREFUSED)
    ensure
      clients&.each(&:close)
    end

    it "is idempotent and works on an adapter never started" do
      adapter = described_class.new(interpreter: interpreter, port: 0)
      expect(adapter.stop).to be(adapter)
      expect(adapter.stop).to be(adapter)
    end
  end
end
