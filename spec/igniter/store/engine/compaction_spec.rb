# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "retention and compaction" do
  subject(:store) { ledger_store }

  def write_versions(key, count, store_name: :things)
    Array.new(count) { |i| store.write(store: store_name, key: key, value: { v: i }) }
  end

  describe "#set_retention" do
    it "registers a RetentionPolicy and is chainable" do
      expect(store.set_retention(:things, strategy: :rolling_window, duration: 5.0)).to be(store)
      policy = store.schema_graph.retention_for(store: :things)
      expect(policy).to eq(Igniter::Store::RetentionPolicy.new(strategy: :rolling_window, duration: 5.0))
      expect(store.schema_graph.retention_stores).to eq([:things])
      expect(store.schema_graph.retention_snapshot).to eq(things: { strategy: :rolling_window, duration: 5.0 })
    end

    it "accepts a strategy name given as a String" do
      store.set_retention(:things, strategy: "ephemeral")
      expect(store.schema_graph.retention_for(store: :things).strategy).to eq(:ephemeral)
    end

    it "rejects an unknown strategy (0.5.2 silently never compacted)" do
      expect { store.set_retention(:things, strategy: :forever) }.to raise_error(ArgumentError, /unknown retention strategy/)
    end

    it "rejects a rolling window without a duration (0.5.2 used a zero window)" do
      expect { store.set_retention(:things, strategy: :rolling_window) }.to raise_error(ArgumentError, /duration/)
    end
  end

  describe "#compact" do
    it "returns [] without policies and for an unregistered store" do
      write_versions("a", 3)
      expect(store.compact).to eq([])
      expect(store.compact(:things)).to eq([])
    end

    it "keeps only the latest fact per key under :ephemeral and writes one receipt" do
      store.set_retention(:things, strategy: :ephemeral)
      *, last = write_versions("a", 3)
      report = store.compact.first
      # Durable only where a backend keeps the drop: PostgreSQL deletes the rows.
      expect(report).to include(store: :things, strategy: :ephemeral, dropped_count: 2, kept_count: 1,
                                durable: LedgerSpec::Postgres.backend?)
      expect(store.fact_count).to eq(2)
      expect(store.history(store: :things)).to eq([last])
      expect(store.read(store: :things, key: "a")).to eq(v: 2)
    end

    it "preserves the latest fact of many keys and leaves other stores alone" do
      store.set_retention(:things, strategy: :ephemeral)
      write_versions("a", 2)
      write_versions("b", 3)
      write_versions("x", 3, store_name: :others)
      store.compact
      expect([store.read(store: :things, key: "a"), store.read(store: :things, key: "b")]).to eq([{ v: 1 }, { v: 2 }])
      expect(store.history(store: :others).size).to eq(3)
    end

    it "reports dropped_count 0, no receipt and durable false when nothing is dropped" do
      store.set_retention(:things, strategy: :ephemeral)
      write_versions("a", 1)
      expect(store.compact).to eq([{ store: :things, strategy: :ephemeral, dropped_count: 0, kept_count: 1,
                                     receipt_id: nil, durable: false }])
      expect(store.compaction_receipts).to eq([])
    end

    it "never compacts a :permanent store" do
      store.set_retention(:things, strategy: :permanent)
      write_versions("a", 3)
      expect(store.compact).to eq([])
      expect(store.history(store: :things).size).to eq(3)
    end

    it "keeps recent facts and the current fact under :rolling_window" do
      store.set_retention(:things, strategy: :rolling_window, duration: 0.1)
      write_versions("old", 2)
      sleep 0.12
      store.write(store: :things, key: "new", value: { v: 0 })
      store.write(store: :things, key: "new", value: { v: 1 })
      report = store.compact.first
      expect(report).to include(dropped_count: 1, kept_count: 3)
      expect(store.history(store: :things, key: "old").map(&:value)).to eq([{ v: 1 }])
      expect(store.history(store: :things, key: "new").size).to eq(2)
    end

    it "compacts only the given store" do
      store.set_retention(:things, strategy: :ephemeral).set_retention(:others, strategy: :ephemeral)
      write_versions("a", 2)
      write_versions("a", 2, store_name: :others)
      expect(store.compact(:things).map { |r| r[:store] }).to eq([:things])
      expect(store.history(store: :others).size).to eq(2)
    end

    it "treats the last appended fact as current even when its clock reading is older" do
      store.set_retention(:things, strategy: :ephemeral)
      newer = fact_at(2000.0, store: :things, key: "a", value: { v: :stepped_ahead })
      current = fact_at(1000.0, store: :things, key: "a", value: { v: :current })
      store.__send__(:replay, newer)
      store.__send__(:replay, current)
      expect(store.read(store: :things, key: "a")).to eq(v: :current)
      store.compact
      expect(store.read(store: :things, key: "a")).to eq(v: :current)
      expect(store.fact_by_id(newer.id)).to be_nil
    end

    it "chains later writes to the kept latest fact" do
      store.set_retention(:things, strategy: :ephemeral)
      *, last = write_versions("a", 3)
      store.compact
      expect(store.write(store: :things, key: "a", value: { v: 9 }).causation).to eq(last.id)
      expect(store.causation_chain(store: :things, key: "a").map { |e| e[:id] }.first).to eq(last.id)
    end

    it "keeps the schema graph, consumers and derivations working afterwards" do
      calls = []
      store.register_path(Igniter::Store::AccessPath.new(store: :things, consumers: [->(*a) { calls << a }]))
      store.register_derivation(source_store: :things, target_store: :stats, target_key: "n", rule: ->(f) { { n: f.size } })
      store.set_retention(:things, strategy: :ephemeral)
      write_versions("a", 2)
      store.compact
      calls.clear
      store.write(store: :things, key: "b", value: {})
      expect(calls).to eq([[:things, "b"]])
      expect(store.read(store: :stats, key: "n")).to eq(n: 2)
      expect(store.schema_graph.paths_for(:things).size).to eq(1)
    end

    it "keeps the log in append order (no re-sort by time)" do
      store.set_retention(:things, strategy: :ephemeral)
      write_versions("a", 2)
      other = store.write(store: :others, key: "x", value: {})
      store.compact
      facts = store.fact_log_all
      expect(facts.index(other)).to be < facts.index(store.compaction_receipts.first)
    end
  end

  describe "receipts" do
    before { store.set_retention(:things, strategy: :ephemeral) }

    it "records what was dropped" do
      dropped = write_versions("a", 3).first(2)
      report = store.compact.first
      receipt = store.compaction_receipts.first
      expect(receipt.id).to eq(report[:receipt_id])
      expect(receipt.key).to match(/\Athings_\h{8}\z/)
      expect(receipt.value).to include(type: :compaction_receipt, compacted_store: :things, strategy: :ephemeral,
                                       compacted_count: 2, oldest_dropped: dropped[0].id, newest_dropped: dropped[1].id,
                                       oldest_ts: dropped[0].transaction_time, newest_ts: dropped[1].transaction_time)
      expect(receipt.value[:compacted_at]).to be_a(Float)
    end

    it "accumulate across runs and filter by store" do
      store.set_retention(:others, strategy: :ephemeral)
      write_versions("a", 2)
      write_versions("a", 2, store_name: :others)
      store.compact
      write_versions("b", 2)
      store.compact(:things)
      expect(store.compaction_receipts.size).to eq(3)
      expect(store.compaction_receipts(store: :things).size).to eq(2)
      expect(store.compaction_receipts(store: "others").size).to eq(1)
    end

    it "are emitted to the changefeed like any write, dropped facts are not" do
      emitted = []
      feed = Class.new { define_method(:emit) { |f| emitted << f.store } }.new
      s = ledger_store(changefeed: feed)
      s.set_retention(:things, strategy: :ephemeral)
      2.times { s.write(store: :things, key: "a", value: {}) }
      s.compact
      expect(emitted).to eq(%i[things things __compaction_receipts])
    end
  end

  describe "#compaction_activity" do
    it "is an empty Array without activity" do
      expect(store.compaction_activity).to eq([])
    end

    it "lists retention compactions and exact prunes, oldest first, as a new mutable Array" do
      store.set_retention(:things, strategy: :ephemeral)
      write_versions("a", 2)
      report = store.compact.first
      victim = store.write(store: :docs, key: "d", value: {})
      prune = store.prune_fact_ids(fact_ids: [victim.id], reason: :erasure)
      activity = store.compaction_activity
      expect(activity).not_to be_frozen
      expect(activity.map { |e| e[:kind] }).to eq(%i[retention_compaction exact_prune])
      expect(activity[0]).to include(executor: :store_compact, store: :things, status: :ok, reason: :ephemeral,
                                     fact_count: 1, receipt_id: report[:receipt_id])
      expect(activity[1]).to include(executor: :fact_prune, store: nil, status: :ok, reason: :erasure,
                                     fact_count: 1, receipt_id: prune[:receipt_id])
      expect(activity.map { |e| e[:occurred_at] }).to eq(activity.map { |e| e[:occurred_at] }.sort)
      expect(activity.first.keys).to eq(%i[kind executor store status reason fact_count receipt_id occurred_at])
    end

    it "filters by store, including prunes only when they removed a fact of that store" do
      store.set_retention(:things, strategy: :ephemeral).set_retention(:others, strategy: :ephemeral)
      write_versions("a", 2)
      write_versions("a", 2, store_name: :others)
      store.compact
      victim = store.write(store: :docs, key: "d", value: {})
      store.prune_fact_ids(fact_ids: [victim.id], reason: :erasure)
      expect(store.compaction_activity(store: :things).map { |e| [e[:kind], e[:store]] })
        .to eq([%i[retention_compaction things]])
      expect(store.compaction_activity(store: :docs).map { |e| e[:kind] }).to eq([:exact_prune])
    end

    it "includes prunes recorded in a custom receipt store" do
      victim = store.write(store: :docs, key: "d", value: {})
      store.prune_fact_ids(fact_ids: [victim.id], reason: :erasure, receipt_store: :audit)
      expect(store.compaction_activity.map { |e| e[:kind] }).to eq([:exact_prune])
    end

    it "includes segment purges when the backend reports them" do
      backend = Class.new do
        def capabilities = Igniter::Store::Capabilities.declare(:purge_receipts)
        def write_fact(_f) = nil
        def purge_receipts(store:)
          [{ "store" => "gps", "purge_strategy" => "ttl", "fact_count" => 4, "segment_path" => "p/seg",
             "purged_at" => 5.0, "asked" => store }]
        end
      end.new
      entry = described_class.new(backend: backend).compaction_activity.first
      expect(entry).to eq(kind: :segment_purge, executor: :segmented_backend, store: :gps, status: :ok,
                          reason: "ttl", fact_count: 4, receipt_id: "p/seg", occurred_at: 5.0)
    end
  end
end
