# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "relations" do
  subject(:store) { ledger_store }

  describe "#register_relation and #resolve" do
    before do
      expect(store.register_relation(:tasks_by_owner, source: :tasks, partition: :owner, target: :users)).to be(store)
    end

    it "registers the relation and its index scatter" do
      expect(store.schema_graph.registered_relations).to eq([:tasks_by_owner])
      expect(store.schema_graph.relation_snapshot[:tasks_by_owner][:index_store]).to eq(:__rel_tasks_by_owner)
      expect(store.schema_graph.scatter_snapshot.first[:target_store]).to eq(:__rel_tasks_by_owner)
    end

    it "resolves [] for an unknown value and the related values otherwise" do
      expect(store.resolve(:tasks_by_owner, from: "alice")).to eq([])
      store.write(store: :tasks, key: "t1", value: { owner: "alice", n: 1 })
      store.write(store: :tasks, key: "t2", value: { owner: "alice", n: 2 })
      store.write(store: :tasks, key: "t3", value: { owner: "bob", n: 3 })
      expect(store.resolve(:tasks_by_owner, from: "alice").map { |v| v[:n] }).to eq([1, 2])
      expect(store.resolve(:tasks_by_owner, from: :bob).map { |v| v[:n] }).to eq([3])
    end

    it "returns the latest value per key, once per key" do
      store.write(store: :tasks, key: "t1", value: { owner: "alice", n: 1 })
      store.write(store: :tasks, key: "t1", value: { owner: "alice", n: 2 })
      expect(store.resolve(:tasks_by_owner, from: "alice")).to eq([{ owner: "alice", n: 2 }])
      expect(store.read(store: :__rel_tasks_by_owner, key: "alice")).to eq(keys: ["t1"], count: 1, partition_key: "alice")
    end

    it "raises for an unknown relation" do
      expect { store.resolve(:nope, from: "x") }.to raise_error(ArgumentError, "No relation registered: :nope")
    end

    it "ignores facts without the partition field" do
      store.write(store: :tasks, key: "t1", value: { n: 1 })
      expect(store.read(store: :__rel_tasks_by_owner, key: "")).to be_nil
    end

    it "resolves as of a past time (index and values)" do
      t0 = clock_boundary
      store.write(store: :tasks, key: "t1", value: { owner: "alice", n: 1 })
      t1 = clock_boundary
      store.write(store: :tasks, key: "t1", value: { owner: "alice", n: 2 })
      store.write(store: :tasks, key: "t2", value: { owner: "alice", n: 3 })
      expect(store.resolve(:tasks_by_owner, from: "alice", as_of: t0)).to eq([])
      expect(store.resolve(:tasks_by_owner, from: "alice", as_of: t1)).to eq([{ owner: "alice", n: 1 }])
      expect(store.resolve(:tasks_by_owner, from: "alice").size).to eq(2)
    end

    it "keeps a grow-only index: a key that moved stays listed under its old value" do
      store.write(store: :tasks, key: "t1", value: { owner: "alice" })
      store.write(store: :tasks, key: "t1", value: { owner: "bob" })
      expect(store.read(store: :__rel_tasks_by_owner, key: "alice")[:keys]).to eq(["t1"])
      expect(store.read(store: :__rel_tasks_by_owner, key: "bob")[:keys]).to eq(["t1"])
    end

    it "replaces its index rule when re-registered under the same name (no duplicate index writes)" do
      store.register_relation(:tasks_by_owner, source: :tasks, partition: :owner, target: :users)
      store.write(store: :tasks, key: "t1", value: { owner: "alice" })
      expect(store.history(store: :__rel_tasks_by_owner, key: "alice").size).to eq(1)
      expect(store.schema_graph.scatter_snapshot.size).to eq(1)
    end

    it "keeps independent relations apart" do
      store.register_relation(:tasks_by_state, source: :tasks, partition: :state, target: :states)
      store.write(store: :tasks, key: "t1", value: { owner: "alice", state: "open" })
      expect(store.resolve(:tasks_by_state, from: "open").size).to eq(1)
      expect(store.resolve(:tasks_by_state, from: "alice")).to eq([])
    end
  end
end
