# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# AvailabilityBoundaryLedger#compaction_activity: the store's own activity
# plus one :boundary_physical_purge entry per purge receipt, oldest first.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }

  it "is empty when nothing was compacted, pruned or purged" do
    closed_day(ledger)
    expect(ledger.compaction_activity).to eq([])
  end

  it "includes the store's retention compactions" do
    store.write(store: :docs, key: "d", value: { "v" => 1 })
    store.write(store: :docs, key: "d", value: { "v" => 2 })
    store.set_retention(:docs, strategy: :ephemeral)
    store.compact
    expect(ledger.compaction_activity.map { |e| e[:kind] }).to eq([:retention_compaction])
  end

  it "includes the store's exact prune next to the boundary purge that caused it" do
    compacted_day(ledger)
    purged = ledger.purge_cleanup_execution(plan_hash: execute_plan(ledger))
    kinds = ledger.compaction_activity.map { |e| e[:kind] }
    expect(kinds).to contain_exactly(:exact_prune, :boundary_physical_purge)
    entry = ledger.compaction_activity.find { |e| e[:kind] == :boundary_physical_purge }
    expect(entry).to include(executor: :boundary_ledger, store: nil, status: :purged, reason: :boundary_physical_purge,
                             fact_count: 1, receipt_id: purged[:receipt_id])
  end

  it "turns a hand-written purge receipt into an entry" do
    fact = store.write(store: :ledger_physical_purge_receipts, key: "p1",
                       value: { "status" => "purged", "pruned_count" => 1 })
    expect(ledger.compaction_activity).to eq([{ kind: :boundary_physical_purge, executor: :boundary_ledger, store: nil,
                                                status: :purged, reason: :boundary_physical_purge, fact_count: 1,
                                                receipt_id: fact.id, occurred_at: fact.transaction_time }])
  end

  it "defaults a purge receipt without status to :purged and without count to 0" do
    store.write(store: :ledger_physical_purge_receipts, key: "p2", value: { "plan_hash" => "p2" })
    expect(ledger.compaction_activity.first).to include(status: :purged, fact_count: 0)
  end

  it "sorts all entries by occurred_at" do
    store.write(store: :ledger_physical_purge_receipts, key: "p1", value: { "status" => "purged", "pruned_count" => 1 })
    store.write(store: :docs, key: "d", value: { "v" => 1 })
    store.write(store: :docs, key: "d", value: { "v" => 2 })
    store.set_retention(:docs, strategy: :ephemeral)
    store.compact(:docs)
    store.write(store: :ledger_physical_purge_receipts, key: "p2", value: { "status" => "purged", "pruned_count" => 2 })
    activity = ledger.compaction_activity
    expect(activity.map { |e| e[:kind] }).to eq(%i[boundary_physical_purge retention_compaction boundary_physical_purge])
    expect(activity.map { |e| e[:occurred_at] }).to eq(activity.map { |e| e[:occurred_at] }.sort)
  end
end
