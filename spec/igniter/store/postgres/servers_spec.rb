# frozen_string_literal: true

require "net/http"

# Two igniter-ledger-server processes over one PostgreSQL database serve one
# ledger: a subscriber of one sees writes made through the other.
RSpec.describe "igniter-ledger-server --backend postgres", :postgres, :servers do
  include LedgerSpec::AdapterHelpers

  def start_ledger_server(dir, args, env: {})
    start_ledger_process(dir, args, env: env).last
  end

  # @return [Array(LedgerProcess, Array(Integer, Integer))] the process, its op and HTTP ports
  def start_ledger_process(dir, args, env: {})
    process = spawn_ledger(["--backend", "postgres", "--port", "0", "--http-port", "0", "--drain-timeout", "0.2", *args],
                           chdir: dir, env: env)
    op = await_line(process, /Listening on 127\.0\.0\.1:(\d+) \(transport=tcp backend=postgres durability=commit\)/, timeout: 20)[1].to_i
    http = await_line(process, %r{HTTP listening on (?:http://)?127\.0\.0\.1:(\d+)}, timeout: 20)[1].to_i
    [process, [op, http]]
  end

  it "shows an SSE client of server 1 a write made through server 2" do
    pg_schemas << Igniter::Store::Postgres::Config::DEFAULT_SCHEMA # the servers' schema, dropped afterwards
    with_tmpdir do |dir|
      _, http_one = start_ledger_server(dir, ["--database-url", pg_url])
      op_two, = start_ledger_server(dir, [], env: { "IGNITER_LEDGER_DATABASE_URL" => pg_url })

      chunks = Queue.new
      reader = Thread.new do
        Net::HTTP.start("127.0.0.1", http_one, read_timeout: 10) do |http|
          http.request(Net::HTTP::Get.new("/v1/events?store=tasks")) { |response| response.read_body { |c| chunks << c } }
        end
      rescue IOError, SystemCallError
        nil
      end

      client = Igniter::Store::NetworkBackend.new(address: "127.0.0.1:#{op_two}")
      tracked_clients << client
      text = +""
      # The SSE stream starts at "now": write until server 1 has a subscriber that sees one.
      poll_until(timeout: 10, message: "no SSE event for a write through server 2") do
        client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "via-two", value: { n: 1 }))
        sleep 0.1
        text << chunks.pop until chunks.empty?
        text.include?("via-two")
      end
      data = JSON.parse(text[/^data: (.*via-two.*)$/, 1], symbolize_names: true)
      expect(data).to include(type: "fact_committed", store: "tasks", key: "via-two")
      reader.kill
      reader.join(1)
    end
  end

  it "resumes an SSE stream from a position sent before the server restarted (doc/feed_positions.md)" do
    pg_schemas << Igniter::Store::Postgres::Config::DEFAULT_SCHEMA
    with_tmpdir do |dir|
      write = lambda do |port, key|
        envelope = { protocol: "igniter_store", schema_version: 1, op: "write",
                     packet: { store: "tasks", key: key, value: { key: key } } }
        Net::HTTP.start("127.0.0.1", port) { |http| http.post("/v1/dispatch", JSON.generate(envelope), "Content-Type" => "application/json") }
      end
      process, (_, http_one) = start_ledger_process(dir, ["--database-url", pg_url])
      %w[k1 k2 k3].each { |key| write.call(http_one, key) }
      before = sse_read(http_one, 3)
      expect(before.map { |f| f[:data]["key"] }).to eq(%w[k1 k2 k3])
      Process.kill("TERM", process.pid)
      expect(await_exit(process).exitstatus).to eq(0)

      _, (_, http_two) = start_ledger_process(dir, ["--database-url", pg_url])
      write.call(http_two, "k4")
      frames = sse_read(http_two, 3, "Last-Event-ID" => before[1][:id]) do
        sleep 0.2
        write.call(http_two, "k5")
      end
      expect(frames.map { |f| f[:data]["key"] }).to eq(%w[k3 k4 k5])
      expect(frames.first[:id]).to eq(before[2][:id])
    end
  end

  it "refuses --backend postgres without a database URL, naming the flag and the variable" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--backend postgres --port 0 --no-http], chdir: dir, env: { "IGNITER_LEDGER_DATABASE_URL" => nil })
      expect(await_exit(process).exitstatus).to eq(1)
      expect(process.lines.join).to include("--backend postgres needs --database-url URL or $IGNITER_LEDGER_DATABASE_URL")
    end
  end
end
