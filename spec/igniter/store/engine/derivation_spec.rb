# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "derivations" do
  subject(:store) { ledger_store }

  let(:total) { ->(facts) { { total: facts.sum { |f| f.value[:amount] } } } }

  def register_total(**opts)
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "total", rule: total, **opts)
  end

  it "writes the derived value on each source write, recomputed from current facts" do
    expect(register_total).to be(store)
    store.write(store: :orders, key: "o1", value: { amount: 10 })
    expect(store.read(store: :stats, key: "total")).to eq(total: 10)
    store.write(store: :orders, key: "o2", value: { amount: 5 })
    store.write(store: :orders, key: "o1", value: { amount: 1 })
    expect(store.read(store: :stats, key: "total")).to eq(total: 6)
  end

  it "leaves the source untouched and counts derived facts" do
    register_total
    store.write(store: :orders, key: "o1", value: { amount: 10 })
    expect(store.read(store: :orders, key: "o1")).to eq(amount: 10)
    expect(store.fact_count).to eq(2)
  end

  it "hands the rule raw latest facts matching source_filters (a key can transition out)" do
    store.register_derivation(source_store: :orders, source_filters: { paid: true }, target_store: :stats,
                              target_key: "paid", rule: ->(facts) { { keys: facts.map(&:key).sort } })
    store.write(store: :orders, key: "o1", value: { paid: true })
    store.write(store: :orders, key: "o2", value: { paid: true })
    store.write(store: :orders, key: "o1", value: { paid: false })
    expect(store.read(store: :stats, key: "paid")).to eq(keys: ["o2"])
  end

  it "accepts a callable target_key and a Symbol target_key" do
    store.register_derivation(source_store: :orders, target_store: :stats,
                              target_key: ->(facts) { "n#{facts.size}" }, rule: ->(f) { { n: f.size } })
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: :sym, rule: ->(_) { { s: 1 } })
    store.write(store: :orders, key: "o1", value: {})
    expect(store.read(store: :stats, key: "n1")).to eq(n: 1)
    expect(store.read(store: :stats, key: "sym")).to eq(s: 1)
  end

  it "skips the write when the rule returns nil or false" do
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "x", rule: ->(_) { nil })
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "y", rule: ->(_) { false })
    store.write(store: :orders, key: "o1", value: {})
    expect(store.fact_count).to eq(1)
  end

  it "does not re-trigger on derived writes (the rule runs once per source write)" do
    calls = 0
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "t",
                              rule: ->(_) { calls += 1; { n: calls } })
    store.register_derivation(source_store: :stats, target_store: :orders, target_key: "loop", rule: ->(_) { { x: 1 } })
    store.write(store: :orders, key: "o1", value: {})
    expect(calls).to eq(1)
  end

  it "does not loop when the target store is the source store" do
    calls = 0
    store.register_derivation(source_store: :orders, target_store: :orders, target_key: "sum",
                              rule: ->(facts) { calls += 1; { n: facts.size } })
    store.write(store: :orders, key: "o1", value: {})
    expect(calls).to eq(1)
    expect(store.history(store: :orders, key: "sum").size).to eq(1)
  end

  it "runs several rules in registration order" do
    order = []
    store.register_derivation(source_store: :orders, target_store: :a, target_key: "k", rule: ->(_) { order << :a; { a: 1 } })
    store.register_derivation(source_store: :orders, target_store: :b, target_key: "k", rule: ->(_) { order << :b; { b: 1 } })
    store.write(store: :orders, key: "o1", value: {})
    expect(order).to eq(%i[a b])
    expect(store.read(store: :b, key: "k")).to eq(b: 1)
  end

  it "is isolated per store: writes to other stores do not run the rule" do
    calls = 0
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "t", rule: ->(_) { calls += 1; nil })
    store.write(store: :other, key: "x", value: {})
    expect(calls).to eq(0)
  end

  it "is not triggered by append" do
    calls = 0
    store.register_derivation(source_store: :events, target_store: :stats, target_key: "t", rule: ->(_) { calls += 1; { n: 1 } })
    store.append(history: :events, event: { a: 1 })
    expect(calls).to eq(0)
    expect(store.fact_count).to eq(1)
  end

  it "chains causation of derived facts like any write" do
    register_total
    store.write(store: :orders, key: "o1", value: { amount: 1 })
    store.write(store: :orders, key: "o2", value: { amount: 1 })
    chain = store.causation_chain(store: :stats, key: "total")
    expect(chain[1][:causation]).to eq(chain[0][:id])
  end

  it "propagates a rule error after the source fact is committed, and the guard is released" do
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "t", rule: ->(_) { raise "rule" })
    expect { store.write(store: :orders, key: "o1", value: {}) }.to raise_error(RuntimeError, "rule")
    expect(store.read(store: :orders, key: "o1")).to eq({})
    expect { store.write(store: :orders, key: "o2", value: {}) }.to raise_error(RuntimeError, "rule")
  end

  it "lets one store's derivation writing into another store trigger that store's rules" do
    other = ledger_store
    other.register_derivation(source_store: :in, target_store: :out, target_key: "k", rule: ->(_) { { hit: true } })
    store.register_derivation(source_store: :orders, target_store: :x, target_key: "k",
                              rule: ->(_) { other.write(store: :in, key: "a", value: {}); nil })
    store.write(store: :orders, key: "o1", value: {})
    expect(other.read(store: :out, key: "k")).to eq(hit: true)
  end

  it "emits source then derived facts to the changefeed" do
    emitted = []
    feed = Class.new { define_method(:emit) { |f| emitted << f.store } }.new
    s = ledger_store(changefeed: feed)
    s.register_derivation(source_store: :orders, target_store: :stats, target_key: "t", rule: ->(_) { { n: 1 } })
    s.write(store: :orders, key: "o1", value: {})
    s.append(history: :events, event: {})
    expect(emitted).to eq(%i[orders stats events])
  end

  it "orders nested rules depth-first: derivation (and its scatters) before scatters" do
    emitted = []
    feed = Class.new { define_method(:emit) { |f| emitted << f.store } }.new
    s = ledger_store(changefeed: feed)
    s.register_derivation(source_store: :a, target_store: :b, target_key: "k", rule: ->(_) { { p: "x" } })
    s.register_scatter(source_store: :b, partition_by: :p, target_store: :c, rule: ->(*) { { c: 1 } })
    s.register_scatter(source_store: :a, partition_by: :p, target_store: :e, rule: ->(*) { { e: 1 } })
    s.register_derivation(source_store: :e, target_store: :f, target_key: "k", rule: ->(_) { { f: 1 } })
    s.register_derivation(source_store: :c, target_store: :never, target_key: "k", rule: ->(_) { { n: 1 } })
    s.write(store: :a, key: "k", value: { p: "x" })
    expect(emitted).to eq(%i[a b c e f])
  end
end
