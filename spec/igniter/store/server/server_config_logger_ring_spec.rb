# frozen_string_literal: true

RSpec.describe "ServerConfig, ServerLogger and EventRing" do
  describe Igniter::Store::ServerConfig do
    it "defaults to loopback 7400 over tcp with an in-memory backend, 5 s drain and 256 connections" do
      config = described_class.new

      expect(config.host).to eq("127.0.0.1")
      expect(config.port).to eq(7400)
      expect(config.transport).to eq(:tcp)
      expect(config.backend).to eq(:memory)
      expect(config.path).to be_nil
      expect(config.log_level).to eq(:info)
      expect(config.pid_file).to be_nil
      expect(config.drain_timeout).to eq(5)
      expect(config.max_connections).to eq(256)
      expect(config.max_frame_bytes).to eq(16 * 1024 * 1024)
      expect(config.auth_token).to be_nil
      expect(config.changefeed).to eq({})
    end

    it "keeps overrides as given" do
      config = described_class.new(host: "0.0.0.0", port: 9000, backend: :file, path: "/tmp/x.wal", drain_timeout: 1)

      expect([config.host, config.port, config.backend, config.path, config.drain_timeout])
        .to eq(["0.0.0.0", 9000, :file, "/tmp/x.wal", 1])
    end

    it "refuses unknown keys, naming them" do
      expect { described_class.new(unknown_key: 1) }.to raise_error(ArgumentError, /Unknown.*unknown_key/)
    end

    it "formats bind_address as host:port, or the path for unix" do
      expect(described_class.new(host: "10.0.0.1", port: 8080).bind_address).to eq("10.0.0.1:8080")
      expect(described_class.new(host: "/tmp/l.sock", transport: :unix).bind_address).to eq("/tmp/l.sock")
    end

    it "lists the 0.5.2 keys first in to_h, in DEFAULTS order" do
      h = described_class.new(port: 1).to_h

      expect(h.keys.first(11)).to eq(%i[host port transport backend path log_io log_level pid_file drain_timeout
                                         max_connections changefeed])
      expect(h).to include(host: "127.0.0.1", port: 1, transport: :tcp, backend: :memory, drain_timeout: 5)
    end

    it "gives each config its own default changefeed Hash" do
      a = described_class.new
      b = described_class.new
      a.changefeed[:max_size] = 3

      expect(b.changefeed).to eq({})
      expect(described_class::DEFAULTS[:changefeed]).to eq({})
    end
  end

  describe Igniter::Store::ServerLogger do
    it "writes `[local timestamp] LEVEL message` lines" do
      io = StringIO.new
      described_class.new(io, :info).info("hello")

      expect(io.string).to match(/\A\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\] INFO  hello\n\z/)
    end

    it "suppresses lines below its level and treats unknown levels as info" do
      io = StringIO.new
      logger = described_class.new(io, :warn)
      logger.info("hidden")
      logger.debug("hidden")
      logger.error("shown")

      expect(io.string.lines.size).to eq(1)
      expect(io.string).to include("ERROR shown")
      expect(described_class.new(io, :loud).level).to eq(:info)
    end

    it "is silent with a nil IO" do
      logger = described_class.new(nil, :debug)

      expect { logger.info("x") }.not_to raise_error
      expect(logger.event(:server_start, x: 1)).to be_nil
    end

    it "never interleaves concurrent lines" do
      io = StringIO.new
      logger = described_class.new(io, :info)
      10.times.map { |t| Thread.new { 20.times { |i| logger.info("t#{t} line #{i}") } } }.each(&:join)

      expect(io.string.lines.size).to eq(200)
      expect(io.string.lines).to all(start_with("["))
    end

    it "writes events as `[EVENT] ` and one JSON object with event, ts and the attributes" do
      io = StringIO.new
      described_class.new(io, :info).event(:connection_open, connection_id: "ab", remote_addr: "127.0.0.1")

      expect(io.string).to start_with("[EVENT] ")
      json = JSON.parse(io.string.delete_prefix("[EVENT] "))
      expect(json).to include("event" => "connection_open", "connection_id" => "ab", "remote_addr" => "127.0.0.1")
      expect(json["ts"]).to match(/\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}\z/)
    end

    it "drops debug events at info level and keeps 20 concurrent events whole" do
      io = StringIO.new
      logger = described_class.new(io, :info)
      logger.event(:request, level: :debug, op: "ping")
      20.times.map { |i| Thread.new { logger.event(:request, n: i) } }.each(&:join)

      expect(io.string.lines.size).to eq(20)
      expect(io.string.lines).to all(start_with("[EVENT] "))
    end

    it "swallows a closed IO" do
      io = StringIO.new
      io.close

      expect { described_class.new(io).info("x") }.not_to raise_error
    end
  end

  describe Igniter::Store::EventRing do
    it "keeps the newest entries, oldest first" do
      ring = described_class.new(3)
      4.times { |i| ring.push("e#{i}") }

      expect(ring.to_a).to eq(%w[e1 e2 e3])
      expect(ring.size).to eq(3)
    end

    it "returns a copy from to_a" do
      ring = described_class.new(2)
      ring.push(:a)
      ring.to_a << :b

      expect(ring.to_a).to eq([:a])
    end

    it "is safe under concurrent pushes" do
      ring = described_class.new(200)
      100.times.map { |i| Thread.new { ring.push(i) } }.each(&:join)

      expect(ring.size).to eq(100)
    end

    it "refuses a non-positive capacity" do
      expect { described_class.new(0) }.to raise_error(ArgumentError, /max_size/)
    end
  end
end
