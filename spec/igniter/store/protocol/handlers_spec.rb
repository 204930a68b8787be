# frozen_string_literal: true

# Per-kind handler rules of spec 04 §5.2: required fields, defaults,
# normalization, warnings and what each kind leaves in the store.
RSpec.describe "Open protocol descriptor handlers" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:handlers) { Igniter::Store::Protocol::Handlers }

  it "declares the REQUIRED fields of every kind in spec order" do
    expect(handlers::StoreHandler::REQUIRED).to eq(%i[name key])
    expect(handlers::HistoryHandler::REQUIRED).to eq(%i[name key])
    expect(handlers::AccessPathHandler::REQUIRED).to eq(%i[name store fields])
    expect(handlers::RelationHandler::REQUIRED).to eq(%i[name from to])
    expect(handlers::DerivationHandler::REQUIRED).to eq(%i[name inputs output])
    expect(handlers::CommandHandler::REQUIRED).to eq(%i[name owner operation])
    expect(handlers::EffectHandler::REQUIRED).to eq(%i[name owner store_op write_kind])
    expect(handlers::SubscriptionHandler::REQUIRED).to eq(%i[name source])
  end

  it "declares the command operations and effect store ops / write kinds" do
    expect(handlers::CommandHandler::OPERATIONS).to eq(%i[record_append record_update history_append none])
    expect(handlers::EffectHandler::STORE_OPS).to eq(%i[store_write store_append none])
    expect(handlers::EffectHandler::WRITE_KINDS).to eq(%i[insert update append none])
  end

  it "maps every kind to its handler class, usable on its own" do
    receipt = handlers::StoreHandler.new(store).call({ kind: :store, name: :tasks, key: "id" })
    expect([receipt.status, receipt.kind, receipt.name]).to eq(%i[accepted store tasks])
    expect(Igniter::Store::Protocol::Interpreter::HANDLERS.values.map(&:name).map { |n| n.split("::").last })
      .to eq(%w[StoreHandler HistoryHandler AccessPathHandler RelationHandler ProjectionHandler DerivationHandler
                CommandHandler EffectHandler SubscriptionHandler])
  end

  describe "missing required fields" do
    {
      store: "name, key", history: "name, key", access_path: "name, store, fields", relation: "name, from, to",
      derivation: "name, inputs, output", command: "name, owner, operation",
      effect: "name, owner, store_op, write_kind", subscription: "name, source"
    }.each do |kind, fields|
      it "rejects a bare #{kind} descriptor listing #{fields}, with kind :#{kind} and no name" do
        r = proto.register({ kind: kind })
        expect([r.status, r.kind, r.name, r.errors]).to eq([:rejected, kind, nil, ["Missing required fields: #{fields}"]])
      end
    end

    it "treats an explicit nil as missing and false as present" do
      expect(proto.register({ kind: :store, name: :t, key: nil }).errors).to eq(["Missing required fields: key"])
      expect(proto.register({ kind: :store, name: :t, key: false })).to be_accepted
    end

    it "names only the fields that are missing, in REQUIRED order" do
      expect(proto.register({ kind: :subscription, source: :tasks }).errors).to eq(["Missing required fields: name"])
      expect(proto.register({ kind: :effect, name: :e, write_kind: :insert }).errors)
        .to eq(["Missing required fields: owner, store_op"])
    end

    it "requires a projection name, then reads or source" do
      expect(proto.register({ kind: :projection, reads: [:tasks] }).errors).to eq(["Missing required fields: name"])
      expect(proto.register({ kind: :projection, name: :p, reads: nil }).errors).to eq(["Missing required fields: reads or source"])
    end

    it "changes nothing in the store when a descriptor is rejected" do
      proto.register({ kind: :relation, name: :r, from: { store: :p }, to: { store: :t, field: :p } })
      proto.register({ kind: :command, name: :c, owner: :o, operation: :teleport })
      snap = proto.metadata_snapshot
      expect([snap[:relations], snap[:scatters], snap[:commands], store.fact_count]).to eq([{}, [], {}, 0])
    end
  end

  describe "values that cannot become Symbols" do
    {
      { kind: :store, name: 5, key: "id" } => ["name: must be a Symbol or String, got 5", nil],
      { kind: :history, name: {}, key: "id" } => ["name: must be a Symbol or String, got {}", nil],
      { kind: :access_path, name: :a, store: 5, fields: [:x] } => ["store: must be a Symbol or String, got 5", :a],
      { kind: :command, name: :c, owner: 1, operation: :none } => ["owner: must be a Symbol or String, got 1", :c],
      { kind: :command, name: :c, owner: :o, operation: :none, boundary: 2 } => ["boundary: must be a Symbol or String, got 2", :c],
      { kind: :effect, name: :e, owner: :o, store_op: 1, write_kind: :none } => ["store_op: must be a Symbol or String, got 1", :e],
      { kind: :derivation, name: [:d], inputs: [], output: :x } => ["name: must be a Symbol or String, got [:d]", nil],
      { kind: :projection, name: :p, reads: [:tasks, 1] } => ["reads: must be Symbols or Strings, got [:tasks, 1]", :p],
      { kind: :projection, name: :p, source: :t, relations: [{}] } => ["relations: must be Symbols or Strings, got [{}]", :p],
      { kind: :projection, name: :p, source: :t, consumer_hint: 3 } => ["consumer_hint: must be a Symbol or String, got 3", :p],
      { kind: :relation, name: :r, from: { store: 1, key: :id }, to: { store: :t, field: :f } } => ["from: must be { store:, key: }", :r],
      { kind: :relation, name: :r, from: { store: :p, key: :id }, to: { store: :t, field: [:f] } } => ["to: must be { store:, field: }", :r]
    }.each do |descriptor, (message, name)|
      it "rejects #{descriptor.inspect} instead of raising" do
        r = proto.register(descriptor)
        expect([r.status, r.kind, r.name, r.errors]).to eq([:rejected, descriptor[:kind], name, [message]])
        expect(proto.metadata_snapshot.except(:schema_version).values.all?(&:empty?)).to be(true)
      end
    end
  end

  describe "store, history and subscription" do
    it "keeps the descriptor verbatim with a Symbol name, replacing an earlier one of that name" do
      proto.register({ kind: "store", name: "tasks", key: "id", capabilities: ["as_of_read"], extensions: { x: 1 } })
      proto.register({ kind: "store", name: :tasks, key: "uuid" })
      expect(proto.descriptor_snapshot[:stores]).to eq(tasks: { kind: "store", name: :tasks, key: "uuid" })
    end

    it "records histories with their optional fields" do
      r = proto.register({ kind: :history, name: "events", key: :id, event_field: :kind, timestamp_field: :at,
                           partition_key: :task_id })
      expect(r.name).to eq(:events)
      expect(proto.descriptor_snapshot[:histories][:events])
        .to eq(kind: :history, name: :events, key: :id, event_field: :kind, timestamp_field: :at, partition_key: :task_id)
    end

    it "records subscriptions as metadata only, creating no facts" do
      r = proto.register({ kind: :subscription, name: :open_tasks, source: :tasks, where: { status: :open },
                           events: [:write] })
      expect([r.status, r.warnings]).to eq([:accepted, []])
      expect(proto.descriptor_snapshot[:subscriptions][:open_tasks]).to include(source: :tasks, where: { status: :open })
      expect(store.fact_count).to eq(0)
    end
  end

  describe "access_path" do
    it "registers a primary-key scope path named after the descriptor, with its cache_ttl" do
      r = proto.register({ kind: :access_path, name: "open", store: "tasks", fields: [:status], cache_ttl: 30 })
      expect([r.status, r.name, r.warnings]).to eq([:accepted, :open, []])
      expect(proto.metadata_snapshot[:access_paths][:tasks])
        .to eq([{ store: :tasks, scope: :open, lookup: :primary_key, filters: {}, cache_ttl: 30, consumer_count: 0 }])
    end

    it "warns for unique: nil as for unique: false" do
      r = proto.register({ kind: :access_path, name: :a, store: :t, fields: [:x], unique: nil })
      expect(r.warnings).to eq(["unique: false \u2014 non-unique access paths are recorded but not enforced by the engine"])
    end

    it "lists paths registered directly on the store too, in registration order" do
      proto.register({ kind: :access_path, name: :a, store: :t, fields: [:x] })
      store.register_path(Igniter::Store::AccessPath.new(store: :t, lookup: :scope, scope: :direct, filters: { x: 1 },
                                                         consumers: []))
      expect(proto.metadata_snapshot[:access_paths][:t].map { |p| p[:scope] }).to eq(%i[a direct])
    end

    it "does not add an identical path twice when another interpreter registers it again" do
      descriptor = { kind: :access_path, name: :a, store: :t, fields: [:x] }
      proto.register(descriptor)
      expect(Igniter::Store::Protocol.new(store).register(descriptor)).to be_accepted
      expect(proto.metadata_snapshot[:access_paths][:t].size).to eq(1)
    end
  end

  describe "relation" do
    let(:ends) { { from: { store: :projects, key: :id }, to: { store: :tasks, field: :project_id } } }

    it "registers the rule and its index scatter" do
      r = proto.register({ kind: :relation, name: :project_tasks, **ends })
      expect([r.status, r.name, r.warnings]).to eq([:accepted, :project_tasks, []])
      expect(proto.metadata_snapshot[:scatters]).to eq([{ index: 0, source_store: :tasks, partition_by: :project_id,
                                                          target_store: :__rel_project_tasks, has_rule: true }])
    end

    it "warns for cardinality :one only" do
      expect(proto.register({ kind: :relation, name: :a, cardinality: :one, **ends }).warnings)
        .to eq(["cardinality: :one is informational only; engine always stores as G-Set"])
      expect(proto.register({ kind: :relation, name: :b, cardinality: :many, **ends }).warnings).to eq([])
    end

    it "checks from before to and rejects non-Hash endpoints with the relation name" do
      r = proto.register({ kind: :relation, name: "r", from: "projects", to: "tasks" })
      expect([r.errors, r.kind, r.name]).to eq([["from: must be { store:, key: }"], :relation, :r])
      expect(proto.register({ kind: :relation, name: :r, from: ends[:from], to: [:tasks] }).errors)
        .to eq(["to: must be { store:, field: }"])
    end

    it "indexes source writes made after registration under the partition value" do
      proto.write(store: :tasks, key: "t0", value: { project_id: "p1" })
      proto.register({ kind: :relation, name: :project_tasks, **ends })
      proto.write(store: :tasks, key: "t1", value: { project_id: "p1" })
      proto.write(store: :tasks, key: "t2", value: { project_id: nil })
      expect(proto.read(store: :__rel_project_tasks, key: "p1")).to eq(keys: ["t1"], count: 1, partition_key: "p1")
      expect(proto.resolve(:project_tasks, from: "p1")).to eq([{ project_id: "p1" }])
    end

    it "replaces the index rule when the relation is registered again with other content" do
      proto.register({ kind: :relation, name: :r, **ends })
      proto.register({ kind: :relation, name: :r, cardinality: :many, **ends })
      proto.write(store: :tasks, key: "t1", value: { project_id: "p1" })
      expect([proto.metadata_snapshot[:scatters].size, store.fact_count]).to eq([1, 2])
    end
  end

  describe "projection" do
    it "defaults consumer_hint, mode and relations" do
      proto.register({ kind: :projection, name: :board, reads: :tasks })
      expect(proto.metadata_snapshot[:projections][:board])
        .to eq(name: :board, reads: [:tasks], relations: [], consumer_hint: :protocol_client, reactive: false,
               store_count: 1, relation_count: 0)
    end

    it "prefers reads over source and converts names and the consumer hint to Symbols" do
      proto.register({ kind: :projection, name: "p", reads: ["tasks"], source: :ignored, relations: "r1",
                       consumer_hint: "dashboard", group_by: :status })
      expect(proto.metadata_snapshot[:projections][:p])
        .to include(reads: [:tasks], relations: [:r1], consumer_hint: :dashboard, store_count: 1, relation_count: 1)
    end

    it "uses an explicit reactive key even when it is nil" do
      proto.register({ kind: :projection, name: :a, source: :t, reactive: true })
      proto.register({ kind: :projection, name: :b, source: :t, mode: :materialized, reactive: nil })
      expect(proto.metadata_snapshot[:projections].transform_values { |p| p[:reactive] }).to eq(a: true, b: false)
    end

    it "replaces a projection of the same name" do
      proto.register({ kind: :projection, name: :p, source: :a })
      proto.register({ kind: :projection, name: :p, reads: %i[a b] })
      expect(proto.metadata_snapshot[:projections].values.map { |p| p[:store_count] }).to eq([2])
    end
  end

  describe "derivation" do
    it "warns with the inspected name and stores nothing" do
      r = proto.register({ kind: :derivation, name: "today_focus", inputs: [:tasks], output: :focus })
      expect(r.warnings).to eq(["derivation: :today_focus registered as metadata only; attach a rule callable via " \
                                "register_derivation to enable execution"])
      expect([proto.metadata_snapshot[:derivations], proto.descriptor_snapshot.values.all?(&:empty?), store.fact_count])
        .to eq([[], true, 0])
    end
  end

  describe "command" do
    it "defaults target_shape by operation" do
      { record_append: :store, record_update: :store, history_append: :history, none: :none }.each do |op, shape|
        proto.register({ kind: :command, name: op, owner: :app, operation: op })
        expect(proto.descriptor_snapshot[:commands][:app][op]).to include(target_shape: shape, mutation_intent: op,
                                                                          boundary: :app)
      end
    end

    it "tokenizes given values and keeps unknown keys, stored under owner and name" do
      proto.register({ kind: "command", name: "close", owner: "tasks", operation: "record_update",
                       target_shape: "history", boundary: "service", mutation_intent: "close_task",
                       changes: { status: :closed } })
      expect(proto.descriptor_snapshot[:commands])
        .to eq(tasks: { close: { kind: "command", name: :close, owner: :tasks, operation: :record_update,
                                 target_shape: :history, boundary: :service, mutation_intent: :close_task,
                                 changes: { status: :closed } } })
    end

    it "rejects an unsupported operation with kind :command and no name" do
      r = proto.register({ kind: :command, name: :c, owner: :o, operation: "teleport" })
      expect([r.errors, r.kind, r.name]).to eq([["Unsupported command operation: :teleport"], :command, nil])
    end
  end

  describe "effect" do
    it "defaults lowers_to by store_op and boundary to :app, omitting an absent source_operation" do
      { store_write: :store_t, store_append: :history_t, none: :none }.each do |op, lowered|
        proto.register({ kind: :effect, name: op, owner: :app, store_op: op, write_kind: :none })
        effect = proto.descriptor_snapshot[:effects][:app][op]
        expect([effect[:lowers_to], effect[:boundary], effect.key?(:source_operation)]).to eq([lowered, :app, false])
      end
    end

    it "keeps a nil source_operation and tokenizes given values" do
      proto.register({ kind: :effect, name: "e", owner: "tasks", store_op: "store_write", write_kind: "insert",
                       lowers_to: "custom", source_operation: nil, note: "kept" })
      expect(proto.descriptor_snapshot[:effects][:tasks][:e])
        .to include(name: :e, owner: :tasks, store_op: :store_write, write_kind: :insert, lowers_to: :custom,
                    source_operation: nil, note: "kept")
    end

    it "rejects an unsupported store_op before an unsupported write_kind, with kind :effect" do
      r = proto.register({ kind: :effect, name: :e, owner: :o, store_op: :nuke, write_kind: :nope })
      expect([r.errors, r.kind, r.name]).to eq([["Unsupported effect store_op: :nuke"], :effect, nil])
    end
  end
end
