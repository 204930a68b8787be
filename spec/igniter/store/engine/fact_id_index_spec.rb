# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "fact-id index" do
  subject(:store) { ledger_store }

  it "returns the very object written or appended",
     not_on_postgres: "facts are read back from SQL: equal to the written ones, not the same objects" do
    written = store.write(store: :s, key: "k", value: { a: 1 })
    appended = store.append(history: :h, event: { b: 2 })
    expect(store.fact_by_id(written.id)).to be(written)
    expect(store.fact_by_id(appended.id)).to be(appended)
  end

  it "indexes every write independently" do
    f1 = store.write(store: :s, key: "k", value: { a: 1 })
    f2 = store.write(store: :s, key: "k", value: { a: 2 })
    f3 = store.write(store: :s, key: "other", value: { a: 1 })
    expect([f1, f2, f3].map { |f| store.fact_by_id(f.id) }).to eq([f1, f2, f3])
  end

  it "returns nil for nil, empty and unknown ids" do
    expect(store.fact_by_id(nil)).to be_nil
    expect(store.fact_by_id("")).to be_nil
    expect(store.fact_by_id("no-such-id")).to be_nil
  end

  it "normalizes the id with to_s, like prune_fact_ids" do
    fact = store.write(store: :s, key: "k", value: {})
    expect(store.fact_by_id(fact.id.to_sym)).to eq(fact)
  end

  it "ignores coercions" do
    store.register_coercion(:s) { |_v, _| :coerced }
    fact = store.write(store: :s, key: "k", value: { a: 1 })
    expect(store.fact_by_id(fact.id).value).to eq(a: 1)
  end

  it "describes a live fact by fact_ref without its value" do
    fact = store.write(store: :s, key: "k", value: { a: 1 }, valid_time: 2.0)
    expect(store.fact_ref(fact.id)).to eq(id: fact.id, store: :s, key: "k", transaction_time: fact.transaction_time,
                                          valid_time: 2.0, value_hash: fact.value_hash)
    expect(store.fact_ref("nope")).to be_nil
    expect(store.fact_ref(nil)).to be_nil
  end

  it "forgets facts dropped by compaction and keeps the survivors" do
    store.set_retention(:s, strategy: :ephemeral)
    old = store.write(store: :s, key: "k", value: { v: 1 })
    current = store.write(store: :s, key: "k", value: { v: 2 })
    store.compact
    expect(store.fact_by_id(old.id)).to be_nil
    expect(store.fact_by_id(current.id)).to eq(current)
  end

  it "finds facts replayed by IgniterStore.open, with Symbol stores" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.wal")
      s = described_class.open(path)
      id = s.write(store: :docs, key: "d", value: { t: 1 }).id
      s.close
      reopened = described_class.open(path)
      expect(reopened.fact_by_id(id).store).to eq(:docs)
      reopened.close
    end
  end

  it "finds a fact given to the protected replay, without persisting it" do
    written = []
    backend = Class.new { include Igniter::Store::Backend; define_method(:write_fact) { |f| written << f } }.new # rubocop:disable Style/Semicolon
    s = described_class.new(backend: backend)
    fact = build_fact(store: :s, key: "k")
    s.__send__(:replay, fact)
    expect(s.fact_by_id(fact.id)).to be(fact)
    expect(s.read(store: :s, key: "k")).to eq(n: 1)
    expect(written).to eq([])
  end
end
