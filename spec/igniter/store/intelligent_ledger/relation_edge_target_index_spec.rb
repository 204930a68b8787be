# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# The relation-edge target index (:ledger_relation_edge_targets) and the
# cleanup execution receipts that depend on it.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  def entries(to_fact_id)
    store.history(store: :ledger_relation_edge_targets, key: to_fact_id).map(&:value)
  end

  describe "index entries" do
    before { closed_day(ledger) }

    it "indexes a raw edge under its target with edge, origin and relation" do
      id = template_fact_id(store)
      edge_id = link_edge(ledger, id)[:edge_id]
      expect(entries(id)).to eq([{ to_fact_id: id, edge_id: edge_id, from_store: "notifications", from_fact_id: "nf1",
                                   to_store: "availability_templates", to_boundary_key: nil, ref_status: "raw",
                                   relation: "notification_availability", evidence: {} }])
    end

    it "indexes unresolved targets too" do
      edge_id = link_edge(ledger, "missing-id")[:edge_id]
      expect(entries("missing-id")).to contain_exactly(include(edge_id: edge_id, ref_status: "unresolved", to_store: nil))
    end

    it "writes one entry per edge" do
      id = template_fact_id(store)
      link_edge(ledger, id)
      link_edge(ledger, id, from_fact_id: "nf2", relation: :rel_a)
      expect(entries(id).map { |e| [e[:from_fact_id], e[:relation]] })
        .to eq([%w[nf1 notification_availability], %w[nf2 rel_a]])
    end

    it "appends a redirected entry on refresh and keeps the raw one in history" do
      id = template_fact_id(store)
      link_edge(ledger, id)
      ledger.settle_boundary(key)
      ledger.compact_boundary(key)
      ledger.refresh_relation_edges(assume_compacted: true)
      expect(entries(id).map { |e| e[:ref_status] }).to eq(%w[raw redirected])
      expect(entries(id).last).to include(to_boundary_key: key, from_store: "notifications",
                                          relation: "notification_availability")
      expect(entries(id).last[:evidence].keys)
        .to eq(%i[boundary_output_fact_id boundary_receipt_id settlement_receipt_id compaction_receipt_id])
    end

    it "rebuilds the index on a store holding only copied edges, repeatably" do
      edge_id = link_edge(ledger, template_fact_id(store))[:edge_id]
      copy = new_store
      store.history(store: :ledger_relation_edges).each do |f|
        copy.write(store: :ledger_relation_edges, key: f.key, value: f.value)
      end
      rebuilt = boundary_ledger(copy)
      expect(rebuilt.rebuild_relation_edge_target_index[:rebuilt_count]).to be >= 1
      target = copy.history(store: :ledger_relation_edge_targets, key: template_fact_id(store)).last.value
      expect(target).to include(edge_id: edge_id, ref_status: "raw")
      expect(rebuilt.rebuild_relation_edge_target_index).to eq(rebuilt_count: 1)
    end

    it "skips edges without a target id when rebuilding" do
      store.write(store: :ledger_relation_edges, key: "e-none", value: { "edge_id" => "e-none", "to_fact_id" => "" })
      link_edge(ledger, template_fact_id(store))
      expect(ledger.rebuild_relation_edge_target_index).to eq(rebuilt_count: 1)
    end

    it "keeps the guard result unchanged by a rebuild" do
      ledger.settle_boundary(key)
      link_edge(ledger, template_fact_id(store))
      before = guarded_plan(ledger)
      ledger.rebuild_relation_edge_target_index
      expect(guarded_plan(ledger)).to eq(before)
    end
  end

  describe "cleanup execution" do
    before { settled_day(ledger) }

    it "records every plan field in the execution receipt" do
      plan = guarded_plan(ledger)
      result = ledger.execute_cleanup_plan(plan)
      expect(result[:receipt]).to include(
        "status" => "executed_noop", "plan_hash" => result[:plan_hash], "store" => "order_events",
        "before" => "2026-05-05T00:00:00Z", "fidelity" => "boundary", "require_reference_redirects" => true,
        "expected_detail_status" => "purged", "boundary_keys" => [key], "receipts_to_keep" => plan[:receipts_to_keep],
        "blocking_relation_edges_count" => 0,
        "relation_guard" => { "checked" => true, "raw_edges" => 0, "unresolved_edges" => 0, "redirected_edges" => 0 }
      )
      expect(store.fact_by_id(result[:receipt_id]).key).to eq(result[:plan_hash])
    end

    it "returns the stored receipt when deduplicating" do
      plan = guarded_plan(ledger)
      first = ledger.execute_cleanup_plan(plan)
      again = ledger.execute_cleanup_plan(plan)
      expect(again[:receipt]).to include(status: "executed_noop", plan_hash: first[:plan_hash], boundary_keys: [key])
    end

    it "executes once a blocked plan is cleared by compaction and refresh, then deduplicates" do
      link_edge(ledger, template_fact_id(store))
      blocked = ledger.execute_cleanup_plan(guarded_plan(ledger))
      expect(blocked).to include(status: :blocked, reason: :plan_not_ready, blocking_boundaries: [key])
      expect(blocked[:blocking_relation_edges].size).to eq(1)
      ledger.compact_boundary(key)
      ledger.refresh_relation_edges(assume_compacted: true)
      ready = guarded_plan(ledger)
      expect(ledger.execute_cleanup_plan(ready)).to include(status: :executed_noop, deduplicated: false)
      expect(ledger.execute_cleanup_plan(ready)).to include(status: :executed_noop, deduplicated: true)
      expect(store.history(store: :ledger_cleanup_execution_receipts).size).to eq(1)
    end

    it "hashes a plan from store, cutoff, fidelity, flag and sorted receipts only" do
      plan = guarded_plan(ledger, flag: false)
      shuffled = plan.merge(receipts_to_keep: plan[:receipts_to_keep].reverse, blocking_boundaries: ["noise"])
      expect(ledger.send(:stable_plan_hash, shuffled)).to eq(ledger.send(:stable_plan_hash, plan))
      expect(ledger.send(:stable_plan_hash, plan.merge(store: :other))).not_to eq(ledger.send(:stable_plan_hash, plan))
      expect(ledger.send(:stable_plan_hash, plan)).to match(/\A[0-9a-f]{64}\z/)
    end

    it "rejects a forged ready plan whose cutoff now has blockers" do
      ledger.open_boundary(company_id: "c1", technician_id: "t9", date: monday)
      forged = { status: :ready, store: :order_events, before: "2026-05-05T00:00:00Z", receipts_to_keep: [] }
      expect(ledger.execute_cleanup_plan(forged)).to include(status: :blocked, reason: :plan_not_ready,
                                                             blocking_boundaries: [key_for("t9")])
      expect(store.history(store: :ledger_cleanup_execution_receipts)).to eq([])
    end
  end
end
