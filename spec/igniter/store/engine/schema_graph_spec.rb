# frozen_string_literal: true

RSpec.describe Igniter::Store::SchemaGraph do
  subject(:graph) { described_class.new }

  let(:s) { Igniter::Store }

  def path(**kw) = s::AccessPath.new(store: :tasks, **kw)

  describe "access paths" do
    it "registers paths per store and returns copies" do
      p1 = path(scope: :open)
      expect(graph.register(p1)).to be(graph)
      copy = graph.paths_for(:tasks)
      copy << :junk
      expect(graph.paths_for(:tasks)).to eq([p1])
    end

    it "returns [] for an unknown store without registering it" do
      expect(graph.paths_for(:nope)).to eq([])
      graph.path_for(store: :nope, scope: :x)
      graph.consumers_for(:nope)
      expect(graph.registered_stores).to eq([])
      expect(graph.metadata_snapshot).to eq({})
    end

    it "finds the first path with a scope and returns the registered object" do
      p1 = path(scope: :open, filters: { a: 1 })
      p2 = path(scope: :open, filters: { a: 2 })
      graph.register(p1).register(p2)
      expect(graph.path_for(store: :tasks, scope: :open)).to be(p1)
      expect(graph.path_for(store: :tasks, scope: :other)).to be_nil
    end

    it "normalizes String store names so they match facts' Symbol stores" do
      p1 = path(scope: :open).tap { |p| p.store = "tasks" }
      graph.register(p1)
      expect(graph.path_for(store: :tasks, scope: :open)).to be(p1)
      expect(graph.paths_for("tasks")).to eq([p1])
    end

    it "lists unique consumers across a store's paths" do
      c1 = -> {}
      c2 = -> {}
      graph.register(path(consumers: [c1, c2])).register(path(scope: :x, consumers: Set[c1]))
      expect(graph.consumers_for(:tasks)).to eq([c1, c2])
    end

    it "lists registered stores" do
      graph.register(path).register(s::AccessPath.new(store: :other))
      expect(graph.registered_stores).to eq(%i[tasks other])
    end

    it "summarizes paths without consumers" do
      graph.register(path(scope: :open, lookup: :primary_key, filters: { status: :open }, cache_ttl: 5,
                          consumers: [-> {}, -> {}]))
      expect(graph.metadata_snapshot).to eq(
        tasks: [{ store: :tasks, scope: :open, lookup: :primary_key, filters: { status: :open },
                  cache_ttl: 5, consumer_count: 2 }]
      )
    end
  end

  describe "projections" do
    let(:proj) { s::ProjectionPath.new(name: :board, reads: %i[tasks users], relations: [:owner], consumer_hint: :ui, reactive: true) }

    it "registers by name (replacing) and returns the registered object" do
      expect(graph.register_projection(proj)).to be(graph)
      expect(graph.projection_for(name: :board)).to be(proj)
      expect(graph.projection_for(name: :nope)).to be_nil
      other = s::ProjectionPath.new(name: :board, reads: [], relations: [])
      graph.register_projection(other)
      expect(graph.projection_for(name: :board)).to be(other)
    end

    it "lists projections reading a store" do
      graph.register_projection(proj)
      expect(graph.projections_for_store(store: :users)).to eq([proj])
      expect(graph.projections_for_store(store: :nope)).to eq([])
    end

    it "snapshots projections with counts" do
      expect(graph.projection_snapshot).to eq({})
      graph.register_projection(proj)
      expect(graph.projection_snapshot).to eq(
        board: { name: :board, reads: %i[tasks users], relations: [:owner], consumer_hint: :ui,
                 reactive: true, store_count: 2, relation_count: 1 }
      )
    end
  end

  describe "rules" do
    it "registers derivations and snapshots them with :callable target keys" do
      r1 = s::DerivationRule.new(source_store: :a, source_filters: {}, target_store: :b, target_key: "k", rule: -> {})
      r2 = s::DerivationRule.new(source_store: :a, source_filters: { x: 1 }, target_store: :c, target_key: ->(_) {}, rule: -> {})
      expect(graph.register_derivation(r1).register_derivation(r2)).to be(graph)
      expect(graph.derivations_for_store(store: :a)).to eq([r1, r2])
      expect(graph.derivations_for_store(store: :b)).to eq([])
      expect(graph.derivation_snapshot).to eq(
        [{ index: 0, source_store: :a, source_filters: {}, target_store: :b, target_key: "k", has_rule: true },
         { index: 1, source_store: :a, source_filters: { x: 1 }, target_store: :c, target_key: :callable, has_rule: true }]
      )
    end

    it "registers scatters and snapshots them without the rule" do
      r = s::ScatterRule.new(source_store: :a, partition_by: :p, target_store: :b, rule: -> {})
      expect(graph.register_scatter(r)).to be(graph)
      expect(graph.scatters_for_store(store: :a)).to eq([r])
      expect(graph.scatter_snapshot).to eq([{ index: 0, source_store: :a, partition_by: :p, target_store: :b, has_rule: true }])
      graph.unregister_scatter(r)
      expect(graph.scatters_for_store(store: :a)).to eq([])
    end

    it "registers relations by name with their index store" do
      r = s::RelationRule.new(name: :by_owner, source: :tasks, partition: :owner, target: :users)
      expect(graph.register_relation(r)).to be(graph)
      expect(graph.relation_for(name: :by_owner)).to be(r)
      expect(graph.registered_relations).to eq([:by_owner])
      expect(graph.relation_snapshot).to eq(
        by_owner: { name: :by_owner, source: :tasks, partition: :owner, target: :users, index_store: :__rel_by_owner }
      )
    end

    it "registers retention per store (replacing)" do
      p1 = s::RetentionPolicy.new(strategy: :ephemeral)
      p2 = s::RetentionPolicy.new(strategy: :rolling_window, duration: 5.0)
      expect(graph.register_retention(:a, p1)).to be(graph)
      graph.register_retention(:b, p1).register_retention(:a, p2)
      expect(graph.retention_for(store: :a)).to be(p2)
      expect(graph.retention_for(store: :c)).to be_nil
      expect(graph.retention_stores).to eq(%i[a b])
      expect(graph.retention_snapshot).to eq(a: { strategy: :rolling_window, duration: 5.0 },
                                             b: { strategy: :ephemeral, duration: nil })
    end
  end

  describe "protocol descriptors" do
    it "groups command and effect descriptors by owner and exposes them in descriptor_snapshot" do
      graph.register_command_descriptor(owner: "tasks", name: "close", params: [])
      graph.register_effect_descriptor(owner: :tasks, name: :notify)
      expect(graph.command_snapshot).to eq(tasks: { close: { owner: "tasks", name: "close", params: [] } })
      expect(graph.effect_snapshot[:tasks].keys).to eq([:notify])
      graph.register_store_descriptor(name: "tasks", kind: :store)
      graph.register_history_descriptor(name: :events)
      graph.register_subscription_descriptor(name: :feed)
      snap = graph.descriptor_snapshot
      expect(snap.keys).to eq(%i[stores histories commands effects subscriptions])
      expect(snap[:stores][:tasks]).to eq(name: "tasks", kind: :store)
      expect(snap[:commands]).to be(graph.command_snapshot)
    end
  end
end
