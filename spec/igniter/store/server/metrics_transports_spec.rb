# frozen_string_literal: true

require "net/http"

# One server with every transport: traffic on each shows in `GET /metrics`
# (Prometheus text, checked with promtool) and in `GET /v1/metrics` (JSON)
# with the same numbers.
RSpec.describe "Server metrics over every transport", :servers do
  include LedgerSpec::AdapterHelpers

  let(:server) { build_server.tap { |s| s.start_adapters(http_port: 0, tcp_port: 0) }.tap(&:start_async) }
  let(:http_port) { port_of(server.http_adapter.bind_address) }

  def scrape
    response = http_get(http_port, "/metrics")
    expect(response["Content-Type"]).to eq("text/plain; version=0.0.4; charset=utf-8")
    response.body
  end

  def traffic
    fact = ->(key) { Igniter::Store::Fact.build(store: :tasks, key: key, value: { n: key }) }
    op = client_for(server)
    op.write_fact(fact.call("op1"))
    op.write_fact(fact.call("op2"))
    op.replay
    expect { op.send(:rpc, "nope") }.to raise_error(Igniter::Store::NetworkBackend::NetworkError)

    expect(tcp_request(server.tcp_adapter, envelope(:write, { store: "tasks", key: "tcp1", value: { n: 1 } })))
      .to include("status" => "ok")
    expect(tcp_request(server.tcp_adapter, envelope(:teleport))).to include("status" => "error")

    4.times do |i|
      written = http_post_json(http_port, "/v1/dispatch", envelope(:write, { store: "tasks", key: "h#{i}", value: {} }))
      expect(written.code).to eq("200")
    end
    expect(http_post_json(http_port, "/v1/dispatch", envelope(:replay, { filter: { store: "tasks" } })).code)
      .to eq("200")
    expect(http_get(http_port, "/v1/nowhere").code).to eq("404")

    mcp = server.mcp_adapter
    expect(mcp.call_tool(:read, store: "tasks", key: "h0")).to include(status: :ok)
    expect(mcp.call_tool(:replay, store: "tasks", limit: 3)[:result][:count]).to eq(3)
    expect(mcp.call_tool(:read, key: "no store")).to include(status: :error)
  end

  it "counts requests, facts, bytes, connections and durations of the op protocol, envelope TCP, HTTP and MCP" do
    traffic
    samples = prometheus_samples(scrape)
    requests = "igniter_ledger_requests_total"

    expect(sample_value(samples, requests, transport: :op, op: :write_fact, status: :ok)).to eq(2)
    expect(sample_value(samples, requests, transport: :op, op: :replay, status: :ok)).to be >= 1
    expect(sample_value(samples, requests, transport: :op, op: :unknown, status: :unknown_op)).to eq(1)
    expect(sample_value(samples, requests, transport: :tcp, op: :write, status: :ok)).to eq(1)
    expect(sample_value(samples, requests, transport: :tcp, op: :unknown, status: :unknown_op)).to eq(1)
    expect(sample_value(samples, requests, transport: :http, op: :write, status: 200)).to eq(4)
    expect(sample_value(samples, requests, transport: :http, op: :not_found, status: 404)).to eq(1)
    expect(sample_value(samples, requests, transport: :mcp, op: :read, status: :ok)).to eq(1)
    expect(sample_value(samples, requests, transport: :mcp, op: :read, status: :error)).to eq(1)

    written = "igniter_ledger_facts_written_total"
    expect(%i[op tcp http].map { |t| sample_value(samples, written, transport: t) }).to eq([2, 1, 4])
    expect(sample_value(samples, "igniter_ledger_facts_replayed_total", transport: :http)).to eq(7)
    expect(sample_value(samples, "igniter_ledger_facts_replayed_total", transport: :mcp)).to eq(3)
    expect(sample_value(samples, "igniter_ledger_facts")).to eq(7)

    %i[op tcp http].each do |transport|
      expect(sample_value(samples, "igniter_ledger_received_bytes_total", transport: transport)).to be_positive
      expect(sample_value(samples, "igniter_ledger_sent_bytes_total", transport: transport)).to be_positive
      expect(sample_value(samples, "igniter_ledger_request_duration_seconds_count", transport: transport))
        .to be_positive
    end
    expect(sample_value(samples, "igniter_ledger_connections_accepted_total", transport: :op)).to be >= 1
    expect(sample_value(samples, "igniter_ledger_connections_accepted_total", transport: :tcp)).to eq(2)
    expect(sample_value(samples, "igniter_ledger_errors_total", transport: :http, class: :NotFound)).to eq(1)
    expect(sample_value(samples, "igniter_ledger_errors_total", transport: :op, class: :RequestError)).to eq(1)
    expect(sample_value(samples, "igniter_ledger_errors_total", transport: :tcp, class: :NotFound)).to eq(1)
    expect(sample_value(samples, "igniter_ledger_changefeed_emitted_total")).to eq(7)
    expect(sample_value(samples, "igniter_ledger_start_time_seconds")).to be_within(60).of(Time.now.to_f)
    expect(samples.find { |s| s[:name] == "igniter_ledger_build_info" }[:labels])
      .to eq("version" => Igniter::Store::VERSION, "core" => Igniter::Store::NATIVE ? "native" : "pure")
  end

  it "passes promtool check metrics" do
    traffic
    out, status = promtool_check(scrape)

    expect(status).to be_success, out
    expect(out).to be_empty
  end

  it "shows the same numbers in GET /v1/metrics as JSON" do
    traffic
    json = JSON.parse(http_get(http_port, "/v1/metrics").body)
    text = prometheus_samples(scrape)

    # The 0.5.2 keys now count every transport ...
    expect(json["facts_written"]).to eq(7)
    expect(json["requests_total"]["write"]).to eq(5) # 4 HTTP + 1 envelope TCP
    # ... and the series are those of the Prometheus text.
    written = json["series"].find { |family| family["name"] == "igniter_ledger_facts_written_total" }
    expect(written["samples"].to_h { |s| [s["labels"]["transport"], s["value"]] }).to eq("op" => 2, "tcp" => 1, "http" => 4)
    requests = json["series"].find { |family| family["name"] == "igniter_ledger_requests_total" }
    requests["samples"].each do |sample|
      scraped = sample_value(text, "igniter_ledger_requests_total", **sample["labels"].transform_keys(&:to_sym))
      # The scrape counts the /v1/metrics request that came before it.
      expect(scraped - sample["value"]).to be_between(0, 1), sample.inspect
    end
  end

  it "reports subscribers and their lag on the op protocol and SSE" do
    pushed = Queue.new
    subscription = client_for(server).subscribe(stores: [:tasks]) { |fact| pushed << fact }
    thread, _chunks = http_stream(http_port, "/v1/events")
    poll_until(message: "SSE stream not open") { server.http_adapter.open_streams == 1 }
    samples = prometheus_samples(scrape)

    expect(sample_value(samples, "igniter_ledger_subscribers", transport: :op)).to eq(1)
    expect(sample_value(samples, "igniter_ledger_subscribers", transport: :http)).to eq(1)
    expect(sample_value(samples, "igniter_ledger_subscriber_lag_events", transport: :http)).to eq(0)
    subscription.close
    server.stop
    thread.join(3)
  end

  it "reports the recovery of a damaged ledger and its WAL size" do
    with_tmpdir do |dir|
      wal = File.join(dir, "ledger.wal")
      store = Igniter::Store::IgniterStore.open(wal)
      3.times { |i| store.write(store: :tasks, key: "k#{i}", value: { i: i }) }
      store.close
      File.open(wal, "ab") { |io| io.write("\x00\x00\x01") } # a torn frame header
      damaged = build_server(backend: :file, path: wal).tap { |s| s.start_adapters(http_port: 0) }
      samples = prometheus_samples(http_get(port_of(damaged.http_adapter.bind_address), "/metrics").body)

      expect(sample_value(samples, "igniter_ledger_recovery_damaged_files")).to eq(1)
      expect(sample_value(samples, "igniter_ledger_recovery_cut_bytes")).to eq(3)
      expect(sample_value(samples, "igniter_ledger_storage_bytes", file: :wal)).to eq(File.size(wal))
      damaged.stop
    end
  end
end
