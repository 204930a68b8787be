# frozen_string_literal: true

# OP2 metadata export (spec 04 §6, §17.2): shapes of every section, the
# storage passthrough of a segmented store, and determinism.
RSpec.describe "Open protocol metadata snapshot" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  def register_everything(proto)
    proto.register(kind: :store, name: :tasks, key: "id", fields: %i[title status])
    proto.register(kind: :history, name: :events, key: "id", partition_key: :task_id)
    proto.register(kind: :access_path, name: :open, store: :tasks, fields: [:status], cache_ttl: 5)
    proto.register(kind: :relation, name: :project_tasks, from: { store: :projects, key: :id },
                   to: { store: :tasks, field: :project_id })
    proto.register(kind: :projection, name: :board, reads: [:tasks], relations: [:project_tasks])
    proto.register(kind: :command, name: :create, owner: :tasks, operation: :record_append)
    proto.register(kind: :effect, name: :create_effect, owner: :tasks, store_op: :store_write, write_kind: :insert)
    proto.register(kind: :subscription, name: :watch, source: :tasks)
  end

  it "is schema_version 1 with every section even when nothing is registered" do
    expect(proto.metadata_snapshot).to eq(schema_version: 1, stores: {}, histories: {}, access_paths: {}, relations: {},
                                          projections: {}, commands: {}, effects: {}, derivations: [], scatters: [],
                                          subscriptions: {}, retention: {})
  end

  it "exports each registered kind in its section" do
    register_everything(proto)
    snap = proto.metadata_snapshot
    expect(snap[:stores][:tasks]).to include(name: :tasks, key: "id")
    expect(snap[:histories][:events]).to include(name: :events, partition_key: :task_id)
    expect(snap[:access_paths][:tasks].first).to include(scope: :open, cache_ttl: 5, consumer_count: 0)
    expect(snap[:relations][:project_tasks]).to include(source: :tasks, partition: :project_id)
    expect(snap[:projections][:board]).to include(relations: [:project_tasks], relation_count: 1)
    expect(snap[:commands][:tasks][:create]).to include(operation: :record_append)
    expect(snap[:effects][:tasks][:create_effect]).to include(lowers_to: :store_t)
    expect(snap[:subscriptions][:watch]).to include(source: :tasks)
    expect(snap[:scatters].first).to include(source_store: :tasks, target_store: :__rel_project_tasks)
  end

  it "lists rule derivations registered on the store, with :callable for a callable target key" do
    store.register_derivation(source_store: :tasks, source_filters: { status: :open }, target_store: :stats,
                              target_key: ->(_facts) { "k" }, rule: ->(facts) { { n: facts.size } })
    expect(proto.metadata_snapshot[:derivations])
      .to eq([{ index: 0, source_store: :tasks, source_filters: { status: :open }, target_store: :stats,
                target_key: :callable, has_rule: true }])
  end

  it "exports retention policies as {strategy:, duration:}" do
    store.set_retention(:logs, strategy: :rolling_window, duration: 60)
    expect(proto.metadata_snapshot[:retention]).to eq(logs: { strategy: :rolling_window, duration: 60 })
  end

  it "gives descriptor_snapshot the five raw descriptor registries" do
    register_everything(proto)
    snap = proto.descriptor_snapshot
    expect(snap.keys).to eq(%i[stores histories commands effects subscriptions])
    expect(snap.except(:commands, :effects)).to eq(proto.metadata_snapshot.slice(:stores, :histories, :subscriptions))
    expect(snap[:commands][:tasks].keys).to eq([:create])
  end

  it "uses Symbol keys everywhere for a memory store and is equal call to call" do
    register_everything(proto)
    proto.write(store: :tasks, key: "t1", value: { project_id: "p1" })
    expect(all_keys_symbols?(proto.metadata_snapshot)).to be(true)
    expect(proto.metadata_snapshot).to eq(proto.metadata_snapshot)
    expect(proto.descriptor_snapshot).to eq(proto.descriptor_snapshot)
  end

  it "cannot be used to change projections, commands or access paths" do
    register_everything(proto)
    snap = proto.metadata_snapshot
    snap[:projections][:board][:reads] << :hacked
    snap[:commands][:tasks].clear
    snap[:access_paths][:tasks].clear
    fresh = proto.metadata_snapshot
    expect([fresh[:projections][:board][:reads], fresh[:commands][:tasks].keys, fresh[:access_paths][:tasks].size])
      .to eq([[:tasks], [:create], 1])
  end

  context "with a segmented store" do
    around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

    let(:store) { Igniter::Store.segmented(File.join(@dir, "seg")) }

    after { store.close }

    it "adds the backend's String-keyed storage section for all stores" do
      proto.write(store: :orders, key: "o1", value: { n: 1 })
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      storage = proto.metadata_snapshot[:storage]
      expect(storage.keys).to eq(%w[schema_version generated_at stores recovery])
      expect(storage["stores"].keys.sort).to eq(%w[orders tasks])
      expect(proto.metadata_snapshot.except(:storage).keys.last).to eq(:retention)
    end

    it "passes storage_stats and segment_manifest through, filtered by a Symbol or String store" do
      proto.write(store: :orders, key: "o1", value: { n: 1 })
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      expect(proto.storage_stats(store: :orders)["stores"].keys).to eq(["orders"])
      manifest = proto.segment_manifest(store: "orders")
      expect(manifest["stores"].keys).to eq(["orders"])
      expect(manifest["stores"]["orders"]["segments"].map { |s| s["sealed"] }).to eq([false])
      expect(proto.storage_stats(store: :orders).except("generated_at"))
        .to eq(store.storage_stats(store: :orders).except("generated_at"))
    end
  end

  it "has no storage key for a plain file store" do
    with_tmpdir do |dir|
      file_store = Igniter::Store.open(File.join(dir, "l.wal"))
      snap = Igniter::Store::Protocol.new(file_store).metadata_snapshot
      expect([snap.key?(:storage), file_store.protocol.storage_stats, file_store.protocol.segment_manifest]).to eq([false, nil, nil])
      file_store.close
    end
  end
end
