# frozen_string_literal: true

RSpec.describe "Open protocol descriptor registration (OP1)" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { store.protocol }

  describe "entry points" do
    it "builds an interpreter with or without a store" do
      expect(Igniter::Store::Protocol.new).to be_a(Igniter::Store::Protocol::Interpreter)
      expect(Igniter::Store::Protocol.new(store).instance_variable_get(:@store)).to equal(store)
    end

    it "memoizes IgniterStore#protocol and registers through register_descriptor" do
      expect(store.protocol).to equal(store.protocol)
      receipt = store.register_descriptor(schema_version: 1, kind: :store, name: :tasks, key: "id")
      expect([receipt.status, receipt.kind, receipt.name]).to eq(%i[accepted store tasks])
    end

    it "is the same constant under Igniter::Ledger" do
      expect(Igniter::Ledger::Protocol).to equal(Igniter::Store::Protocol)
    end

    it "lists the handlers in spec order" do
      expect(Igniter::Store::Protocol::Interpreter::HANDLERS.keys)
        .to eq(%i[store history access_path relation projection derivation command effect subscription])
    end
  end

  describe "malformed descriptors" do
    it "rejects a missing kind" do
      r = proto.register({ name: :x })
      expect([r.status, r.errors]).to eq([:rejected, ["Missing required field: kind"]])
    end

    it "rejects an unknown kind naming it" do
      expect(proto.register({ kind: :wormhole, name: :x }).errors).to eq(["Unknown descriptor kind: :wormhole"])
    end

    it "rejects a non-Hash descriptor instead of raising" do
      expect(proto.register("store").errors.first).to match(/must be a Hash, got String/)
      expect(proto.register({ kind: 5 }).errors).to eq(["Unknown descriptor kind: 5"])
    end

    it "lists missing fields in REQUIRED order" do
      expect(proto.register_command(kind: :command, name: :c).errors).to eq(["Missing required fields: owner, operation"])
      expect(proto.register({ kind: "store" }).errors).to eq(["Missing required fields: name, key"])
      expect(proto.register({ kind: :effect, name: :e }).errors).to eq(["Missing required fields: owner, store_op, write_kind"])
    end
  end

  describe "each kind" do
    it "stores store, history and subscription descriptors verbatim with a Symbol name" do
      proto.register_store({ "kind" => "store", "name" => "tasks", "key" => "id", "fields" => [:title] })
      proto.register_history(kind: :history, name: :events, key: :id, partition_key: :task_id)
      proto.register_subscription(kind: :subscription, name: :watch, source: :tasks)
      snap = proto.descriptor_snapshot
      expect(snap[:stores][:tasks]).to eq(kind: "store", name: :tasks, key: "id", fields: [:title])
      expect(snap[:histories][:events][:partition_key]).to eq(:task_id)
      expect(snap[:subscriptions][:watch][:source]).to eq(:tasks)
    end

    it "registers an access path and warns for unique: false" do
      r = proto.register_access_path(kind: :access_path, name: :by_status, store: "tasks", fields: [:status], unique: false)
      expect(r.warnings).to eq(["unique: false — non-unique access paths are recorded but not enforced by the engine"])
      expect(proto.metadata_snapshot[:access_paths][:tasks].map { |p| p[:scope] }).to eq([:by_status])
      expect(proto.register(kind: :access_path, name: :b, store: :t, fields: [:x]).warnings).to eq([])
    end

    it "validates relation endpoints, accepts String nested keys and warns for cardinality one" do
      bad_from = proto.register(kind: :relation, name: :r, from: { store: :p }, to: { store: :t, field: :p })
      bad_to = proto.register(kind: :relation, name: :r, from: { store: :p, key: :id }, to: { store: :t })
      expect([bad_from.errors, bad_to.errors]).to eq([["from: must be { store:, key: }"], ["to: must be { store:, field: }"]])
      expect(bad_from.name).to eq(:r)
      ok = proto.register(kind: :relation, name: :r, cardinality: "one",
                          from: { "store" => "projects", "key" => "id" }, to: { "store" => "tasks", "field" => "project_id" })
      expect(ok.warnings).to eq(["cardinality: :one is informational only; engine always stores as G-Set"])
      expect(proto.metadata_snapshot[:relations][:r]).to include(source: :tasks, partition: :project_id, target: :projects)
    end

    it "normalizes projections, treating materialized (Symbol or String) as reactive unless reactive is explicit" do
      proto.register(kind: :projection, name: :board, source: :tasks, relations: ["r"], mode: "materialized")
      proto.register(kind: :projection, name: :list, reads: %w[tasks projects], mode: :materialized, reactive: false)
      projections = proto.metadata_snapshot[:projections]
      expect(projections[:board]).to eq(name: :board, reads: [:tasks], relations: [:r], consumer_hint: :protocol_client,
                                        reactive: true, store_count: 1, relation_count: 1)
      expect(projections[:list]).to include(reactive: false, store_count: 2)
      expect(proto.register(kind: :projection, name: :p).errors).to eq(["Missing required fields: reads or source"])
    end

    it "acknowledges a derivation as metadata only" do
      r = proto.register(kind: :derivation, name: :today_focus, inputs: [:tasks], output: :focus)
      expect(r.warnings.first).to start_with("derivation: :today_focus registered as metadata only")
      expect(proto.metadata_snapshot[:derivations]).to eq([])
    end

    it "normalizes commands and rejects unknown operations" do
      proto.register(kind: :command, name: "create", owner: "tasks", operation: "record_append", changes: [:title])
      expect(proto.metadata_snapshot[:commands][:tasks][:create])
        .to include(target_shape: :store, boundary: :app, mutation_intent: :record_append, changes: [:title])
      expect(proto.register(kind: :command, name: :c, owner: :o, operation: :teleport).errors)
        .to eq(["Unsupported command operation: :teleport"])
    end

    it "normalizes effects and rejects unknown store_op then write_kind" do
      proto.register(kind: :effect, name: :e, owner: :tasks, store_op: :store_append, write_kind: :append,
                     source_operation: "create")
      expect(proto.metadata_snapshot[:effects][:tasks][:e]).to include(lowers_to: :history_t, boundary: :app, source_operation: :create)
      expect(proto.register(kind: :effect, name: :e, owner: :o, store_op: :nuke, write_kind: :x).errors)
        .to eq(["Unsupported effect store_op: :nuke"])
      expect(proto.register(kind: :effect, name: :e, owner: :o, store_op: :none, write_kind: :x).errors)
        .to eq(["Unsupported effect write_kind: :x"])
    end
  end

  describe "deduplication" do
    let(:descriptor) { { kind: :store, name: :tasks, key: "id", fields: { a: 1, b: 2 } } }

    it "deduplicates identical content regardless of key order at any depth" do
      expect(proto.register(descriptor)).to be_accepted
      reordered = { fields: { b: 2, a: 1 }, key: "id", name: :tasks, kind: :store }
      expect(proto.register(reordered)).to be_deduplicated
    end

    it "treats type differences as new content" do
      proto.register(descriptor)
      expect(proto.register(descriptor.merge(kind: "store"))).to be_accepted
      expect(proto.register(descriptor.merge(fields: { a: 1.0, b: 2 }))).to be_accepted
    end

    it "re-applies a descriptor that a later one of the same name replaced" do
      proto.register(descriptor)
      proto.register(descriptor.merge(key: "uuid"))
      expect(proto.register(descriptor)).to be_accepted
      expect(proto.descriptor_snapshot[:stores][:tasks][:key]).to eq("id")
    end

    it "re-validates rejected descriptors and keeps registries per interpreter" do
      bad = { kind: :store, name: :x }
      expect([proto.register(bad), proto.register(bad)]).to all(be_rejected)
      proto.register(descriptor)
      expect(Igniter::Store::Protocol.new(store).register(descriptor)).to be_accepted
    end
  end
end
