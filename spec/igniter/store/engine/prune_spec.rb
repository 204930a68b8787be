# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#prune_fact_ids" do
  subject(:store) { ledger_store }

  let!(:victim) { store.write(store: :docs, key: "secret", value: { ssn: "123" }) }
  let!(:bystander) { store.write(store: :docs, key: "public", value: { ok: true }) }

  it "removes the fact from the id index, reads and history" do
    result = store.prune_fact_ids(fact_ids: [victim.id], reason: :gdpr)
    expect(result).to include(status: :ok, pruned_count: 1, missing_count: 0, missing_ids: [])
    expect(store.fact_by_id(victim.id)).to be_nil
    expect(store.read(store: :docs, key: "secret")).to be_nil
    expect(store.history(store: :docs, key: "secret")).to eq([])
    expect(store.read(store: :docs, key: "public")).to eq(ok: true)
  end

  it "reports compact refs without values" do
    ref = store.prune_fact_ids(fact_ids: [victim.id], reason: :gdpr)[:pruned_fact_refs].first
    expect(ref).to eq(id: victim.id, store: :docs, key: "secret", transaction_time: victim.transaction_time,
                      valid_time: nil, value_hash: victim.value_hash)
  end

  it "writes a live receipt with reason, counts, refs and metadata" do
    result = store.prune_fact_ids(fact_ids: [victim.id, "missing"], reason: :gdpr, metadata: { ticket: "T-1" })
    receipt = store.fact_by_id(result[:receipt_id])
    expect(receipt.store).to eq(:__fact_prune_receipts)
    expect(receipt.key).to match(/\A\h{16}\z/)
    expect(receipt.value).to include(type: :fact_prune_receipt, reason: :gdpr, requested_count: 2, pruned_count: 1,
                                     missing_count: 1, missing_ids: ["missing"], metadata: { ticket: "T-1" })
    expect(receipt.value[:pruned_at]).to be_a(Float)
    expect(store.history(store: :__fact_prune_receipts)).to eq([receipt])
  end

  it "reports missing ids without failing, and deduplicates requested ids" do
    result = store.prune_fact_ids(fact_ids: ["nope", "nope", victim.id.to_sym], reason: :x)
    expect(result).to include(status: :ok, pruned_count: 1, missing_count: 1, missing_ids: ["nope"])
  end

  it "makes the previous surviving fact current again" do
    newer = store.write(store: :docs, key: "secret", value: { ssn: "456" })
    store.prune_fact_ids(fact_ids: [newer.id], reason: :x)
    expect(store.read(store: :docs, key: "secret")).to eq(ssn: "123")
  end

  it "writes only a receipt when every id is missing (no rebuild, no snapshot rewrite)" do
    calls = []
    backend = Class.new do
      define_method(:capabilities) { Igniter::Store::Capabilities.declare(:rewrite) }
      define_method(:write_fact) { |_f| nil }
      define_method(:replace_with_snapshot!) { |facts| calls << facts.size }
    end.new
    s = described_class.new(backend: backend)
    result = s.prune_fact_ids(fact_ids: ["x"], reason: :x)
    expect(result).to include(status: :ok, pruned_count: 0, missing_count: 1)
    expect(s.fact_by_id(result[:receipt_id])).not_to be_nil
    expect(calls).to eq([])
  end

  it "is unsupported, without side effects, on a backend that cannot rewrite its log" do
    backend = Class.new { include Igniter::Store::Backend; def write_fact(_f) = nil }.new # rubocop:disable Style/Semicolon
    s = described_class.new(backend: backend)
    fact = s.write(store: :docs, key: "k", value: {})
    expect(s.prune_fact_ids(fact_ids: [fact.id], reason: :x))
      .to eq(status: :unsupported, reason: :backend_does_not_support_exact_prune, backend: backend.class.name)
    expect([s.fact_count, s.fact_by_id(fact.id)]).to eq([1, fact])
  end

  it "uses a custom receipt store" do
    result = store.prune_fact_ids(fact_ids: [victim.id], reason: :x, receipt_store: :audit)
    expect(store.fact_by_id(result[:receipt_id]).store).to eq(:audit)
  end

  it "keeps consumers registered before the prune (0.5.2 lost them in the rebuild)" do
    calls = []
    store.register_path(Igniter::Store::AccessPath.new(store: :docs, consumers: [->(*a) { calls << a }]))
    store.prune_fact_ids(fact_ids: [victim.id], reason: :x)
    store.write(store: :docs, key: "new", value: {})
    expect(calls).to eq([[:docs, "new"]])
  end

  it "drops cached reads and scope answers of pruned facts" do
    store.register_path(Igniter::Store::AccessPath.new(store: :docs, scope: :all, filters: {}))
    store.read(store: :docs, key: "secret")
    store.query(store: :docs, scope: :all)
    store.prune_fact_ids(fact_ids: [victim.id], reason: :x)
    expect(store.read(store: :docs, key: "secret")).to be_nil
    expect(store.query(store: :docs, scope: :all).map(&:key)).to eq(["public"])
  end

  it "is durable on a FileBackend: the pruned fact does not come back on reopen" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.wal")
      s = described_class.open(path)
      gone = s.write(store: :docs, key: "secret", value: { ssn: "1" })
      kept = s.write(store: :docs, key: "public", value: { ok: true })
      receipt_id = s.prune_fact_ids(fact_ids: [gone.id], reason: :gdpr)[:receipt_id]
      s.write(store: :docs, key: "later", value: { n: 1 })
      s.close

      reopened = described_class.open(path)
      expect(reopened.fact_by_id(gone.id)).to be_nil
      expect(reopened.read(store: :docs, key: "secret")).to be_nil
      expect(reopened.fact_by_id(kept.id)).not_to be_nil
      expect(reopened.fact_by_id(receipt_id)).not_to be_nil
      expect(reopened.read(store: :docs, key: "later")).to eq(n: 1)
      expect(reopened.compaction_activity.map { |e| e[:kind] }).to eq([:exact_prune])
      reopened.close
    end
  end
end
