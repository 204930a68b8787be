# frozen_string_literal: true

require "igniter/ledger/console"

# The read ops of the HTTP API over a real puma server: history,
# fact_by_id, causation_chain, query, stats, with times as seconds or
# ISO-8601; client mistakes are JSON with the right 4xx and a message that
# names the problem; /v1/openapi.json is served to anyone.
RSpec.describe "HTTP API read ops and the OpenAPI document" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:interpreter) { Igniter::Store::Protocol.new(store) }
  let(:adapters) { [] }

  after { adapters.each(&:stop) }

  def serve(**opts)
    Igniter::Store::HTTPAdapter.new(interpreter: interpreter, port: 0, **opts).tap { |a| adapters << a }.start_async
  end

  let(:port) { port_of(serve.bind_address) }

  # [status, parsed body]
  def post(packet_or_op, packet = nil, headers = {})
    payload = packet.nil? ? packet_or_op : envelope(packet_or_op, packet)
    response = http_post_json(port, "/v1/dispatch", payload, headers)
    expect(response["Content-Type"]).to eq("application/json")
    [response.code.to_i, JSON.parse(response.body)]
  end

  let!(:first) { store.write(store: :orders, key: "o1", value: { status: :open, total: 10 }) }
  let!(:second) { store.write(store: :orders, key: "o1", value: { status: :paid, total: 10 }) }
  let(:iso) { Igniter::Store::Protocol::TimeParam.iso8601(first.transaction_time) }

  it "answers history with whole facts and ISO-8601 times, bounded by an ISO-8601 as_of" do
    status, body = post(:history, { store: "orders", key: "o1" })
    expect(status).to eq(200)
    facts = body["result"]["facts"]
    expect(facts.map { |f| [f["id"], f["causation"], f["transaction_time_iso"]] }).to eq(
      [[first.id, nil, iso], [second.id, first.id, Igniter::Store::Protocol::TimeParam.iso8601(second.transaction_time)]]
    )
    expect(facts.first).to include("value" => { "status" => "open", "total" => 10 }, "symbols" => [%w[value status]])
    expect(post(:history, { store: "orders", key: "o1", as_of: iso })[1]["result"]["count"]).to eq(1)
  end

  it "answers fact_by_id, causation_chain, query (where and as_of in ISO-8601) and stats" do
    expect(post(:fact_by_id, { fact_id: second.id })[1]["result"]["fact"]).to include("id" => second.id, "causation" => first.id)
    expect(post(:fact_by_id, { fact_id: "nope" })[1]["result"]).to eq("found" => false, "fact" => nil)
    expect(post(:causation_chain, { store: "orders", key: "o1" })[1]["result"]["chain"].map { |c| c["causation"] })
      .to eq([nil, first.id])
    expect(post(:read, { store: "orders", key: "o1", as_of: iso })[1]["result"]).to eq(
      "value" => { "status" => "open", "total" => 10 }, "found" => true
    )
    expect(post(:query, { store: "orders", where: { total: 10 }, as_of: iso })[1]["result"]["results"])
      .to eq([{ "status" => "open", "total" => 10 }])
    stats = post(:stats, {})[1]["result"]
    expect(stats.slice("fact_count", "store_count", "key_count")).to eq("fact_count" => 2, "store_count" => 1, "key_count" => 1)
    expect(stats["stores"].first["last_transaction_time_iso"]).to eq(Igniter::Store::Protocol::TimeParam.iso8601(second.transaction_time))
  end

  it "answers client mistakes with JSON, the right 4xx and a message that names the problem" do
    expect(post(:read, { store: "orders", key: "o1", as_of: "2026-13-45" })).to eq(
      [422, { "protocol" => "igniter_store", "schema_version" => 1, "request_id" => nil, "status" => "error",
              "error" => "read: as_of must be seconds since the epoch or an ISO-8601 time with a zone " \
                         "(2026-11-26T10:30:21Z), got \"2026-13-45\"" }]
    )
    expect(post(:history, { key: "o1" })[0..1].then { |s, b| [s, b["error"]] })
      .to eq([422, "history: the packet lacks the required field \"store\""])
    expect(post(:fact_by_id, { fact_id: ["x"] })[1]["error"]).to eq("fact_by_id: fact_id must be a string, got an array: [\"x\"]")
    expect(post(:query, { store: "orders", limit: "ten" })[1]["error"]).to eq("query: limit must be an integer, got a string: \"ten\"")
    status, body = post(:histories, {})
    expect([status, body["error"], body["valid_ops"]]).to eq([404, "Unknown or missing op: :histories", Igniter::Store::Protocol::WireEnvelope::OPERATIONS.map(&:to_s)])
    expect(post("{not json")).to eq([400, { "error" => "Invalid JSON: unexpected token at '{not json'" }])
    expect(store.fact_count).to eq(2)
  end

  it "takes an ISO-8601 since on /v1/compaction/activity" do
    response = http_get(port, "/v1/compaction/activity?since=2026-11-26T10:30:21%2B01:00")
    expect(response.code).to eq("200")
    expect(JSON.parse(response.body)["filters"]["since"]).to eq(Time.utc(2026, 11, 26, 9, 30, 21).to_f)
  end

  describe "GET /v1/openapi.json" do
    it "describes every mount of the adapter and every envelope op, without the console unless it is on" do
      response = http_get(port, "/v1/openapi.json")
      doc = JSON.parse(response.body)
      expect(doc["openapi"]).to eq("3.0.3")
      expect(doc["info"]["version"]).to eq(Igniter::Ledger::VERSION)
      mounts = Igniter::Store::HTTPAdapter.new(interpreter: interpreter).rack_app
                                          .instance_variable_get(:@app).instance_variable_get(:@mounts).map(&:first)
      expect(doc["paths"].keys.sort).to eq(mounts.sort)
      ops = doc["components"]["schemas"]["Envelope"]["discriminator"]["mapping"].keys
      expect(ops.sort).to eq(Igniter::Store::Protocol::WireEnvelope::OPERATIONS.map(&:to_s).sort)
      expect(doc["components"]["schemas"]["HistoryEnvelope"]["properties"]["packet"]["required"]).to eq(["store"])
    end

    it "adds /ui when the console is served, and is open while every read needs a token" do
      console = Igniter::Ledger::Console.new(store)
      adapter = serve(read_token: "r", auth_token: "w", console: console)
      guarded = port_of(adapter.bind_address)
      response = http_get(guarded, "/v1/openapi.json")
      expect(response.code).to eq("200")
      expect(JSON.parse(response.body)["paths"]).to include("/ui")
      expect(http_get(guarded, "/v1/status").code).to eq("401")
    end
  end
end
