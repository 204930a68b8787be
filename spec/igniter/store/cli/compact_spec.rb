# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger compact", :ledger_cli do
  let(:path) { File.join(@dir, "ledger.wal") }

  before do
    store = Igniter::Store.open(path)
    3.times { |i| store.write(store: :orders, key: "o1", value: { n: i }) }
    2.times { |i| store.write(store: :orders, key: "o2", value: { n: i }) }
    2.times { |i| store.write(store: :notes, key: "n1", value: { n: i }) }
    store.close
  end

  it "compacts every store of a WAL by the given policy, durably, and prints the receipts" do
    ran = ledger_cli("compact", path, "--strategy", "ephemeral", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to match(/^  store orders: dropped 3, kept 2, receipt \S+ \(durable\)$/)
      .and match(/^  store notes: dropped 1, kept 1, receipt \S+ \(durable\)$/)
      .and include('"type":"compaction_receipt","compacted_store":"orders","strategy":"ephemeral","compacted_count":3')
      .and include("facts now: 5")
    facts = stored_facts(path)
    expect(facts.map { |f| [f.store, f.key, f.value] }.first(3))
      .to eq([[:orders, "o1", { n: 2 }], [:orders, "o2", { n: 1 }], [:notes, "n1", { n: 1 }]])
    expect(facts.count { |f| f.store == :__compaction_receipts }).to eq(2)
  end

  it "compacts only the stores named with --store, and says so as JSON" do
    ran = ledger_cli("compact", path, "--strategy", "ephemeral", "--store", "notes", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    doc = ran.json
    expect(doc["reports"].map { |r| r.values_at("store", "dropped_count", "durable") }).to eq([["notes", 1, true]])
    expect(doc["receipts"].first["value"]).to include("compacted_store" => "notes", "compacted_count" => 1)
    expect(stored_facts(path).count { |f| f.store == :orders }).to eq(5)
  end

  it "drops nothing under a rolling window that holds every fact" do
    ran = ledger_cli("compact", path, "--strategy", "rolling_window", "--duration", "3600", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("store orders: dropped 0, kept 5, nothing to drop")
    expect(stored_facts(path).size).to eq(7)
  end

  it "purges a segmented ledger's older sealed segments and prints the purge receipts" do
    root = File.join(@dir, "seg")
    backend = Igniter::Store::SegmentedFileBackend.new(root)
    store = Igniter::Store::IgniterStore.new(backend: backend)
    store.write(store: :gps, key: "t1", value: { n: 1 })
    backend.checkpoint!
    store.write(store: :gps, key: "t1", value: { n: 2 })
    backend.close
    ran = ledger_cli("compact", "seg", "--strategy", "ephemeral", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    receipts = ran.json["receipts"]
    expect(receipts.map { |r| [r["store"], r["fact_count"], r["purge_strategy"]] }).to eq([["gps", 1, "ephemeral"]])
    expect(receipts.first["reason"]).to include("superseded by newer sealed segment")
    expect(stored_facts(root).map(&:value)).to eq([{ n: 2 }])
  end

  it "needs a policy: a missing --strategy, an unknown one, or a rolling window without --duration is exit 64" do
    [[], %w[--strategy forever], %w[--strategy rolling_window]].each do |flags|
      ran = ledger_cli("compact", path, *flags, chdir: @dir)

      expect(ran.exit_code).to eq(64), flags.inspect
      expect(ran.err).to include("Usage: igniter-ledger compact PATH --strategy")
    end
    expect(stored_facts(path).size).to eq(7)
  end
end
