# frozen_string_literal: true

RSpec.describe Igniter::Store::Protocol::WireEnvelope do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  def call(op, packet = {}, **extra)
    proto.dispatch({ protocol: :igniter_store, schema_version: 1, request_id: "r-1", op: op, packet: packet }.merge(extra))
  end

  it "is memoized and agrees with Interpreter#dispatch" do
    expect(proto.wire).to equal(proto.wire)
    env = { protocol: :igniter_store, op: :metadata_snapshot }
    expect(proto.dispatch(env)).to eq(proto.wire.dispatch(env))
  end

  it "lists the 18 operations of 0.5.2 and history, fact_by_id, stats, time_travel" do
    expect(described_class::OPERATIONS.size).to eq(22)
    expect(described_class::OPERATIONS.last(5)).to eq(%i[compaction_activity history fact_by_id stats time_travel])
  end

  it "wraps a result in an ok envelope echoing request_id" do
    expect(call(:descriptor_snapshot).keys).to eq(%i[protocol schema_version request_id status result])
    expect(call(:descriptor_snapshot)).to include(protocol: :igniter_store, request_id: "r-1", status: :ok)
  end

  it "answers protocol, op and schema_version problems with error envelopes" do
    expect(call(:read, {}, protocol: :other_protocol)[:error]).to eq("Unknown protocol: :other_protocol")
    expect(call(:teleport)).to include(status: :error, request_id: "r-1", error: "Unknown or missing op: :teleport")
    expect(call(nil)[:error]).to eq("Unknown or missing op: nil")
    expect(call(:read, { store: :t, key: "k" }, schema_version: 2)[:error]).to match(/Unsupported schema_version: 2/)
    expect(proto.dispatch({ protocol: "igniter_store", op: "descriptor_snapshot" })[:status]).to eq(:ok)
  end

  it "never raises, reporting single-line internal errors" do
    expect(call(:read, { key: "k" })).to include(status: :error, error: "Internal error: key not found: :store")
    expect(call(:resolve, { relation: nil, from: "p" })[:error]).to match(/error/i)
    expect(proto.dispatch(nil)).to include(status: :error, request_id: nil)
  end

  it "returns receipts as objects, rejections inside ok envelopes" do
    ok = call(:register_descriptor, { kind: :store, name: :tasks, key: "id" })
    bad = call(:write_fact, { kind: :store })
    expect([ok[:result].accepted?, bad[:status], bad[:result].rejected?]).to eq([true, :ok, true])
  end

  it "forwards causation, valid_time and derivation on write" do
    resp = call(:write, { store: "t", key: "k", value: { n: 1 }, causation: "c-1", valid_time: 12.5,
                          derivation: { rule: :x } })
    fact = store.fact_by_id(resp[:result].fact_id)
    expect([fact.causation, fact.valid_time, fact.derivation]).to eq(["c-1", 12.5, { rule: :x }])
  end

  it "reads, queries, walks causation and resolves" do
    call(:write, { store: :t, key: "k", value: { s: :open } })
    call(:write, { store: :t, key: "k", value: { s: :open, n: 2 } })
    expect(call(:read, { store: :t, key: "k" })[:result]).to eq(value: { s: :open, n: 2 }, found: true)
    expect(call(:read, { store: :t, key: "zz" })[:result]).to eq(value: nil, found: false)
    q = call(:query, { store: :t, where: { s: :open } })[:result]
    expect([q[:count], q[:results], q[:items].first[:key]]).to eq([1, [{ s: :open, n: 2 }], "k"])
    expect(call(:query, { store: :t, where: nil })[:status]).to eq(:error)
    expect(call(:causation_chain, { store: :t, key: "k" })[:result][:count]).to eq(2)
    expect(call(:resolve, { relation: :none, from: "p" })[:error]).to eq("Internal error: No relation registered: :none")
  end

  it "appends and replays by store with the producer" do
    r = call(:append, { history: :events, event: { n: 1 }, key: "client", producer: { system: :spec } })[:result]
    expect(r.warnings.first).to match(/metadata only/)
    facts = call(:replay, { filter: { store: :events } })[:result][:facts]
    expect(facts.map { |f| [f[:key], f[:producer]] }).to eq([[r.key, { system: :spec }]])
    expect(call(:append, { event: {} })[:status]).to eq(:error)
  end

  it "answers storage ops with nil for a memory store and tolerates a nil compaction packet" do
    expect(call(:storage_stats)[:result]).to be_nil
    expect(call(:segment_manifest, { store: :t })).to include(status: :ok, result: nil)
    expect(call(:compaction_activity, nil, packet: nil)[:result][:count]).to eq(0)
    expect(call(:compaction_activity, { store: "x", bogus: 1 })[:result][:filters][:store]).to eq("x")
  end

  it "serializes a response to JSON" do
    call(:write, { store: :t, key: "k", value: { n: 1 } })
    json = JSON.parse(JSON.generate(call(:sync_hub_profile)))
    expect(json["result"]).to include("kind" => "sync_hub_profile")
    expect(json["result"]["facts"].size).to eq(1)
  end
end
