# frozen_string_literal: true

require "net/http"

# Two igniter-ledger-server processes over one PostgreSQL database serve one
# ledger: a subscriber of one sees writes made through the other.
RSpec.describe "igniter-ledger-server --backend postgres", :postgres, :servers do
  def start_ledger_server(dir, args, env: {})
    process = spawn_ledger(["--backend", "postgres", "--port", "0", "--http-port", "0", "--drain-timeout", "0.2", *args],
                           chdir: dir, env: env)
    op = await_line(process, /Listening on 127\.0\.0\.1:(\d+) \(transport=tcp backend=postgres durability=commit\)/, timeout: 20)[1].to_i
    http = await_line(process, %r{HTTP listening on (?:http://)?127\.0\.0\.1:(\d+)}, timeout: 20)[1].to_i
    [op, http]
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

  it "refuses --backend postgres without a database URL, naming the flag and the variable" do
    with_tmpdir do |dir|
      process = spawn_ledger(%w[--backend postgres --port 0 --no-http], chdir: dir, env: { "IGNITER_LEDGER_DATABASE_URL" => nil })
      expect(await_exit(process).exitstatus).to eq(1)
      expect(process.lines.join).to include("--backend postgres needs --database-url URL or $IGNITER_LEDGER_DATABASE_URL")
    end
  end
end
