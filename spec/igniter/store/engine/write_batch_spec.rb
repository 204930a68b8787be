# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#write_batch" do
  subject(:store) { ledger_store }

  it "writes and appends the entries in order, chaining causation through the batch" do
    before = store.write(store: :s, key: "k", value: 0)
    facts = store.write_batch([{ store: :s, key: "k", value: 1 }, { "store" => "s", "key" => "k", "value" => 2 },
                               { history: :events, event: { kind: :e } }])
    expect(facts.map(&:value)).to eq([1, 2, { kind: :e }])
    expect(facts.map(&:causation)).to eq([before.id, facts[0].id, nil])
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([0, 1, 2])
    expect(store.history(store: :events).map(&:id)).to eq([facts[2].id])
  end

  it "runs derivations after each written fact, not after appended ones" do
    store.register_derivation(source_store: :s, target_store: :totals, target_key: "sum",
                              rule: ->(facts) { { sum: facts.sum { |f| f.value[:n] } } })
    store.register_derivation(source_store: :events, target_store: :totals, target_key: "events",
                              rule: ->(facts) { { count: facts.size } })
    store.write_batch([{ store: :s, key: "a", value: { n: 1 } }, { store: :s, key: "b", value: { n: 2 } },
                       { history: :events, event: { n: 100 } }])
    expect(store.read(store: :totals, key: "sum")).to eq(sum: 3)
    expect(store.history(store: :totals, key: "sum").size).to eq(2)
    expect(store.read(store: :totals, key: "events")).to be_nil
  end

  it "returns [] for an empty batch and refuses an entry that is neither a write nor an append" do
    expect(store.write_batch([])).to eq([])
    expect { store.write_batch([{ value: 1 }]) }.to raise_error(ArgumentError, /batch entry needs store/)
    expect(store.fact_count).to eq(0)
  end
end
