# frozen_string_literal: true

# Compaction activity through the Interpreter, the wire and the sync profile
# (spec 04 §9, §11.3, §17.3). The HTTP and MCP surfaces are specified with
# the servers.
RSpec.describe "Open protocol compaction activity surface" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  def wire(packet)
    proto.dispatch({ protocol: :igniter_store, schema_version: 1, request_id: "ca", op: :compaction_activity, packet: packet })
  end

  def compact_things
    store.set_retention(:things, strategy: :ephemeral)
    2.times { |i| proto.write(store: :things, key: "k", value: { i: i }) }
    store.compact(:things)
  end

  def prune_one(store_name = :other)
    doomed = proto.write(store: store_name, key: "x", value: { n: 1 })
    store.prune_fact_ids(fact_ids: [doomed.fact_id], reason: :erasure)
  end

  it "has an envelope whose count is the activity size" do
    compact_things
    env = proto.compaction_activity
    expect([env[:schema_version], env[:generated_at].class, env[:activity].class, env[:count]]).to eq([1, String, Array, 1])
    expect(env[:count]).to eq(env[:activity].size)
  end

  it "describes a retention compaction" do
    compact_things
    entry = proto.compaction_activity[:activity].first
    receipt = store.fact_log_all.find { |f| f.store == :__compaction_receipts }
    expect(entry.keys).to eq(%i[kind executor store status reason fact_count receipt_id occurred_at])
    expect(entry).to include(kind: :retention_compaction, executor: :store_compact, store: :things, status: :ok,
                             reason: :ephemeral, fact_count: 1, receipt_id: receipt.id)
    expect(entry[:occurred_at]).to eq(receipt.value[:compacted_at]).and be_a(Float)
  end

  it "describes an exact prune without a store" do
    prune_one
    entry = proto.compaction_activity[:activity].first
    expect(entry).to include(kind: :exact_prune, executor: :fact_prune, store: nil, status: :ok, reason: :erasure,
                             fact_count: 1)
    expect(entry[:receipt_id]).to eq(store.fact_log_all.find { |f| f.store == :__fact_prune_receipts }.id)
  end

  it "adds no entry for a compaction that dropped nothing" do
    store.set_retention(:things, strategy: :ephemeral)
    proto.write(store: :things, key: "k", value: { i: 0 })
    store.compact(:things)
    expect(proto.compaction_activity[:count]).to eq(0)
  end

  it "orders entries by occurred_at" do
    prune_one
    compact_things
    activity = proto.compaction_activity[:activity]
    expect(activity.map { |e| e[:kind] }).to eq(%i[exact_prune retention_compaction])
    expect(activity.map { |e| e[:occurred_at] }).to eq(activity.map { |e| e[:occurred_at] }.sort)
  end

  it "filters by store, attributing prunes to the stores whose facts they removed" do
    compact_things
    prune_one(:other)
    expect(proto.compaction_activity(store: :things)[:activity].map { |e| e[:kind] }).to eq([:retention_compaction])
    expect(proto.compaction_activity(store: "other")[:activity].map { |e| e[:kind] }).to eq([:exact_prune])
    expect(proto.compaction_activity(store: :nothing)[:count]).to eq(0)
  end

  it "filters by kind given as a Symbol or a String" do
    compact_things
    prune_one
    expect(proto.compaction_activity(kind: :exact_prune)[:count]).to eq(1)
    expect(proto.compaction_activity(kind: "retention_compaction")[:activity].first[:kind]).to eq(:retention_compaction)
    expect(proto.compaction_activity(kind: :segment_purge)[:count]).to eq(0)
  end

  it "filters by an inclusive since and limits to the oldest entries" do
    compact_things
    prune_one
    first, second = proto.compaction_activity[:activity]
    expect(proto.compaction_activity(since: second[:occurred_at])[:activity]).to eq([second])
    expect(proto.compaction_activity(limit: 1)[:activity]).to eq([first])
  end

  it "echoes filters converted to String, Float and Integer" do
    expect(proto.compaction_activity(store: :orders, kind: :exact_prune, since: 1_714_000_000, limit: "5")[:filters])
      .to eq(store: "orders", kind: "exact_prune", since: 1_714_000_000.0, limit: 5)
  end

  describe "over the wire" do
    it "is an operation whose result agrees with the direct call" do
      compact_things
      expect(Igniter::Store::Protocol::WireEnvelope::OPERATIONS).to include(:compaction_activity)
      resp = wire({ store: "things" })
      expect(resp[:status]).to eq(:ok)
      expect(resp[:result].except(:generated_at)).to eq(proto.compaction_activity(store: "things").except(:generated_at))
    end

    it "passes store, kind, since and limit, ignoring other keys" do
      compact_things
      prune_one
      result = wire({ store: "things", kind: "retention_compaction", since: 0, limit: 5, bogus: true })[:result]
      expect(result[:filters]).to eq(store: "things", kind: "retention_compaction", since: 0.0, limit: 5)
      expect(result[:count]).to eq(1)
    end

    it "answers an empty activity for a nil or empty packet" do
      expect(wire(nil)[:result]).to include(activity: [], count: 0, filters: { store: nil, kind: nil, since: nil, limit: nil })
      expect(wire({})[:status]).to eq(:ok)
    end

    it "turns a negative limit into an error envelope" do
      expect(wire({ limit: -1 })).to include(status: :error, error: "Internal error: compaction_activity: limit must be >= 0, got -1")
    end

    it "serializes kinds and reasons as Strings in JSON" do
      compact_things
      json = JSON.parse(JSON.generate(wire({})))
      expect(json["result"]["activity"].first).to include("kind" => "retention_compaction", "reason" => "ephemeral",
                                                          "store" => "things")
    end
  end

  describe "in the sync hub profile" do
    it "has the activity envelope next to compaction_receipts, one entry per compaction" do
      compact_things
      profile = proto.sync_hub_profile
      expect(profile.compaction_activity).to include(schema_version: 1, count: 1)
      expect(profile.compaction_activity[:activity].first[:kind]).to eq(:retention_compaction)
      expect(profile.compaction_receipts.size).to eq(1)
    end

    it "counts exactly one entry on every surface after one compaction" do
      compact_things
      counts = [proto.compaction_activity[:count], wire({})[:result][:count], proto.sync_hub_profile.compaction_activity[:count],
                proto.dispatch({ protocol: :igniter_store, op: :sync_hub_profile })[:result].compaction_activity[:count]]
      expect(counts).to eq([1, 1, 1, 1])
    end

    it "limits compaction activity to the requested stores" do
      compact_things
      prune_one(:other)
      profile = proto.sync_hub_profile(stores: [:other])
      expect(profile.compaction_activity[:activity].map { |e| e[:kind] }).to eq([:exact_prune])
      expect(profile.compaction_receipts).to eq([])
    end
  end
end
