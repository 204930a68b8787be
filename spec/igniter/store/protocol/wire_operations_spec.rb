# frozen_string_literal: true

# OP3 routing table (spec 04 §11): every operation through
# Interpreter#dispatch, the envelope contract and its error texts.
RSpec.describe "Open protocol wire operations" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  def call(op, packet = {}, request_id: "req-1")
    proto.dispatch({ protocol: :igniter_store, schema_version: 1, request_id: request_id, op: op, packet: packet })
  end

  def result(op, packet = {})
    resp = call(op, packet)
    raise "#{op} failed: #{resp[:error]}" unless resp[:status] == :ok

    resp[:result]
  end

  describe "envelope" do
    it "lists the 18 operations in spec order, then history, fact_by_id, stats and time_travel, frozen" do
      expect(Igniter::Store::Protocol::WireEnvelope::OPERATIONS).to eq(
        %i[register_descriptor write append write_fact read query resolve causation_chain lineage fact_ref
           metadata_snapshot descriptor_snapshot observability_snapshot sync_hub_profile replay storage_stats
           segment_manifest compaction_activity history fact_by_id stats time_travel]
      )
      expect(Igniter::Store::Protocol::WireEnvelope::OPERATIONS).to be_frozen
      expect([Igniter::Store::Protocol::WireEnvelope::PROTOCOL, Igniter::Store::Protocol::WireEnvelope::SCHEMA_VERSION])
        .to eq([:igniter_store, 1])
    end

    it "is a WireEnvelope over the interpreter" do
      expect(proto.wire).to be_a(Igniter::Store::Protocol::WireEnvelope)
      expect(Igniter::Store::Protocol::WireEnvelope.new(proto).dispatch({ protocol: :igniter_store, op: :descriptor_snapshot }))
        .to eq(proto.dispatch({ protocol: :igniter_store, op: :descriptor_snapshot }))
    end

    it "echoes request ids of any type, and nil when absent" do
      expect(call(:descriptor_snapshot, {}, request_id: 42)[:request_id]).to eq(42)
      expect(call(:teleport, {}, request_id: { n: 1 })[:request_id]).to eq(n: 1)
      expect(proto.dispatch({ protocol: :igniter_store, op: :descriptor_snapshot })[:request_id]).to be_nil
    end

    it "orders error envelope keys and names the unknown protocol, nil included" do
      resp = proto.dispatch({ protocol: :other_protocol, op: :read, request_id: "x" })
      expect(resp.keys).to eq(%i[protocol schema_version request_id status error])
      expect(resp).to include(protocol: :igniter_store, schema_version: 1, status: :error, error: "Unknown protocol: :other_protocol")
      expect(proto.dispatch({ op: :read })[:error]).to eq("Unknown protocol: nil")
      expect(proto.dispatch({ protocol: :igniter_store })[:error]).to match(/op/i)
    end

    it "accepts String top-level keys and a String op, and an absent schema_version counts as 1" do
      resp = proto.dispatch({ "protocol" => "igniter_store", "op" => "read", "packet" => { "store" => "t", "key" => "k" } })
      expect(resp).to include(status: :ok, result: { value: nil, found: false })
    end

    it "treats a missing packet as an empty one" do
      expect(proto.dispatch({ protocol: :igniter_store, op: :metadata_snapshot })[:result]).to eq(proto.metadata_snapshot)
      expect(proto.dispatch({ protocol: :igniter_store, op: :write })[:error]).to eq("Internal error: key not found: :store")
    end

    it "reports a non-Hash envelope as an error without raising" do
      expect(proto.dispatch("read")).to include(status: :error, request_id: nil)
      expect(proto.dispatch("read")[:error]).to start_with("Internal error: ")
    end
  end

  describe "register_descriptor" do
    it "returns accepted and rejected receipts in ok envelopes" do
      accepted = call(:register_descriptor, { kind: :store, name: :tasks, key: "id" })
      rejected = call(:register_descriptor, { kind: :wormhole })
      expect([accepted[:status], accepted[:result].kind, accepted[:result].name]).to eq(%i[ok store tasks])
      expect([rejected[:status], rejected[:result].rejected?, rejected[:result].errors.first])
        .to eq([:ok, true, "Unknown descriptor kind: :wormhole"])
    end

    it "puts commands and effects registered over the wire into the metadata" do
      call(:register_descriptor, { kind: "command", name: "create", owner: "tasks", operation: "record_append" })
      call(:register_descriptor, { kind: "effect", name: "e", owner: "tasks", store_op: "store_append", write_kind: "append" })
      meta = result(:metadata_snapshot)
      expect(meta[:commands][:tasks][:create][:operation]).to eq(:record_append)
      expect(meta[:effects][:tasks][:e][:lowers_to]).to eq(:history_t)
    end
  end

  describe "write, append and write_fact" do
    it "writes, returning a receipt with the fact id" do
      receipt = result(:write, { store: :tasks, key: "t1", value: { n: 1 } })
      expect([receipt.accepted?, receipt.store, receipt.fact_id]).to eq([true, :tasks, store.fact_log_all.last.id])
    end

    it "errors for a write without store, key or value" do
      %i[store key value].each do |field|
        packet = { store: :tasks, key: "t1", value: { n: 1 } }.except(field)
        expect(call(:write, packet)).to include(status: :error, error: "Internal error: key not found: :#{field}")
      end
      expect(store.fact_count).to eq(0)
    end

    it "forwards the producer and term on write" do
      receipt = result(:write, { store: :tasks, key: "t1", value: { n: 1 }, producer: { system: :wire }, term: 3.5 })
      fact = store.fact_by_id(receipt.fact_id)
      expect([fact.producer, fact.valid_time]).to eq([{ system: :wire }, 3.5])
    end

    it "appends with partition_key, schema_version and valid_time" do
      receipt = result(:append, { history: :events, event: { task_id: "t1" }, partition_key: :task_id, valid_time: 9.5 })
      fact = store.fact_by_id(receipt.fact_id)
      expect([receipt.kind, fact.valid_time, fact.store]).to eq([:append_receipt, 9.5, :events])
      expect(call(:append, { history: :events })[:error]).to eq("Internal error: key not found: :event")
    end

    it "writes a fact packet" do
      receipt = result(:write_fact, { kind: :fact, store: :readings, key: "r1", value: { value: 7.0 } })
      expect([receipt.accepted?, receipt.store, receipt.key]).to eq([true, :readings, "r1"])
      expect(result(:read, { store: :readings, key: "r1" })).to eq(value: { value: 7.0 }, found: true)
    end
  end

  describe "read and query" do
    before do
      proto.write(store: :tasks, key: "t1", value: { status: :open, n: 2 })
      proto.write(store: :tasks, key: "t2", value: { status: :open, n: 1 })
      proto.write(store: :tasks, key: "t3", value: { status: :done, n: 3 })
    end

    it "reads as of a time and errors without a key" do
      expect(result(:read, { store: :tasks, key: "t1", as_of: 0.0 })).to eq(value: nil, found: false)
      expect(result(:read, { store: :tasks, key: "t1" })).to eq(value: { status: :open, n: 2 }, found: true)
      expect(call(:read, { store: :tasks })[:status]).to eq(:error)
    end

    it "queries with items, results and count, ordered and limited" do
      q = result(:query, { store: :tasks, where: { status: :open }, order: :n, limit: 1 })
      expect(q.except(:facts)).to eq(items: [{ key: "t2", value: { status: :open, n: 1 } }], results: [{ status: :open, n: 1 }], count: 1)
      # Added beside 0.5.2's members: the facts whole, as fact bodies.
      expect(q[:facts].map { |doc| Igniter::Store::Fact.from_h(doc) }).to eq([store.history(store: :tasks, key: "t2").last])
    end

    it "counts the latest values matching a Symbol where" do
      expect(result(:query, { store: :tasks, where: { status: :open } })[:count]).to eq(2)
      expect(result(:query, { store: :tasks, where: { status: "open" } })[:count]).to eq(0)
    end

    it "queries everything without a where, and errors without a store" do
      expect(result(:query, { store: :tasks })[:count]).to eq(3)
      expect(result(:query, { store: :tasks, where: {} })[:count]).to eq(3)
      expect(call(:query, { where: {} })).to include(status: :error, error: "Internal error: key not found: :store")
    end
  end

  describe "resolve" do
    before do
      call(:register_descriptor, { kind: :relation, name: :project_tasks, from: { store: :projects, key: :id },
                                   to: { store: :tasks, field: :project_id } })
      call(:write, { store: :tasks, key: "t1", value: { title: "A", project_id: "p1" } })
      call(:write, { store: :tasks, key: "t2", value: { title: "B", project_id: "p1" } })
    end

    it "resolves a String relation name to items, results and count" do
      r = result(:resolve, { relation: "project_tasks", from: "p1" })
      expect(r[:items].map { |i| i[:key] }).to eq(%w[t1 t2])
      expect([r[:results].map { |t| t[:title] }, r[:count]]).to eq([%w[A B], 2])
      expect(r[:items].map { |i| i[:value] }).to eq(r[:results])
    end

    it "reports a nil relation as a single-line internal error" do
      resp = call(:resolve, { relation: nil, from: "p1" })
      expect([resp[:status], resp[:error]]).to match([:error, /\AInternal error: [^\n]*\z/])
    end

    it "answers count 0 for an unknown partition value and errors for an unknown relation" do
      expect(result(:resolve, { relation: :project_tasks, from: "p9" })).to eq(items: [], results: [], count: 0)
      expect(call(:resolve, { relation: :x, from: "p1" })[:error]).to eq("Internal error: No relation registered: :x")
      expect(call(:resolve, { relation: :project_tasks })[:error]).to eq("Internal error: key not found: :from")
    end
  end

  describe "provenance" do
    before do
      @first = result(:write, { store: :tasks, key: "t1", value: { n: 1 } })
      @second = result(:write, { store: :tasks, key: "t1", value: { n: 2 } })
    end

    it "walks the causation chain" do
      chain = result(:causation_chain, { store: "tasks", key: "t1" })
      expect(chain[:count]).to eq(2)
      expect(chain[:chain].last[:causation]).to eq(@first.fact_id)
    end

    it "answers lineage like the interpreter" do
      lineage = result(:lineage, { store: :tasks, key: "t1" })
      expect(lineage).to eq(proto.lineage(store: :tasks, key: "t1"))
      expect([lineage[:subject], lineage[:depth], lineage[:proof_hash]]).to match([{ store: :tasks, key: "t1" }, 2, String])
    end

    it "answers fact_ref found and not found, never with a value" do
      found = result(:fact_ref, { fact_id: @second.fact_id })
      expect([found[:found], found[:ref][:id], found[:ref].key?(:value)]).to eq([true, @second.fact_id, false])
      expect(result(:fact_ref, { fact_id: "nope" })).to eq(found: false, ref: nil)
      expect(call(:fact_ref, {})[:status]).to eq(:error)
    end
  end

  describe "snapshots, sync and replay" do
    it "returns the interpreter's metadata and descriptor snapshots" do
      call(:register_descriptor, { kind: :store, name: :tasks, key: "id" })
      expect(result(:metadata_snapshot)).to eq(proto.metadata_snapshot)
      expect(result(:descriptor_snapshot)).to eq(proto.descriptor_snapshot)
    end

    it "returns a SyncProfile object that honors the cursor and stores filter" do
      call(:write, { store: :tasks, key: "t1", value: { n: 1 } })
      boundary = clock_boundary
      call(:write, { store: :tasks, key: "t2", value: { n: 2 } })
      call(:write, { store: :other, key: "o1", value: { n: 3 } })
      full = result(:sync_hub_profile)
      incremental = result(:sync_hub_profile, { cursor: { kind: :timestamp, value: boundary }, stores: ["tasks"] })
      expect([full.class, full.full?, full.fact_count]).to eq([Igniter::Store::Protocol::SyncProfile, true, 3])
      expect([incremental.incremental?, incremental.facts.map { |f| f[:key] }]).to eq([true, ["t2"]])
    end

    it "replays with count, store, store+key, partition and time filters" do
      call(:append, { history: :events, event: { task_id: "t1" }, partition_key: :task_id })
      boundary = clock_boundary
      call(:append, { history: :events, event: { task_id: "t2" }, partition_key: :task_id })
      call(:write, { store: :tasks, key: "t1", value: { n: 1 } })
      expect(result(:replay)[:count]).to eq(3)
      expect(result(:replay, { filter: { store: :events } })[:count]).to eq(2)
      expect(result(:replay, { filter: { store: :tasks, key: "t1" } })[:facts].map { |f| f[:store] }).to eq([:tasks])
      partition = result(:replay, { filter: { store: :events, partition_key: :task_id, partition_value: "t2" } })
      expect([partition[:count], partition[:facts].first[:value]]).to eq([1, { task_id: "t2" }])
      expect(result(:replay, { from: boundary })[:count]).to eq(2)
      expect(result(:replay, { to: boundary })[:count]).to eq(1)
    end
  end

  context "with a segmented store" do
    around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

    let(:store) { Igniter::Store.segmented(File.join(@dir, "seg")) }

    after { store.close }

    it "passes String-keyed storage stats and the segment manifest through, store-filtered" do
      call(:write, { store: :orders, key: "o1", value: { n: 1 } })
      call(:write, { store: :tasks, key: "t1", value: { n: 1 } })
      stats = result(:storage_stats, { store: "orders" })
      expect([stats["schema_version"], stats["stores"].keys]).to eq([1, ["orders"]])
      expect(result(:storage_stats)["stores"].keys.sort).to eq(%w[orders tasks])
      manifest = result(:segment_manifest, { store: :orders })
      expect(manifest["stores"]["orders"]["segments"].first).to include("sealed" => false, "fact_count" => 1)
      expect(result(:metadata_snapshot)[:storage]["stores"].keys.sort).to eq(%w[orders tasks])
    end
  end
end
