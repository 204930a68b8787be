# frozen_string_literal: true

RSpec.describe "HTTPAdapter read-only surface: ready, metrics, recent events, status, compaction activity" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:interpreter) { Igniter::Store::Protocol.new(store) }

  def app_with(**providers)
    Igniter::Store::HTTPAdapter.new(interpreter: interpreter, **providers).rack_app
  end

  def get(app, path, query: nil)
    app.call(rack_env("GET", path, query: query))
  end

  describe "GET /v1/ready" do
    it "is 200 ready while the provider is truthy" do
      response = get(app_with(ready_provider: -> { true }), "/v1/ready")
      expect([response[0], json_body(response)]).to eq([200, { "status" => "ready" }])
    end

    it "is 503 unavailable while the provider is falsy" do
      response = get(app_with(ready_provider: -> { false }), "/v1/ready")
      expect([response[0], json_body(response)]).to eq([503, { "status" => "unavailable" }])
    end

    it "is ready without a provider" do
      expect(get(app_with, "/v1/ready")[0]).to eq(200)
    end

    it "answers POST with 405" do
      expect(app_with.call(rack_env("POST", "/v1/ready"))[0]).to eq(405)
    end
  end

  describe "GET /v1/metrics" do
    it "returns the provider's metrics" do
      response = get(app_with(metrics_provider: -> { { requests_total: { "write" => 2 }, facts_written: 2 } }), "/v1/metrics")
      expect(json_body(response)).to eq("requests_total" => { "write" => 2 }, "facts_written" => 2)
    end

    it "returns the adapter's own counts without a provider (mounted in another app, it still counts)" do
      app = app_with
      3.times { get(app, "/v1/health") }
      metrics = json_body(get(app, "/v1/metrics"))

      expect(metrics["requests_total"]).to eq("/v1/health" => 3)
      requests = metrics["series"].find { |family| family["name"] == "igniter_ledger_requests_total" }
      expect(requests["samples"])
        .to eq([{ "labels" => { "transport" => "http", "op" => "/v1/health", "status" => "200" }, "value" => 3 }])
    end

    it "answers POST with 405" do
      expect(app_with.call(rack_env("POST", "/v1/metrics"))[0]).to eq(405)
    end
  end

  describe "GET /v1/events/recent" do
    it "wraps the provider's events with a count" do
      events = [{ type: :server_start, level: :info }, { type: :connection_open, level: :info }]
      body = json_body(get(app_with(events_provider: -> { events }), "/v1/events/recent"))
      expect(body["count"]).to eq(2)
      expect(body["events"].map { |e| e["type"] }).to eq(%w[server_start connection_open])
    end

    it "is empty without a provider" do
      expect(json_body(get(app_with, "/v1/events/recent"))).to eq("events" => [], "count" => 0)
    end

    it "answers POST with 405" do
      expect(app_with.call(rack_env("POST", "/v1/events/recent"))[0]).to eq(405)
    end
  end

  describe "GET /v1/status" do
    it "returns the interpreter's observability snapshot standalone" do
      body = json_body(get(app_with, "/v1/status"))
      expect(body.keys).to eq(%w[schema_version generated_at status uptime_ms metrics alerts storage server])
      expect(body).to include("schema_version" => 1, "status" => "ready", "alerts" => [], "server" => nil)
    end

    it "returns the status provider's snapshot when given" do
      snapshot = { schema_version: 1, status: :draining, server: { backend: "memory" }, changefeed: { buffered: 0 } }
      body = json_body(get(app_with(status_provider: -> { snapshot }), "/v1/status"))
      expect(body).to eq("schema_version" => 1, "status" => "draining", "server" => { "backend" => "memory" },
                         "changefeed" => { "buffered" => 0 })
    end

    it "answers POST with 405" do
      expect(app_with.call(rack_env("POST", "/v1/status"))[0]).to eq(405)
    end
  end

  describe "GET /v1/health" do
    it "returns the compact health provider payload unchanged" do
      health = { schema_version: 1, status: :ready, backend: "memory", transport: "tcp", active_connections: 0 }
      body = json_body(get(app_with(health_provider: -> { health }), "/v1/health"))
      expect(body).to eq("schema_version" => 1, "status" => "ready", "backend" => "memory", "transport" => "tcp",
                         "active_connections" => 0)
    end
  end

  describe "GET /v1/compaction/activity" do
    let(:app) { app_with }

    before do
      store.set_retention(:things, strategy: :ephemeral)
      2.times { |i| interpreter.write(store: :things, key: "k", value: { i: i }) }
      store.compact(:things)
      doomed = interpreter.write(store: :other, key: "x", value: { n: 1 })
      store.prune_fact_ids(fact_ids: [doomed.fact_id], reason: :erasure)
    end

    it "returns every activity entry with nil filters" do
      body = json_body(get(app, "/v1/compaction/activity"))
      expect(body.keys).to eq(%w[schema_version generated_at filters activity count])
      expect(body["filters"]).to eq("store" => nil, "kind" => nil, "since" => nil, "limit" => nil)
      expect(body["activity"].map { |e| e["kind"] }).to eq(%w[retention_compaction exact_prune])
      expect(body["count"]).to eq(2)
    end

    it "filters by store" do
      body = json_body(get(app, "/v1/compaction/activity", query: "store=things"))
      expect([body["count"], body["filters"]["store"]]).to eq([1, "things"])
    end

    it "filters by kind" do
      body = json_body(get(app, "/v1/compaction/activity", query: "kind=exact_prune"))
      expect(body["activity"].map { |e| e["reason"] }).to eq(["erasure"])
    end

    it "parses since as a Float and limit as an Integer and echoes them" do
      body = json_body(get(app, "/v1/compaction/activity", query: "since=1714000000&limit=10"))
      expect(body["filters"]).to eq("store" => nil, "kind" => nil, "since" => 1_714_000_000.0, "limit" => 10)
    end

    it "applies limit" do
      expect(json_body(get(app, "/v1/compaction/activity", query: "limit=1"))["count"]).to eq(1)
    end

    it "answers a since that is neither seconds nor ISO-8601 with 400" do
      response = get(app, "/v1/compaction/activity", query: "since=abc")
      expect([response[0], json_body(response)]).to eq(
        [400, { "error" => "Invalid value for 'since': since must be seconds since the epoch or an ISO-8601 time " \
                           "with a zone (2026-11-26T10:30:21Z), got \"abc\"" }]
      )
    end

    it "takes since as ISO-8601 as well as seconds" do
      all = json_body(get(app, "/v1/compaction/activity"))["count"]
      expect(json_body(get(app, "/v1/compaction/activity", query: "since=1970-01-01T00:00:00Z"))["count"]).to eq(all)
      expect(json_body(get(app, "/v1/compaction/activity", query: "since=2999-01-01T00:00:00Z"))["count"]).to eq(0)
    end

    it "answers a non-integer limit with 400" do
      response = get(app, "/v1/compaction/activity", query: "limit=1.5")
      expect([response[0], json_body(response)]).to eq([400, { "error" => "Invalid integer value for 'limit': \"1.5\"" }])
    end

    it "answers a negative limit with 400 naming the limit" do
      response = get(app, "/v1/compaction/activity", query: "limit=-1")
      expect(response[0]).to eq(400)
      expect(json_body(response)["error"]).to match(/limit must be >= 0/)
    end

    it "answers POST with 405" do
      expect(app.call(rack_env("POST", "/v1/compaction/activity"))[0]).to eq(405)
    end
  end
end
