# frozen_string_literal: true

RSpec.describe "Open protocol snapshots, compaction activity and observability" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  # A backend that only reports storage statistics (String keys, as a segmented one does).
  let(:stats_backend) do
    Class.new do
      include Igniter::Store::Backend

      def capabilities = Igniter::Store::Capabilities.declare(:storage_stats)
      def write_fact(_fact); end

      def storage_stats(store: nil)
        stores = { "tasks" => { "byte_size" => 600, "quarantine_receipt_count" => 3 },
                   "events" => { "byte_size" => 500, "quarantine_receipt_count" => 9 } }
        { "schema_version" => 1, "stores" => store ? stores.slice(store.to_s) : stores }
      end
    end.new
  end

  describe "#metadata_snapshot" do
    before do
      proto.register(kind: :store, name: :tasks, key: "id")
      proto.register(kind: :history, name: :events, key: "id")
      proto.register(kind: :relation, name: :project_tasks, from: { store: :projects, key: :id },
                     to: { store: :tasks, field: :project_id })
      proto.write(store: :unregistered, key: "k", value: { n: 1 })
      store.set_retention(:tasks, strategy: :ephemeral)
    end

    it "has the spec keys in order and no storage key for a memory store" do
      expect(proto.metadata_snapshot.keys).to eq(%i[schema_version stores histories access_paths relations projections commands
                                                    effects derivations scatters subscriptions retention])
    end

    it "describes relations with their auto-created scatter and no empty access-path entries" do
      snap = proto.metadata_snapshot
      expect(snap[:relations][:project_tasks]).to eq(name: :project_tasks, source: :tasks, partition: :project_id,
                                                      target: :projects, index_store: :__rel_project_tasks)
      expect(snap[:scatters].map { |s| s[:target_store] }).to eq([:__rel_project_tasks])
      expect(snap[:access_paths]).to eq({})
      expect(snap[:retention]).to eq(tasks: { strategy: :ephemeral, duration: nil })
    end

    it "is deterministic and cannot be used to mutate the registry" do
      expect(proto.metadata_snapshot).to eq(proto.metadata_snapshot)
      proto.metadata_snapshot[:stores][:tasks][:key] = "hacked"
      proto.descriptor_snapshot[:stores].delete(:tasks)
      expect(proto.descriptor_snapshot[:stores][:tasks][:key]).to eq("id")
    end

    it "includes the backend's String-keyed storage section when there is one" do
      backed = Igniter::Store::Protocol.new(Igniter::Store::IgniterStore.new(backend: stats_backend))
      expect(backed.metadata_snapshot[:storage]["stores"].keys).to eq(%w[tasks events])
      expect(backed.storage_stats(store: :tasks)["stores"].keys).to eq(["tasks"])
    end
  end

  describe "#compaction_activity" do
    it "is empty when nothing happened, with nil filters" do
      env = proto.compaction_activity
      expect(env.keys).to eq(%i[schema_version generated_at filters activity count])
      expect([env[:activity], env[:count], env[:filters]]).to eq([[], 0, { store: nil, kind: nil, since: nil, limit: nil }])
      expect(env[:generated_at]).to match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d\z/)
    end

    it "reports retention compactions and prunes and applies every filter" do
      store.set_retention(:things, strategy: :ephemeral)
      2.times { |i| proto.write(store: :things, key: "k", value: { i: i }) }
      store.compact(:things)
      doomed = proto.write(store: :other, key: "x", value: { n: 1 })
      store.prune_fact_ids(fact_ids: [doomed.fact_id], reason: :erasure)
      expect(proto.compaction_activity[:activity].map { |e| e[:kind] }).to eq(%i[retention_compaction exact_prune])
      expect(proto.compaction_activity(store: "things")[:count]).to eq(1)
      expect(proto.compaction_activity(kind: "exact_prune")[:activity].first[:reason]).to eq(:erasure)
      expect(proto.compaction_activity(since: 1_714_000_000, limit: 50)[:filters])
        .to eq(store: nil, kind: nil, since: 1_714_000_000.0, limit: 50)
      expect(proto.compaction_activity(since: Time.now.to_f + 60)[:count]).to eq(0)
      expect(proto.compaction_activity(limit: 0)[:activity]).to eq([])
      expect { proto.compaction_activity(limit: -1) }.to raise_error(ArgumentError, /limit must be >= 0/)
    end
  end

  describe "#observability_snapshot" do
    it "has the canonical shape for a memory store" do
      snap = proto.observability_snapshot
      expect(snap.keys).to eq(%i[schema_version generated_at status uptime_ms metrics alerts storage server])
      expect(snap.except(:generated_at)).to eq(schema_version: 1, status: :ready, uptime_ms: nil, metrics: nil, alerts: [],
                                               storage: nil, server: nil)
    end

    it "raises storage alerts over the thresholds, quarantine first" do
      backed = Igniter::Store::Protocol::Interpreter.new(Igniter::Store::IgniterStore.new(backend: stats_backend),
                                                         alert_thresholds: { quarantine_receipt_count: 5, storage_byte_size: 1000 })
      alerts = backed.observability_snapshot[:alerts]
      expect(alerts.map { |a| a[:type] }).to eq(%i[quarantine_receipt_count storage_byte_size])
      expect(alerts.last[:message]).to eq("storage_byte_size exceeded threshold: 1100 > 1000")
    end

    it "disables an alert whose threshold is nil and uses the defaults otherwise" do
      backed = Igniter::Store::Protocol::Interpreter.new(Igniter::Store::IgniterStore.new(backend: stats_backend),
                                                         alert_thresholds: { quarantine_receipt_count: nil })
      expect(backed.observability_snapshot[:alerts]).to eq([])
    end
  end
end
