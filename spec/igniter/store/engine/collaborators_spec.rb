# frozen_string_literal: true

# The engine's parts with state of their own are collaborators built with
# only what they need (doc/contracts.md "Engine collaborators").
RSpec.describe Igniter::Store::IgniterStore, "collaborators" do
  # A store whose class redefines #write, over the spec backend.
  def recording_store(calls)
    klass = Class.new(described_class) do
      define_method(:write) do |**entry|
        calls << entry[:store]
        super(**entry)
      end
    end
    LedgerSpec::Postgres.backend? ? klass.new(backend: pg_backend) : klass.new
  end

  it "commits derived facts and compaction and prune receipts through the store's own #write" do
    calls = []
    store = recording_store(calls)
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "n",
                              rule: ->(facts) { { n: facts.size } })
    store.set_retention(:orders, strategy: :ephemeral)
    first = store.write(store: :orders, key: "o1", value: { amount: 1 })
    store.write(store: :orders, key: "o1", value: { amount: 2 })
    store.compact(:orders)
    store.prune_fact_ids(fact_ids: [store.history(store: :stats).first.id], reason: :erasure)

    expect(calls).to eq(%i[orders stats orders stats __compaction_receipts __fact_prune_receipts])
    expect(store.fact_by_id(first.id)).to be_nil
  end

  it "lets derivations, lineage and prune read the log a compaction rebuilt" do
    store = ledger_store
    store.set_retention(:orders, strategy: :ephemeral)
    store.register_derivation(source_store: :orders, target_store: :stats, target_key: "keys",
                              rule: ->(facts) { { keys: facts.map { |f| f.value[:amount] } } })
    store.write(store: :orders, key: "o1", value: { amount: 1 })
    kept = store.write(store: :orders, key: "o1", value: { amount: 2 })
    store.compact(:orders)

    expect(store.lineage(store: :orders, key: "o1")[:chain].map { |e| e[:id] }).to eq([kept.id])
    store.write(store: :orders, key: "o2", value: { amount: 3 })
    expect(store.read(store: :stats, key: "keys")).to eq(keys: [2, 3])
    expect(store.prune_fact_ids(fact_ids: [kept.id], reason: :erasure)).to include(pruned_count: 1, missing_count: 0)
    expect(store.compaction_activity(store: :orders).map { |e| e[:kind] }).to eq(%i[retention_compaction exact_prune])
  end

  it "runs a collaborator over a bare fact log, without a store" do
    log = Igniter::Store::FactLog.new
    graph = Igniter::Store::SchemaGraph.new
    fact = log.write_new(:orders, "o1", { amount: 1 }, nil, 1, nil, nil, nil, nil, nil)
    lineage = Igniter::Store::Engine::Lineage.new(log: -> { log }, schema_graph: graph)

    result = lineage.of({ store: "orders", key: "o1" }, :orders, "o1")
    expect(result).to include(subject: { store: "orders", key: "o1" }, depth: 1)
    expect(result[:chain].first).to include(id: fact.id, store: :orders, key: "o1")
  end
end
