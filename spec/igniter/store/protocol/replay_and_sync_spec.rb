# frozen_string_literal: true

RSpec.describe "Open protocol replay and sync (OP4)" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:profile_class) { Igniter::Store::Protocol::SyncProfile }

  describe Igniter::Store::Protocol::SyncProfile do
    it "defaults omitted members to nil and knows full vs incremental" do
      profile = profile_class.new(facts: [])
      expect([profile.compaction_activity, profile.full?, profile.fact_count]).to eq([nil, true, 0])
      expect(profile_class.new(cursor: { kind: :timestamp, value: 1.0 })).to be_incremental
      expect { profile_class.new(bogus: 1) }.to raise_error(ArgumentError)
    end

    it "derives next_cursor from the greatest time, whatever the order" do
      facts = [1000.0, 3000.0, 2000.0].map { |t| { transaction_time: t, id: "x" } }
      expect(profile_class.new(facts: facts).next_cursor).to eq(kind: :timestamp, value: 3000.0)
      expect(profile_class.new(facts: []).next_cursor).to be_nil
    end

    it "derives resume_cursor from the greatest (time, id) pair" do
      facts = [{ transaction_time: 5.0, id: "b" }, { transaction_time: 5.0, id: "c" }, { transaction_time: 4.0, id: "z" }]
      expect(profile_class.new(facts: facts).resume_cursor).to eq(kind: :timestamp_then_fact_id, value: 5.0, fact_id: "c")
    end
  end

  describe "#replay" do
    before do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      @mid = clock_boundary
      proto.write(store: :tasks, key: "t2", value: { n: 2 })
      proto.append(history: :events, event: { task_id: "t1" }, partition_key: :task_id)
    end

    it "returns fact packets in protocol key order" do
      packets = proto.replay
      expect(packets.size).to eq(3)
      expect(packets.first.keys).to eq(%i[schema_version kind id store key value value_hash causation transaction_time
                                          valid_time producer derivation])
    end

    it "filters by time range, store, store+key and store+partition" do
      expect(proto.replay(from: @mid).size).to eq(2)
      expect(proto.replay(to: @mid).map { |p| p[:key] }).to eq(["t1"])
      expect(proto.replay(filter: { store: :tasks }).size).to eq(2)
      expect(proto.replay(filter: { "store" => "tasks", key: "t2" }).map { |p| p[:key] }).to eq(["t2"])
      expect(proto.replay(filter: { store: :events, partition_key: :task_id, partition_value: "t1" }).size).to eq(1)
      expect(proto.replay(filter: { key: "t1" }).size).to eq(3)
    end

    it "rejects a malformed filter or cursor with a clear message" do
      expect { proto.replay(filter: "tasks") }.to raise_error(ArgumentError, /filter must be a Hash/)
      expect { proto.replay(after: { kind: :page }) }.to raise_error(ArgumentError, /unknown cursor kind: :page/)
      expect { proto.replay(after: { kind: :timestamp_then_fact_id, value: 1.0 }) }.to raise_error(ArgumentError, /fact_id/)
    end
  end

  describe "#sync_hub_profile" do
    before do
      3.times do |i|
        clock_boundary
        proto.write(store: :tasks, key: "t#{i}", value: { n: i })
      end
    end

    it "builds a full profile" do
      profile = proto.sync_hub_profile
      expect([profile.kind, profile.fact_count, profile.full?, profile.generated_at.class]).to eq([:sync_hub_profile, 3, true, Float])
      expect(profile.descriptors[:schema_version]).to eq(1)
      expect([profile.retention, profile.compaction_receipts, profile.subscription_checkpoints]).to eq([{}, [], {}])
      expect(profile.compaction_activity[:count]).to eq(0)
      expect(profile.next_cursor[:value]).to be_a(Float)
    end

    it "repeats the boundary fact with the inclusive timestamp cursor" do
      cursor = proto.sync_hub_profile.next_cursor
      proto.write(store: :tasks, key: "t9", value: { n: 9 })
      expect(proto.sync_hub_profile(cursor: cursor).facts.map { |f| f[:key] }).to eq(%w[t2 t9])
    end

    it "resumes without repeats with the tie-break cursor" do
      cursor = proto.sync_hub_profile.resume_cursor
      proto.write(store: :tasks, key: "t9", value: { n: 9 })
      incremental = proto.sync_hub_profile(cursor: cursor)
      expect([incremental.incremental?, incremental.facts.map { |f| f[:key] }]).to eq([true, ["t9"]])
    end

    it "filters facts and compaction history by store" do
      store.set_retention(:things, strategy: :ephemeral)
      2.times { |i| proto.write(store: :things, key: "k", value: { i: i }) }
      store.compact(:things)
      only_tasks = proto.sync_hub_profile(stores: [:tasks])
      expect([only_tasks.fact_count, only_tasks.compaction_receipts, only_tasks.compaction_activity[:count]]).to eq([3, [], 0])
      things = proto.sync_hub_profile(stores: "things")
      expect(things.compaction_receipts.map { |r| r[:compacted_count] }).to eq([1])
      expect(things.compaction_activity[:activity].map { |e| e[:kind] }).to eq([:retention_compaction])
    end
  end
end
