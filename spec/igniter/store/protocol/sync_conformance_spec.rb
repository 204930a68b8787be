# frozen_string_literal: true

# OP4 replay and sync hub profiles against spec 04 §8, §17.3 and §17.4.
RSpec.describe "Open protocol replay and sync conformance" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:profile_class) { Igniter::Store::Protocol::SyncProfile }

  describe "IgniterStore#fact_log_all" do
    it "returns every fact, or those since / as of an inclusive time" do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      boundary = clock_boundary
      proto.write(store: :tasks, key: "t2", value: { n: 2 })
      expect(store.fact_log_all.map(&:key)).to eq(%w[t1 t2])
      expect(store.fact_log_all(since: boundary).map(&:key)).to eq(["t2"])
      expect(store.fact_log_all(as_of: boundary).map(&:key)).to eq(["t1"])
      tt = store.fact_log_all.last.transaction_time
      expect([store.fact_log_all(since: tt).size, store.fact_log_all(as_of: tt).size]).to eq([1, 2])
    end
  end

  describe "#replay" do
    it "emits packets with the fact's own fields, a Symbol store, a String key and a Symbol-keyed value" do
      r = proto.write(store: "tasks", key: :t1, value: { "title" => "A" }, valid_time: 5.0, producer: { system: :spec })
      packet = proto.replay.first
      fact = store.fact_by_id(r.fact_id)
      expect(packet).to eq(schema_version: 1, kind: :fact, id: fact.id, store: :tasks, key: "t1", value: { title: "A" },
                           value_hash: fact.value_hash, causation: nil, transaction_time: fact.transaction_time,
                           valid_time: 5.0, producer: { system: :spec }, derivation: nil)
    end

    it "includes relation index facts right after their source fact when unfiltered" do
      proto.register(kind: :relation, name: :pt, from: { store: :projects, key: :id }, to: { store: :tasks, field: :project_id })
      proto.write(store: :tasks, key: "t1", value: { project_id: "p1" })
      proto.write(store: :notes, key: "n1", value: { n: 1 })
      expect(proto.replay.map { |p| [p[:store], p[:key]] }).to eq([[:tasks, "t1"], [:__rel_pt, "p1"], [:notes, "n1"]])
    end

    it "bounds a partition replay by from and to" do
      proto.append(history: :events, event: { task_id: "t1", n: 1 }, partition_key: :task_id)
      after_first = clock_boundary
      proto.append(history: :events, event: { task_id: "t1", n: 2 }, partition_key: :task_id)
      before_last = clock_boundary
      proto.append(history: :events, event: { task_id: "t1", n: 3 }, partition_key: :task_id)
      filter = { store: :events, partition_key: :task_id, partition_value: "t1" }
      expect(proto.replay(filter: filter).map { |p| p[:value][:n] }).to eq([1, 2, 3])
      expect(proto.replay(filter: filter, from: after_first, to: before_last).map { |p| p[:value][:n] }).to eq([2])
    end

    it "treats key: nil as the whole store and ignores a filter without a store" do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      proto.write(store: :tasks, key: "t2", value: { n: 2 })
      proto.write(store: :other, key: "o1", value: { n: 3 })
      expect(proto.replay(filter: { store: :tasks, key: nil }).size).to eq(2)
      expect(proto.replay(filter: { partition_key: :x, partition_value: 1 }).size).to eq(3)
    end

    it "pages in (transaction_time, fact id) order, pages concatenating to that whole order" do
      5.times { |i| proto.write(store: :tasks, key: "t#{i}", value: { n: i }) }
      order = store.fact_log_all.sort_by { |f| [f.transaction_time, f.id] }.map(&:id)
      first = proto.replay(limit: 2)
      rest = proto.replay(after: Igniter::Store::Protocol::ReplayCursor.after(first.last))
      expect((first + rest).map { |p| p[:id] }).to eq(order)
    end

    it "rejects a negative or non-Integer limit" do
      expect { proto.replay(limit: -1) }.to raise_error(ArgumentError, /limit must be a non-negative Integer/)
      expect { proto.sync_hub_profile(limit: "2") }.to raise_error(ArgumentError, /limit must be a non-negative Integer/)
    end
  end

  describe "#sync_hub_profile" do
    before do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      proto.write(store: :tasks, key: "t2", value: { n: 2 })
      @boundary = clock_boundary
      proto.write(store: :tasks, key: "t3", value: { n: 3 })
    end

    it "embeds the metadata snapshot, retention and the realtime generation time" do
      store.set_retention(:tasks, strategy: :permanent)
      before = realtime
      profile = proto.sync_hub_profile
      expect(profile.descriptors).to eq(proto.metadata_snapshot)
      expect(profile.retention).to eq(tasks: { strategy: :permanent, duration: nil })
      expect(profile.generated_at).to be_between(before, realtime)
      expect(profile.subscription_checkpoints).to eq({})
    end

    it "keeps the cursor exactly as passed" do
      cursor = { kind: :timestamp, value: @boundary }
      expect(proto.sync_hub_profile(cursor: cursor).cursor).to equal(cursor)
    end

    it "returns only facts at or after a timestamp cursor, fewer than the full profile" do
      incremental = proto.sync_hub_profile(cursor: { kind: :timestamp, value: @boundary })
      expect([incremental.fact_count, incremental.incremental?]).to eq([1, true])
      expect(incremental.fact_count).to be < proto.sync_hub_profile.fact_count
    end

    it "reports a String-keyed cursor as incremental without a lower bound" do
      profile = proto.sync_hub_profile(cursor: { "kind" => "timestamp", "value" => @boundary })
      expect([profile.incremental?, profile.fact_count]).to eq([true, 3])
    end

    it "bounds facts by as_of and filters them by stores given as Symbols or Strings" do
      proto.write(store: :projects, key: "p1", value: { n: 1 })
      expect(proto.sync_hub_profile(as_of: @boundary).fact_count).to eq(2)
      expect(proto.sync_hub_profile(stores: [:tasks]).fact_count).to eq(3)
      expect(proto.sync_hub_profile(stores: %w[tasks projects]).fact_count).to eq(4)
      expect(proto.sync_hub_profile(stores: :projects).facts.map { |f| f[:store] }).to eq([:projects])
    end

    it "derives next_cursor from the newest fact's transaction time" do
      profile = proto.sync_hub_profile
      expect(profile.next_cursor).to eq(kind: :timestamp, value: store.fact_log_all.map(&:transaction_time).max)
    end

    it "summarizes compaction receipts of every store" do
      store.set_retention(:things, strategy: :ephemeral)
      2.times { |i| proto.write(store: :things, key: "k", value: { i: i }) }
      store.compact(:things)
      receipts = proto.sync_hub_profile.compaction_receipts
      expect(receipts.map(&:keys)).to eq([%i[id compacted_store strategy compacted_count compacted_at]])
      expect(receipts.first).to include(compacted_store: :things, strategy: :ephemeral, compacted_count: 1)
      expect(receipts.first[:id]).to eq(store.fact_log_all.find { |f| f.store == :__compaction_receipts }.id)
    end
  end

  describe Igniter::Store::Protocol::SyncProfile do
    it "has the ten members in spec order" do
      expect(profile_class.members).to eq(%i[schema_version kind generated_at cursor descriptors facts retention
                                             compaction_receipts compaction_activity subscription_checkpoints])
    end

    it "serializes all ten members to JSON, nils included" do
      json = JSON.parse(profile_class.new(kind: :sync_hub_profile, facts: []).to_json)
      expect(json.keys).to eq(profile_class.members.map(&:to_s))
      expect(json.values_at("kind", "cursor", "facts")).to eq(["sync_hub_profile", nil, []])
    end

    it "falls back to :timestamp fields when computing next_cursor" do
      profile = profile_class.new(facts: [{ timestamp: 10.0 }, { transaction_time: 5.0 }])
      expect(profile.next_cursor).to eq(kind: :timestamp, value: 10.0)
    end
  end
end
