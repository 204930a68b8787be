# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  def template_id
    store.history(store: :availability_templates, key: "t1").last.id
  end

  def link(to_id)
    ledger.link_fact(from_store: :notifications, from_key: "n1", from_fact_id: "nf1", to_fact_id: to_id,
                     relation: :notification_availability)
  end

  describe "#resolve_ref" do
    it "resolves a compacted source fact at every fidelity" do
      compacted_day(ledger)
      id = template_id
      expect(ledger.resolve_ref(id)).to include(status: :redirected, kind: :boundary_ref, boundary_key: key,
                                                detail_status: :purged)
      expect(ledger.resolve_ref(id, fidelity: :summary)[:kind]).to eq(:summary_ref)
      expect(ledger.resolve_ref(id, fidelity: :raw)).to include(status: :ok, kind: :raw_fact)
      expect(ledger.resolve_ref(id, fidelity: :raw, assume_compacted: true))
        .to include(status: :detail_unavailable, required_fidelity: :raw, available_fidelity: :boundary)
      expect(ledger.resolve_ref(id)[:evidence].keys)
        .to eq(%i[boundary_output_fact_id boundary_receipt_id settlement_receipt_id compaction_receipt_id])
      expect(boundary_ledger(store).resolve_ref(id)[:status]).to eq(:redirected)
    end

    it "answers :not_found for unknown ids and refuses unsupported fidelities" do
      %i[raw boundary summary].each do |f|
        expect(ledger.resolve_ref("nope", fidelity: f)).to eq(status: :not_found, original_fact_id: "nope")
      end
      expect { ledger.resolve_ref("x", fidelity: :full_detail) }.to raise_error(ArgumentError, /unsupported fidelity/)
    end

    it "treats a live fact in another store than the redirect names as unavailable" do
      fact = store.write(store: :other, key: "k", value: { "a" => 1 })
      store.write(store: :ledger_fact_redirects, key: fact.id, value: { "original_store" => "order_events", "boundary_key" => "b" })
      expect(ledger.resolve_ref(fact.id, fidelity: :raw)[:status]).to eq(:detail_unavailable)
      store.write(store: :ledger_fact_redirects, key: fact.id, value: { "original_store" => "other", "boundary_key" => "b" })
      expect(ledger.resolve_ref(fact.id, fidelity: :raw)).to include(status: :ok, fact: fact)
    end
  end

  describe "relation edges" do
    it "links a raw edge without embedding the target value and indexes it by target" do
      closed_day(ledger)
      edge = link(template_id)[:edge_fact].value
      expect(edge).to include(ref_status: "raw", fidelity: "raw", from_store: "notifications",
                              relation: "notification_availability", to_store: "availability_templates", to_key: "t1")
      expect(edge).not_to have_key(:value)
      entry = store.history(store: :ledger_relation_edge_targets, key: template_id).last.value
      expect(entry).to include(ref_status: "raw", edge_id: edge[:edge_id], from_store: "notifications")
    end

    it "links an unknown target as unresolved" do
      result = link("missing")
      expect(result[:edge_fact].value).to include(ref_status: "unresolved", to_store: nil)
      expect(ledger.resolve_edge(result[:edge_id])).to eq(status: :unresolved, ref_status: :unresolved, to_fact_id: "missing")
      expect(ledger.resolve_edge("nope")).to eq(status: :not_found, edge_id: "nope")
    end

    it "redirects raw edges once their targets are compacted, idempotently" do
      closed_day(ledger)
      edge_id = link(template_id)[:edge_id]
      expect(ledger.resolve_edge(edge_id, fidelity: :raw)).to include(status: :ok, ref_status: :raw)
      expect(ledger.refresh_relation_edges).to eq(refreshed_count: 0, skipped_count: 1, unresolved_count: 0)
      ledger.settle_boundary(key)
      ledger.compact_boundary(key)
      expect(ledger.refresh_relation_edges(assume_compacted: true)).to eq(refreshed_count: 1, skipped_count: 0, unresolved_count: 0)
      expect(ledger.refresh_relation_edges(assume_compacted: true)[:refreshed_count]).to eq(0)
      latest = store.history(store: :ledger_relation_edges, key: edge_id).last.value
      expect(latest).to include(ref_status: "redirected", fidelity: "boundary", to_boundary_key: key)
      expect(ledger.resolve_edge(edge_id)).to include(status: :ok, ref_status: :redirected, to_boundary_key: key)
      expect(ledger.rebuild_relation_edge_target_index).to eq(rebuilt_count: 1)
    end
  end

  describe "reference-guarded cleanup" do
    before do
      closed_day(ledger)
      ledger.settle_boundary(key)
    end

    it "blocks on a raw edge and clears after compaction and refresh" do
      edge_id = link(template_id)[:edge_id]
      blocked = ledger.cleanup_plan(store: :order_events, before: cutoff, require_reference_redirects: true)
      expect(blocked).to include(status: :blocked, blocking_reasons: { key => :external_reference_redirect_required })
      expect(blocked[:blocking_relation_edges]).to eq([{ edge_id: edge_id, to_fact_id: template_id, ref_status: :raw,
                                                         boundary_key: key }])
      expect(ledger.cleanup_plan(store: :order_events, before: cutoff)[:status]).to eq(:ready)
      ledger.compact_boundary(key)
      ledger.refresh_relation_edges(assume_compacted: true)
      ready = ledger.cleanup_plan(store: :order_events, before: cutoff, require_reference_redirects: true)
      expect(ready).to include(status: :ready, blocking_relation_edges: [])
    end
  end

  describe "#purge_cleanup_execution" do
    def execute
      ledger.execute_cleanup_plan(ledger.cleanup_plan(store: :order_events, before: cutoff))[:plan_hash]
    end

    it "dry-runs, purges the source facts once and keeps boundary replay and redirects" do
      compacted_day(ledger)
      id = template_id
      plan_hash = execute
      dry = ledger.purge_cleanup_execution(plan_hash: plan_hash, dry_run: true)
      expect(dry).to eq(status: :ready, dry_run: true, fact_ids_to_prune: [id], boundary_keys: [key], blockers: [])
      expect(store.fact_by_id(id)).not_to be_nil
      purged = ledger.purge_cleanup_execution(plan_hash: plan_hash)
      expect(purged).to include(status: :purged, deduplicated: false, pruned_count: 1)
      expect(store.fact_by_id(id)).to be_nil
      expect(ledger.replay(key)[:status]).to eq(:ok)
      expect(ledger.resolve_ref(id)[:status]).to eq(:redirected)
      expect(ledger.purge_cleanup_execution(plan_hash: plan_hash)).to include(status: :purged, deduplicated: true)
      expect(store.history(store: :ledger_physical_purge_receipts).size).to eq(1)
      activity = ledger.compaction_activity.find { |e| e[:kind] == :boundary_physical_purge }
      expect(activity).to include(executor: :boundary_ledger, status: :purged, fact_count: 1)
    end

    it "blocks without a receipt and before compaction" do
      expect(ledger.purge_cleanup_execution(plan_hash: "x")).to eq(status: :blocked, reason: :cleanup_execution_receipt_missing,
                                                                   plan_hash: "x")
      closed_day(ledger)
      ledger.settle_boundary(key)
      expect(ledger.purge_cleanup_execution(plan_hash: execute))
        .to eq(status: :blocked, reason: :boundary_compaction_required, boundary_key: key)
    end

    it "keeps purged ids absent after a file-backed reopen" do
      Dir.mktmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        file_store = Igniter::Store.open(path)
        file_ledger = boundary_ledger(file_store)
        compacted_day(file_ledger)
        id = file_store.history(store: :availability_templates, key: "t1").last.id
        plan_hash = file_ledger.execute_cleanup_plan(file_ledger.cleanup_plan(store: :order_events, before: cutoff))[:plan_hash]
        expect(file_ledger.purge_cleanup_execution(plan_hash: plan_hash)[:status]).to eq(:purged)
        file_store.close

        reopened = Igniter::Store.open(path)
        fresh = boundary_ledger(reopened)
        fresh.hydrate_boundaries
        expect(reopened.fact_by_id(id)).to be_nil
        expect(fresh.replay(key)[:status]).to eq(:ok)
        expect(fresh.resolve_ref(id)[:status]).to eq(:redirected)
        reopened.close
      end
    end
  end
end
