# frozen_string_literal: true

# write_fact packet rules (spec 04 §7.1, weaknesses 8, 9, 11).
RSpec.describe "Open protocol write_fact packet validation" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:packet) { { kind: :fact, store: :readings, key: "r1", value: { value: 7.0, event_id: "evt_1" } } }

  def rejection(packet)
    r = proto.write_fact(packet)
    [r.status, r.kind, r.errors]
  end

  it "rejects a wrong or absent kind with the inspected kind" do
    expect(rejection(packet.merge(kind: :store))).to eq([:rejected, :fact, ["write_fact: expected kind: :fact, got :store"]])
    expect(rejection(packet.except(:kind))).to eq([:rejected, :fact, ["write_fact: expected kind: :fact, got nil"]])
    expect(rejection(packet.merge(kind: "facts"))).to eq([:rejected, :fact, ["write_fact: expected kind: :fact, got :facts"]])
  end

  it "checks store, key and value in that order, nil or false rejecting" do
    expect(rejection(packet.merge(store: false, key: nil))).to eq([:rejected, :fact, ["write_fact: missing store:"]])
    expect(rejection(packet.merge(key: nil, value: nil))).to eq([:rejected, :fact, ["write_fact: missing key:"]])
    expect(rejection(packet.merge(key: false))).to eq([:rejected, :fact, ["write_fact: missing key:"]])
    expect(rejection(packet.except(:value))).to eq([:rejected, :fact, ["write_fact: missing value:"]])
  end

  it "rejects a non-Hash packet instead of raising" do
    expect(rejection("fact")).to eq([:rejected, :fact, ["write_fact: packet must be a Hash, got String"]])
    expect(rejection(nil)).to eq([:rejected, :fact, ["write_fact: packet must be a Hash, got NilClass"]])
  end

  it "rejects a store that is neither Symbol nor String" do
    expect(rejection(packet.merge(store: 5))).to eq([:rejected, :fact, ["write_fact: store must be a Symbol or String, got 5"]])
  end

  it "writes nothing for a rejected packet and leaves the store usable" do
    proto.write_fact(packet.merge(kind: :store))
    proto.write_fact(packet.merge(value: nil))
    expect(store.fact_count).to eq(0)
    expect(proto.write_fact(packet)).to be_accepted
    expect(store.fact_count).to eq(1)
  end

  it "accepts String top-level keys and a String kind" do
    r = proto.write_fact({ "kind" => "fact", "store" => "readings", "key" => "r1", "value" => { "value" => 7.0 } })
    expect([r.status, r.store, r.key]).to eq([:accepted, :readings, "r1"])
    expect(proto.read(store: :readings, key: "r1")).to eq(value: 7.0)
  end

  it "stores a Symbol store, a String key and a Symbol-keyed value, and the value is readable" do
    r = proto.write_fact(packet.merge(key: :r1, value: { "value" => 7.0, "event_id" => "evt_1" }))
    fact = store.fact_by_id(r.fact_id)
    expect([fact.store, fact.key, fact.value]).to eq([:readings, "r1", { value: 7.0, event_id: "evt_1" }])
    expect(proto.read(store: :readings, key: "r1")).to include(event_id: "evt_1")
    expect(r.key).to eq(:r1)
  end

  it "carries the value hash of the stored fact in its receipt" do
    r = proto.write_fact(packet)
    expect(r.value_hash).to eq(store.fact_by_id(r.fact_id).value_hash)
    expect(r.value_hash).to match(/\A\h{64}\z/)
  end

  it "honors an explicit causation and term as valid_time" do
    r = proto.write_fact(packet.merge(causation: "upstream-1", term: 1_714_200_000.0))
    fact = store.fact_by_id(r.fact_id)
    expect([fact.causation, fact.valid_time]).to eq(["upstream-1", 1_714_200_000.0])
  end

  it "warns about each engine-assigned field it ignored, and a fact schema_version other than 1" do
    r = proto.write_fact(packet.merge(value_hash: "0" * 64, at: 1.0, schema_version: 2))
    expect(r.warnings).to eq(["write_fact: ignored value_hash, at, schema_version (assigned by the engine; fact schema_version is 1)"])
    expect(store.fact_by_id(r.fact_id).schema_version).to eq(1)
    expect(proto.write_fact(packet).warnings).to eq([])
  end

  it "adds exactly one fact per accepted packet" do
    3.times { |i| proto.write_fact(packet.merge(value: { value: i })) }
    expect([store.fact_count, proto.replay.size]).to eq([3, 3])
  end

  it "answers over the wire with ok envelopes for accepted and rejected packets" do
    ok = proto.dispatch({ protocol: :igniter_store, op: :write_fact, packet: packet })
    bad = proto.dispatch({ protocol: :igniter_store, op: :write_fact, packet: packet.merge(kind: :store) })
    expect([ok[:status], ok[:result].accepted?, ok[:result].fact_id]).to match([:ok, true, String])
    expect([bad[:status], bad[:result].errors.first]).to eq([:ok, "write_fact: expected kind: :fact, got :store"])
  end
end
