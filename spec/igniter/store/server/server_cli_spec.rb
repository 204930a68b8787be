# frozen_string_literal: true

require "net/http"

# The main job: `exe/igniter-ledger-server` with no storage flags runs a
# file-backed ledger in ./igniter-ledger-data/, serves the op protocol and
# HTTP, and drains and exits 0 on SIGTERM / SIGINT.
RSpec.describe "exe/igniter-ledger-server", :servers do
  def dispatch(port, op, packet)
    body = JSON.generate(protocol: "igniter_store", schema_version: 1, request_id: op, op: op, packet: packet)
    response = Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
      http.post("/v1/dispatch", body, "Content-Type" => "application/json")
    end
    JSON.parse(response.body, symbolize_names: true)
  end

  def start_ledger(dir, *args)
    process = spawn_ledger(["--port", "0", "--http-port", "0", "--drain-timeout", "0.5", *args], chdir: dir)
    op = await_line(process, /Listening on 127\.0\.0\.1:(\d+) \(transport=tcp/)[1].to_i
    http = await_line(process, %r{HTTP listening on http://127\.0\.0\.1:(\d+)})[1].to_i
    [process, op, http]
  end

  before { skip "HTTPAdapter not built" unless defined?(Igniter::Store::HTTPAdapter) }

  it "creates ./igniter-ledger-data, writes and reads over HTTP, exits 0 on SIGTERM and keeps the data" do
    with_tmpdir do |dir|
      process, op_port, http_port = start_ledger(dir)
      data_dir = File.realpath(File.join(dir, "igniter-ledger-data"))

      expect(process.lines.first).to include("data in #{data_dir} (created)")
      written = dispatch(http_port, "write", { store: "tasks", key: "t1", value: { title: "Ship", status: "open" } })
      expect(written).to include(status: "ok")
      expect(written[:result]).to include(kind: "receipt", status: "accepted", store: "tasks", key: "t1")
      expect(dispatch(http_port, "read", { store: "tasks", key: "t1" })[:result])
        .to eq(value: { title: "Ship", status: "open" }, found: true)
      legacy = Igniter::Store::NetworkBackend.new(address: "127.0.0.1:#{op_port}")
      expect(legacy.replay.map(&:key)).to eq(["t1"])
      legacy.close

      Process.kill("TERM", process.pid)
      status = await_exit(process)
      expect(status.exitstatus).to eq(0)
      expect(process.lines.join).to include("Stopped.")
      expect(process.lines.join).not_to match(/ThreadError|Traceback|\.rb:\d+:in/)

      again, _op, http_again = start_ledger(dir)
      expect(again.lines.first).not_to include("(created)")
      expect(dispatch(http_again, "read", { store: "tasks", key: "t1" })[:result][:found]).to be(true)
      Process.kill("INT", again.pid)
      expect(await_exit(again).exitstatus).to eq(0)
    end
  end

  it "serves a segmented ledger under DATA_DIR/segments with --backend segmented, reporting its recovery" do
    with_tmpdir do |dir|
      process, _op, http_port = start_ledger(dir, "--backend", "segmented")
      segments = File.realpath(File.join(dir, "igniter-ledger-data", "segments"))

      expect(process.lines.first).to include("data in #{segments} (created), segmented")
      expect(process.lines.join).to include("INFO  server: Recovery: #{segments} opened clean")
      expect(dispatch(http_port, "write", { store: "tasks", key: "t1", value: { n: 1 } })).to include(status: "ok")
      status = JSON.parse(Net::HTTP.get(URI("http://127.0.0.1:#{http_port}/v1/status")))
      expect(status["server"]).to include("backend" => "segmented")
      expect(status["recovery"]).to include("clean" => true)
      expect(status["storage"]["stores"]["tasks"]).to include("fact_count" => 1)

      Process.kill("TERM", process.pid)
      expect(await_exit(process).exitstatus).to eq(0)
    end
  end

  it "runs an in-memory ledger with --backend memory and --no-http, creating no data directory" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--port 0 --backend memory --no-http --drain-timeout 0.2], chdir: dir)
      port = await_line(process, /Listening on 127\.0\.0\.1:(\d+)/)[1].to_i
      client = Igniter::Store::NetworkBackend.new(address: "127.0.0.1:#{port}")

      expect(client.send(:rpc, "ping")).to eq(ok: true, pong: true)
      client.close
      Process.kill("INT", process.pid)
      expect(await_exit(process).exitstatus).to eq(0)
      expect(process.lines.join).not_to include("HTTP listening")
      expect(Dir.children(dir)).to eq([])
    end
  end

  it "takes the token from IGNITER_LEDGER_TOKEN" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--port 0 --backend memory --no-http], chdir: dir,
                                                                      env: { "IGNITER_LEDGER_TOKEN" => "envtok" })
      port = await_line(process, /Listening on 127\.0\.0\.1:(\d+)/)[1].to_i
      fact = Igniter::Store::Fact.build(store: :tasks, key: "t", value: {})
      anonymous = Igniter::Store::NetworkBackend.new(address: "127.0.0.1:#{port}")
      trusted = Igniter::Store::NetworkBackend.new(address: "127.0.0.1:#{port}", token: "envtok")

      expect { anonymous.write_fact(fact) }.to raise_error(Igniter::Store::NetworkBackend::NetworkError, /token/)
      expect(trusted.write_fact(fact)).to be_nil
      [anonymous, trusted].each(&:close)
      Process.kill("TERM", process.pid)
      expect(await_exit(process).exitstatus).to eq(0)
    end
  end

  it "fails with exit 1 and a clear message when the op port is taken" do
    taken = TCPServer.new("127.0.0.1", 0)
    with_tmpdir do |dir|
      process = spawn_ledger(["--port", taken.addr[1].to_s, "--backend", "memory", "--no-http"], chdir: dir)

      expect(await_exit(process).exitstatus).to eq(1)
      expect(process.lines.grep(/Error/)).to eq(["Error: op-protocol listener 127.0.0.1:#{taken.addr[1]}: address " \
                                                  "already in use: another process listens there; stop it or " \
                                                  "choose another --port\n"])
    end
  ensure
    taken&.close
  end

  it "names the HTTP listener when its port is taken, in one line, without a Stopped. for a server never started" do
    taken = TCPServer.new("127.0.0.1", 0)
    with_tmpdir do |dir|
      process = spawn_ledger(["--port", "0", "--http-port", taken.addr[1].to_s, "--backend", "memory"], chdir: dir)

      expect(await_exit(process).exitstatus).to eq(1)
      expect(process.lines.grep(/Error/)).to eq(["Error: HTTP listener 127.0.0.1:#{taken.addr[1]}: address already in " \
                                                  "use: another process listens there; stop it or choose another " \
                                                  "--http-port\n"])
      expect(process.lines.join).not_to include("Stopped.")
    end
  ensure
    taken&.close
  end

  it "says which part of a data directory path is a file, without Errno text, exit 74" do
    with_tmpdir do |dir|
      File.write(File.join(dir, "plain"), "")
      process = spawn_ledger(%w[--port 0 --no-http --data-dir plain/data], chdir: dir)

      expect(await_exit(process).exitstatus).to eq(74)
      real = File.realpath(dir)
      expect(process.lines).to eq(["Error: starting the server: cannot create the directory #{real}/plain/data: " \
                                   "not a directory (#{real}/plain is a file, not a directory); choose another path\n"])
    end
  end

  it "names the durability policy in force in its start-up line" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--port 0 --no-http --durability fsync], chdir: dir)
      line = await_line(process, /Listening on .*/)[0]
      Process.kill("TERM", process.pid)

      expect(line).to match(/\(transport=tcp backend=file durability=fsync\)/)
      expect(await_exit(process).exitstatus).to eq(0)
      other = spawn_ledger(%w[--port 0 --no-http --backend segmented], chdir: dir)
      expect(await_line(other, /Listening on .*/)[0]).to match(/backend=segmented durability=flush\)/)
      Process.kill("TERM", other.pid)
      expect(await_exit(other).exitstatus).to eq(0)
    end
  end

  it "refuses an unknown --log-level naming the levels, exit 1" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--log-level verbose], chdir: dir)

      expect(await_exit(process).exitstatus).to eq(1)
      expect(process.lines.first).to eq("Error: --log-level: unknown value \"verbose\" (use debug, info, warn, error)\n")
    end
  end

  it "logs JSON lines with --log-format json, settings from a config file, and what it recovered" do
    with_tmpdir do |dir|
      File.write(File.join(dir, "ledger.yml"), "log_format: json\nhttp_port: 0\nport: 0\ndrain_timeout: 0.2\n")
      process = spawn_ledger(%w[--config ledger.yml], chdir: dir)
      await_line(process, /"msg":"Listening on/)
      Process.kill("TERM", process.pid)
      expect(await_exit(process).exitstatus).to eq(0)

      json = process.lines.map { |line| JSON.parse(line) }
      expect(json).to all(include("ts", "level", "component", "msg"))
      expect(json.map { |l| l["msg"] }).to include(start_with("igniter-ledger #{Igniter::Store::VERSION}: data in "),
                                                   start_with("Recovery: "), start_with("Configuration from "),
                                                   start_with("HTTP listening on"), "Stopped.")
    end
  end

  it "prints help and refuses unknown flags with exit 1" do
    with_tmpdir do |dir|
      help = spawn_ledger(["--help"], chdir: dir)
      expect(await_exit(help).exitstatus).to eq(0)
      expect(help.lines.first).to eq("Usage: igniter-ledger-server [options]\n")
      expect(help.lines.join).to include("--data-dir DIR", "--no-http", "--max-connections N", "--auth-token TOKEN",
                                         "--read-token TOKEN", "--auth-reads", "--tls-cert FILE", "--log-format FORMAT",
                                         "--config FILE", "--changefeed-alert-queue-pressure-ratio FLOAT")

      bad = spawn_ledger(["--bogus"], chdir: dir)
      expect(await_exit(bad).exitstatus).to eq(1)
      expect(bad.lines).to eq(["Error: invalid option: --bogus\n", "(igniter-ledger-server --help lists the flags)\n"])
    end
  end
end
