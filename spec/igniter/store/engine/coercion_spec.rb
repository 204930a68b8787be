# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "coercions" do
  subject(:store) { ledger_store }

  let(:upgrade) { ->(value, _version) { value.merge(upgraded: true) } }

  it "is chainable and applies to point reads" do
    expect(store.register_coercion(:s, &upgrade)).to be(store)
    store.write(store: :s, key: "k", value: { a: 1 })
    expect(store.read(store: :s, key: "k")).to eq(a: 1, upgraded: true)
  end

  it "receives the fact's schema_version and runs once per read, never inside write" do
    calls = []
    store.register_coercion(:s) { |v, version| calls << version; v }
    store.write(store: :s, key: "k", value: { a: 1 }, schema_version: 3)
    expect(calls).to eq([])
    store.read(store: :s, key: "k")
    expect(calls).to eq([3])
  end

  it "runs on every read, cached or not (no memo)" do
    calls = 0
    store.register_coercion(:s) { |v, _| calls += 1; v }
    store.write(store: :s, key: "k", value: {})
    2.times { store.read(store: :s, key: "k") }
    expect(calls).to eq(2)
  end

  it "applies to time-travel reads" do
    store.register_coercion(:s, &upgrade)
    store.write(store: :s, key: "k", value: { v: 1 })
    t = clock_boundary
    store.write(store: :s, key: "k", value: { v: 2 })
    expect(store.time_travel(store: :s, key: "k", at: t)).to eq(v: 1, upgraded: true)
  end

  it "applies to scope queries, history and history_partition as CoercedFacts" do
    store.register_coercion(:s, &upgrade)
    store.register_path(Igniter::Store::AccessPath.new(store: :s, scope: :all, filters: {}))
    store.write(store: :s, key: "k", value: { g: :x })
    [store.query(store: :s, scope: :all), store.history(store: :s),
     store.history_partition(store: :s, partition_key: :g, partition_value: :x)].each do |list|
      expect(list.size).to eq(1)
      expect(list.first).to be_a(Igniter::Store::CoercedFact)
      expect(list.first.value).to eq(g: :x, upgraded: true)
      expect(list.first.key).to eq("k")
    end
  end

  it "keeps the Fact when the block returns the very same value object",
     not_on_postgres: "facts are read back from SQL: equal to the written ones, not the same objects" do
    store.register_coercion(:s) { |v, _| v }
    fact = store.write(store: :s, key: "k", value: { a: 1 })
    expect(store.history(store: :s).first).to be(fact)
  end

  it "leaves other stores untouched" do
    store.register_coercion(:s, &upgrade)
    store.write(store: :other, key: "k", value: { x: 1 })
    expect(store.read(store: :other, key: "k")).to eq(x: 1)
  end

  it "is registered under the normalized store name" do
    store.register_coercion("s", &upgrade)
    store.write(store: :s, key: "k", value: { a: 1 })
    expect(store.read(store: :s, key: "k")).to include(upgraded: true)
  end

  it "replaces an earlier coercion of the same store" do
    store.register_coercion(:s, &upgrade)
    store.register_coercion(:s) { |_v, _| :second }
    store.write(store: :s, key: "k", value: {})
    expect(store.read(store: :s, key: "k")).to eq(:second)
  end

  it "is not applied by fact_by_id, fact_log_all or lineage, and never modifies stored facts" do
    store.register_coercion(:s, &upgrade)
    fact = store.write(store: :s, key: "k", value: { a: 1 })
    store.read(store: :s, key: "k")
    expect(store.fact_by_id(fact.id).value).to eq(a: 1)
    expect(store.fact_log_all.first.value).to eq(a: 1)
    expect(store.lineage(store: :s, key: "k")[:chain].first[:value_hash]).to eq(fact.value_hash)
  end

  it "propagates errors from the block to the reader" do
    store.register_coercion(:s) { |_v, _| raise ArgumentError, "bad" }
    store.write(store: :s, key: "k", value: {})
    expect { store.read(store: :s, key: "k") }.to raise_error(ArgumentError, "bad")
  end

  describe Igniter::Store::CoercedFact do
    let(:fact) { build_fact(store: :s, key: "k", value: { a: 1 }, valid_time: 3.0, producer: { n: "p" }) }
    let(:coerced) { described_class.new(fact, { a: 2 }) }

    it "delegates identity readers and aliases to the fact" do
      %i[key id transaction_time valid_time schema_version causation value_hash store producer derivation].each do |m|
        expect(coerced.public_send(m)).to eq(fact.public_send(m))
      end
      expect(coerced.timestamp).to eq(fact.transaction_time)
      expect(coerced.term).to eq(3.0)
    end

    it "is a plain positional Struct, not a Fact and not frozen" do
      expect(coerced.value).to eq(a: 2)
      expect(coerced).not_to be_a(Igniter::Store::Fact)
      expect(coerced).not_to be_frozen
      expect(coerced.to_h).to eq(fact: fact, value: { a: 2 })
    end
  end
end
