# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#rebuild_log! (private)" do
  subject(:store) { ledger_store }

  it "is private" do
    expect(store).not_to respond_to(:rebuild_log!)
    expect(described_class.private_method_defined?(:rebuild_log!)).to be(true)
  end

  it "replaces the live log with exactly the given facts, in order" do
    f1 = store.write(store: :s, key: "a", value: { v: 1 })
    f2 = store.write(store: :s, key: "a", value: { v: 2 })
    f3 = store.write(store: :s, key: "b", value: { v: 3 })
    store.send(:rebuild_log!, [f3, f1])
    expect(store.fact_log_all).to eq([f3, f1])
    expect(store.fact_count).to eq(2)
    expect(store.fact_by_id(f2.id)).to be_nil
    expect(store.fact_by_id(f1.id)).to be(f1)
    expect(store.read(store: :s, key: "a")).to eq(v: 1)
  end

  it "drops cached reads, cached scopes and the scope index but keeps consumers",
     not_on_postgres: "a shared log has no in-memory log to rebuild; compaction and prune delete rows" do
    calls = []
    store.register_path(Igniter::Store::AccessPath.new(store: :s, consumers: [->(*a) { calls << a }]))
    store.register_path(Igniter::Store::AccessPath.new(store: :s, scope: :all, filters: {}))
    f1 = store.write(store: :s, key: "a", value: { v: 1 })
    store.write(store: :s, key: "b", value: { v: 2 })
    store.read(store: :s, key: "b")
    store.query(store: :s, scope: :all)
    store.send(:rebuild_log!, [f1])
    expect(store.read(store: :s, key: "b")).to be_nil
    expect(store.query(store: :s, scope: :all).map(&:key)).to eq(["a"])
    calls.clear
    store.write(store: :s, key: "c", value: {})
    expect(calls).to eq([[:s, "c"]])
  end

  it "does not touch the backend" do
    backend = Class.new do
      attr_reader :calls
      def initialize = (@calls = [])
      def capabilities = Igniter::Store::Capabilities.declare(:snapshots, :rewrite)
      def write_fact(_f) = (@calls << :write_fact)
      def write_snapshot(_f) = (@calls << :write_snapshot)
      def replace_with_snapshot!(_f) = (@calls << :replace)
    end.new
    s = described_class.new(backend: backend)
    fact = s.write(store: :s, key: "a", value: {})
    s.send(:rebuild_log!, [fact])
    expect(backend.calls).to eq([:write_fact])
  end
end
