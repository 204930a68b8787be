# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  def plan(**opts)
    ledger.cleanup_plan(store: :order_events, before: cutoff, **opts)
  end

  describe "#cleanup_plan" do
    it "is blocked by open and unsettled boundaries before the cutoff, with reasons" do
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      closed_day(ledger, tid: "t2")
      result = plan
      expect(result).to include(status: :blocked, blocking_boundaries: [key, key_for("t2")],
                                blocking_reasons: { key => :open, key_for("t2") => :settlement_required },
                                required_boundary_policies: [:technician_day])
    end

    it "is ready after close and settlement, keeping the closure receipts" do
      closed_day(ledger)
      ledger.settle_boundary(key)
      result = plan
      expect(result).to include(status: :ready, before: "2026-05-05T00:00:00Z", blocking_boundaries: [],
                                expected_detail_status: :purged, required_boundary_policies: [:technician_day])
      expect(result[:receipts_to_keep]).to eq([store.history(store: :ledger_boundary_receipts, key: key).last.id])
      expect(result).not_to have_key(:blocking_relation_edges)
    end

    it "ignores boundaries dated after the cutoff" do
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: Date.new(2026, 5, 6))
      expect(plan[:status]).to eq(:ready)
    end

    it "checks a Date cutoff as UTC midnight instead of reporting :ready unchecked" do
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      result = ledger.cleanup_plan(store: :order_events, before: Date.new(2026, 5, 5))
      expect(result).to include(status: :blocked, before: "2026-05-05T00:00:00Z", blocking_boundaries: [key])
      expect { ledger.cleanup_plan(store: :x, before: "2026-05-05") }.to raise_error(ArgumentError, /Time or Date/)
    end
  end

  describe "#execute_cleanup_plan" do
    before do
      closed_day(ledger)
      ledger.settle_boundary(key)
    end

    it "records an executed_noop receipt once and deduplicates on the plan hash" do
      ready = plan
      first = ledger.execute_cleanup_plan(ready)
      expect(first).to include(status: :executed_noop, deduplicated: false, plan_hash: ledger.send(:stable_plan_hash, ready))
      expect(first[:receipt]).to include("status" => "executed_noop", "store" => "order_events",
                                         "before" => "2026-05-05T00:00:00Z", "boundary_keys" => [key])
      expect(first[:receipt]["executed_at"]).to end_with("Z")
      second = ledger.execute_cleanup_plan(ready)
      expect(second).to include(status: :executed_noop, deduplicated: true, receipt_id: first[:receipt_id])
      expect(store.history(store: :ledger_cleanup_execution_receipts).size).to eq(1)
      fresh = boundary_ledger(store)
      fresh.hydrate_boundaries
      expect(fresh.execute_cleanup_plan(fresh.cleanup_plan(store: :order_events, before: cutoff))[:deduplicated]).to be(true)
    end

    it "hashes different cutoffs differently" do
      other = ledger.cleanup_plan(store: :order_events, before: Time.utc(2026, 5, 3))
      expect(ledger.send(:stable_plan_hash, other)).not_to eq(ledger.send(:stable_plan_hash, plan))
    end

    it "writes nothing for a blocked plan" do
      ledger.open_boundary(company_id: "c1", technician_id: "t9", date: monday)
      result = ledger.execute_cleanup_plan(plan)
      expect(result).to eq(status: :blocked, reason: :plan_not_ready, blocking_boundaries: [key_for("t9")],
                           blocking_relation_edges: [])
      expect(store.history(store: :ledger_cleanup_execution_receipts)).to eq([])
    end

    it "re-checks a plan that was ready but has gone stale, and refuses a forged one" do
      ready = plan
      ledger.open_boundary(company_id: "c1", technician_id: "t9", date: monday)
      expect(ledger.execute_cleanup_plan(ready)).to include(status: :blocked, reason: :plan_not_ready,
                                                             blocking_boundaries: [key_for("t9")])
      expect(ledger.execute_cleanup_plan(status: :ready)).to include(status: :blocked, reason: :plan_not_ready)
      expect(store.history(store: :ledger_cleanup_execution_receipts)).to eq([])
    end
  end

  describe "#hydrate_boundaries" do
    it "reports an empty store" do
      expect(ledger.hydrate_boundaries).to eq(status: :ok, hydrated_count: 0, skipped_count: 0, warnings: [])
    end

    it "restores closed, settled and compacted boundaries on a fresh ledger" do
      original = compacted_day(ledger)[:boundary]
      closed_day(ledger, tid: "t2")
      ledger.settle_boundary(key_for("t2"))
      closed_day(ledger, tid: "t3")

      fresh = boundary_ledger(store)
      expect(fresh.hydrate_boundaries).to include(hydrated_count: 3, skipped_count: 0)
      compacted = fresh.find_boundary(key)
      expect([compacted.status, compacted.detail_status, compacted.settlement_status]).to eq(%i[compacted purged settled])
      expect(compacted.result_hash).to eq(original.result_hash)
      expect(compacted.source_fact_ids).to eq(original.source_fact_ids)
      expect(compacted.source_fact_refs).to eq(original.source_fact_refs)
      expect(compacted.compaction_receipt_id).to eq(original.compaction_receipt_id)
      expect(compacted.subject).to eq(company_id: "c1", technician_id: "t1", date: "2026-05-04")
      expect(fresh.replay(key)[:output][:available_seconds]).to eq(28_800)
      expect(fresh.full_replay(company_id: "c1", technician_id: "t1", date: monday)[:status]).to eq(:detail_unavailable)
      expect(fresh.find_boundary(key_for("t2")).settled?).to be(true)
      expect(fresh.find_boundary(key_for("t3")).status).to eq(:closed)
      fresh.compact_boundary(key_for("t2"))
      expect(fresh.cleanup_plan(store: :order_events, before: cutoff)[:blocking_reasons]).to eq(key_for("t3") => :settlement_required)
    end

    it "is idempotent: same objects, nothing written" do
      closed_day(ledger)
      fresh = boundary_ledger(store)
      fresh.hydrate_boundaries
      boundary = fresh.find_boundary(key)
      count = store.fact_count
      expect(fresh.hydrate_boundaries[:hydrated_count]).to eq(0)
      expect(fresh.find_boundary(key)).to equal(boundary)
      expect(store.fact_count).to eq(count)
    end

    it "skips a record without a closure receipt, with a warning" do
      store.write(store: :ledger_boundaries, key: "orphan", value: { "boundary_key" => "orphan" })
      report = ledger.hydrate_boundaries
      expect(report).to include(hydrated_count: 0, skipped_count: 1)
      expect(report[:warnings].first).to include("closure receipt missing")
    end

    it "hydrates an old-style record without source refs" do
      store.write(store: :ledger_boundaries, key: "old", value: { "boundary_key" => "old", "source_fact_ids" => ["old-fact-id-1"],
                                                                  "subject" => { "date" => "2026-05-04" } })
      store.write(store: :ledger_boundary_receipts, key: "old", value: { "boundary_key" => "old" })
      ledger.hydrate_boundaries
      boundary = ledger.find_boundary("old")
      expect([boundary.source_fact_ids, boundary.source_fact_refs, boundary.status]).to eq([["old-fact-id-1"], [], :closed])
    end
  end
end
