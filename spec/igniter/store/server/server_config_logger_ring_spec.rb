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
    stamp = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:[+-]\d{2}:\d{2}|Z)/

    it "writes text lines as `ISO-8601 time with zone, LEVEL, component: message key=value`" do
      io = StringIO.new
      described_class.new(io, :info).info("hello", peer: "127.0.0.1", note: "two words", n: 3)

      expect(io.string).to match(/\A#{stamp} INFO  server: hello peer=127\.0\.0\.1 note="two words" n=3\n\z/)
    end

    it "writes json lines as one object with ts, level, component, msg and the fields" do
      io = StringIO.new
      described_class.new(io, :debug, format: :json).warn("disk slow", path: "/data", ms: 12.5)

      line = JSON.parse(io.string)
      expect(line.keys.first(4)).to eq(%w[ts level component msg])
      expect(line).to include("level" => "warn", "component" => "server", "msg" => "disk slow", "path" => "/data",
                              "ms" => 12.5)
      expect(line["ts"]).to match(/\A#{stamp}\z/)
    end

    it "names the component of loggers made with #for, sharing the destination and level" do
      io = StringIO.new
      logger = described_class.new(io, :warn)
      http = logger.for("http")
      http.info("hidden")
      http.warn("shown")
      logger.error("also shown")

      expect(io.string.lines.map { |l| l[/(?:WARN |ERROR) (\w+):/, 1] }).to eq(%w[http server])
      expect(http.level).to eq(:warn)
    end

    it "suppresses lines below its level" do
      io = StringIO.new
      logger = described_class.new(io, :warn)
      logger.info("hidden")
      logger.debug("hidden")
      logger.error("shown")

      expect(io.string.lines.size).to eq(1)
      expect(io.string).to include("ERROR server: shown")
    end

    it "refuses an unknown level or format, naming the allowed ones" do
      expect { described_class.new(StringIO.new, :verbose) }
        .to raise_error(ArgumentError, 'unknown log level "verbose" (use debug, info, warn, error)')
      expect { described_class.new(StringIO.new, :info, format: :xml) }
        .to raise_error(ArgumentError, 'unknown log format "xml" (use text or json)')
      expect(described_class.new(nil, "WARN").level).to eq(:warn)
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
      expect(io.string.lines).to all(match(/\A#{stamp} INFO  server: t\d line \d+\n\z/))
    end

    it "writes events in the same format: the event name as message, the attributes as fields" do
      text = StringIO.new
      json = StringIO.new
      described_class.new(text, :info).event(:connection_open, connection_id: "ab", remote_addr: "127.0.0.1")
      described_class.new(json, :info, format: :json).event(:connection_open, connection_id: "ab")

      expect(text.string).to match(/\A#{stamp} INFO  server: connection_open connection_id=ab remote_addr=127\.0\.0\.1\n\z/)
      expect(JSON.parse(json.string)).to include("msg" => "connection_open", "event" => "connection_open",
                                                 "connection_id" => "ab", "level" => "info")
    end

    it "drops debug events at info level and keeps 20 concurrent events whole" do
      io = StringIO.new
      logger = described_class.new(io, :info, format: :json)
      logger.event(:request, level: :debug, op: "ping")
      20.times.map { |i| Thread.new { logger.event(:request, n: i) } }.each(&:join)

      expect(io.string.lines.size).to eq(20)
      expect(io.string.lines.map { |line| JSON.parse(line)["n"] }.sort).to eq((0..19).to_a)
    end

    it "keeps a message with line breaks on one line" do
      io = StringIO.new
      described_class.new(io).info("first\nsecond")

      expect(io.string.lines.size).to eq(1)
      expect(io.string).to include("first | second")
    end

    it "swallows a closed IO without a word on stderr" do
      io = StringIO.new
      io.close

      expect { described_class.new(io).info("x") }.not_to output.to_stderr
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
