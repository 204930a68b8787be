# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#lineage" do
  subject(:store) { ledger_store }

  def proof(facts)
    Digest::SHA256.hexdigest(facts.map { |f| "#{f.id}:#{f.value_hash}:#{f.causation}" }.join("|"))
  end

  it "has exactly subject, chain, depth, derived_by and proof_hash" do
    expect(store.lineage(store: :s, key: "k").keys).to eq(%i[subject chain depth derived_by proof_hash])
  end

  it "echoes the subject as passed" do
    expect(store.lineage(store: :s, key: "k")[:subject]).to eq(store: :s, key: "k")
  end

  it "has an empty chain, depth 0 and nil proof for an unknown key" do
    result = store.lineage(store: :s, key: "none")
    expect([result[:chain], result[:depth], result[:proof_hash]]).to eq([[], 0, nil])
  end

  it "lists the chain in log order with exact entry keys and causation links" do
    f1 = store.write(store: :s, key: "k", value: { v: 1 }, valid_time: 5.0)
    f2 = store.write(store: :s, key: "k", value: { v: 2 }, schema_version: 2)
    chain = store.lineage(store: :s, key: "k")[:chain]
    expect(chain.first.keys).to eq(%i[id store key causation value_hash transaction_time valid_time schema_version])
    expect(chain.map { |e| e[:id] }).to eq([f1.id, f2.id])
    expect(chain[1][:causation]).to eq(f1.id)
    expect(chain[0]).to include(store: :s, key: "k", value_hash: f1.value_hash, valid_time: 5.0, schema_version: 1)
    expect(store.lineage(store: :s, key: "k")[:depth]).to eq(2)
  end

  it "isolates keys" do
    store.write(store: :s, key: "a", value: {})
    store.write(store: :s, key: "b", value: {})
    expect(store.lineage(store: :s, key: "a")[:depth]).to eq(1)
  end

  it "computes the proof hash as SHA-256 of id:value_hash:causation joined by |" do
    f1 = store.write(store: :s, key: "k", value: { v: 1 })
    f2 = store.write(store: :s, key: "k", value: { v: 2 })
    hash = store.lineage(store: :s, key: "k")[:proof_hash]
    expect(hash).to match(/\A\h{64}\z/).and eq(hash.downcase)
    expect(hash).to eq(proof([f1, f2]))
  end

  it "is stable, changes on append and differs per key" do
    store.write(store: :s, key: "a", value: { v: 1 })
    store.write(store: :s, key: "b", value: { v: 1 })
    first = store.lineage(store: :s, key: "a")[:proof_hash]
    expect(store.lineage(store: :s, key: "a")[:proof_hash]).to eq(first)
    expect(store.lineage(store: :s, key: "b")[:proof_hash]).not_to eq(first)
    store.write(store: :s, key: "a", value: { v: 2 })
    expect(store.lineage(store: :s, key: "a")[:proof_hash]).not_to eq(first)
  end

  it "lists derivation rules of the store, :callable for callable target keys, others excluded" do
    expect(store.lineage(store: :s, key: "k")[:derived_by]).to eq([])
    store.register_derivation(source_store: :s, source_filters: { a: 1 }, target_store: :t, target_key: "k", rule: ->(_) {})
    store.register_derivation(source_store: :s, target_store: :u, target_key: ->(_) { "x" }, rule: ->(_) {})
    store.register_derivation(source_store: :other, target_store: :v, target_key: "k", rule: ->(_) {})
    store.register_scatter(source_store: :s, partition_by: :p, target_store: :w, rule: ->(*) {})
    expect(store.lineage(store: :s, key: "k")[:derived_by]).to eq(
      [{ target_store: :t, target_key: "k", source_filters: { a: 1 } },
       { target_store: :u, target_key: :callable, source_filters: {} }]
    )
  end

  it "normalizes store and key for the chain but keeps the subject as given" do
    store.write(store: :s, key: "k", value: {})
    result = store.lineage(store: "s", key: :k)
    expect(result[:subject]).to eq(store: "s", key: :k)
    expect(result[:depth]).to eq(1)
  end
end
