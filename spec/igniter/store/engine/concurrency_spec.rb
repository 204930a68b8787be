# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "concurrent writers" do
  subject(:store) { ledger_store }

  it "keeps one linear causation chain when many threads write one key" do
    threads = Array.new(8) { |t| Thread.new { 50.times { |i| store.write(store: :s, key: "k", value: { t: t, i: i }) } } }
    threads.each(&:join)
    chain = store.causation_chain(store: :s, key: "k")
    expect(chain.size).to eq(400)
    expect(chain.each_cons(2).all? { |a, b| b[:causation] == a[:id] }).to be(true)
  end

  it "loses no write that races a compaction or a prune" do
    store.set_retention(:churn, strategy: :ephemeral)
    writers = Array.new(4) do |t|
      Thread.new { Array.new(100) { |i| store.write(store: :keep, key: "#{t}-#{i}", value: { i: i }).id } }
    end
    churn = Thread.new do
      20.times do |i|
        2.times { store.write(store: :churn, key: "c", value: { i: i }) }
        store.compact
        victim = store.write(store: :churn, key: "gone#{i}", value: {})
        store.prune_fact_ids(fact_ids: [victim.id], reason: :test)
      end
    end
    ids = writers.flat_map(&:value)
    churn.join
    expect(ids.count { |id| store.fact_by_id(id) }).to eq(400)
    expect(store.history(store: :keep).size).to eq(400)
  end

  it "keeps the scope index complete when writes race the first (cold) query" do
    store.register_path(Igniter::Store::AccessPath.new(store: :s, scope: :all, filters: {}))
    writer = Thread.new { 300.times { |i| store.write(store: :s, key: "k#{i}", value: { i: i }) } }
    10.times { store.query(store: :s, scope: :all) }
    writer.join
    store.write(store: :other, key: "x", value: {}) # unrelated: the scope answer stays cached or not, both fine
    expect(store.query(store: :s, scope: :all).size).to eq(300)
  end
end
