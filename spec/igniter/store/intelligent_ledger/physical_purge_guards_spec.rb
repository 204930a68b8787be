# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# purge_cleanup_execution: every guard that stops a physical purge, and what
# a successful purge leaves behind.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  def forged_receipt(plan_hash, **fields)
    store.write(store: :ledger_cleanup_execution_receipts, key: plan_hash,
                value: { "status" => "executed_noop", "plan_hash" => plan_hash, "store" => "order_events",
                         "before" => "2026-05-05T00:00:00Z", "boundary_keys" => [key] }.merge(fields))
  end

  it "reports the detail unavailable after a purge while boundary replay still answers" do
    compacted_day(ledger)
    ledger.purge_cleanup_execution(plan_hash: execute_plan(ledger))
    expect(ledger.full_replay(company_id: "c1", technician_id: "t1", date: monday))
      .to include(status: :detail_unavailable, detail_status: :purged)
    expect(ledger.replay(key)).to include(status: :ok, detail_status: :purged)
    expect(ledger.replay(key)[:output][:available_seconds]).to eq(28_800)
  end

  it "writes a purge receipt naming the plan, boundaries and pruned ids" do
    compacted_day(ledger)
    id = template_fact_id(store)
    plan_hash = execute_plan(ledger)
    result = ledger.purge_cleanup_execution(plan_hash: plan_hash)
    receipt = store.fact_by_id(result[:receipt_id])
    expect(receipt.key).to eq(plan_hash)
    expect(receipt.value).to include(status: "purged", plan_hash: plan_hash, boundary_keys: [key],
                                     fact_ids_pruned: [id], pruned_count: 1, missing_count: 0)
    expect(receipt.value[:purged_at]).to end_with("Z")
  end

  it "never prunes the snapshot, receipts or redirects" do
    result = compacted_day(ledger)
    ledger.purge_cleanup_execution(plan_hash: execute_plan(ledger))
    kept = [result[:snapshot_fact], result[:receipt_fact], result[:boundary_fact], result[:closure_receipt_fact]]
    expect(kept.map { |f| store.fact_by_id(f.id)&.id }).to eq(kept.map(&:id))
    expect(store.history(store: :ledger_fact_redirects).size).to eq(1)
  end

  it "blocks when the execution receipt did not succeed" do
    forged_receipt("h1", "status" => "failed")
    expect(ledger.purge_cleanup_execution(plan_hash: "h1"))
      .to eq(status: :blocked, reason: :cleanup_execution_not_successful, plan_hash: "h1", receipt_status: "failed")
  end

  it "blocks a forged receipt naming a boundary that is settled but not compacted" do
    settled_day(ledger)
    forged_receipt("h2")
    expect(ledger.purge_cleanup_execution(plan_hash: "h2"))
      .to eq(status: :blocked, reason: :boundary_compaction_required, boundary_key: key)
  end

  it "blocks a forged receipt naming a boundary the registry does not know" do
    forged_receipt("h3", "boundary_keys" => ["ghost"])
    expect(ledger.purge_cleanup_execution(plan_hash: "h3"))
      .to eq(status: :blocked, reason: :boundary_compaction_required, boundary_key: "ghost")
  end

  it "blocks a source id that has no redirect (checks the boundary's current ids)" do
    compacted_day(ledger)
    plan_hash = execute_plan(ledger)
    boundary = ledger.find_boundary(key)
    boundary.instance_variable_set(:@source_fact_ids, (boundary.source_fact_ids + ["injected-id"]).freeze)
    expect(ledger.purge_cleanup_execution(plan_hash: plan_hash))
      .to eq(status: :blocked, reason: :fact_redirect_missing, fact_id: "injected-id", boundary_key: key)
    expect(store.fact_by_id(template_fact_id(store))).not_to be_nil
  end

  it "re-checks the reference guard: a raw edge added after execution blocks the purge" do
    compacted_day(ledger)
    plan_hash = execute_plan(ledger, flag: true)
    edge_id = link_edge(ledger, template_fact_id(store))[:edge_id]
    result = ledger.purge_cleanup_execution(plan_hash: plan_hash)
    expect(result).to include(status: :blocked, reason: :reference_guard_failed, blocking_boundaries: [key])
    expect(result[:blocking_relation_edges].map { |e| e[:edge_id] }).to eq([edge_id])
    expect(store.fact_by_id(template_fact_id(store))).not_to be_nil
  end

  it "reports a store whose backend cannot prune, after every other check passed" do
    backend = Class.new { include Igniter::Store::Backend; def write_fact(_fact) = nil }.new # rubocop:disable Style/Semicolon
    limited = Igniter::Store::IgniterStore.new(backend: backend)
    limited_ledger = boundary_ledger(limited)
    compacted_day(limited_ledger)
    plan_hash = execute_plan(limited_ledger)
    expect(limited_ledger.purge_cleanup_execution(plan_hash: plan_hash, dry_run: true)[:status]).to eq(:ready)
    result = limited_ledger.purge_cleanup_execution(plan_hash: plan_hash)
    expect(result).to include(status: :blocked, reason: :store_prune_unsupported)
    expect(result[:detail]).to include(status: :unsupported, reason: :backend_does_not_support_exact_prune)
    expect(limited.fact_by_id(template_fact_id(limited))).not_to be_nil
    expect(limited.history(store: :ledger_physical_purge_receipts)).to eq([])
  end

  it "writes nothing on a dry run" do
    compacted_day(ledger)
    plan_hash = execute_plan(ledger)
    count = store.fact_count
    ledger.purge_cleanup_execution(plan_hash: plan_hash, dry_run: true)
    expect(store.fact_count).to eq(count)
    expect(store.history(store: :ledger_physical_purge_receipts)).to eq([])
  end

  it "purges the order and override sources of a boundary too" do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    override = ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
    order = ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(13), end_time: utc(14))
    ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday)
    ledger.settle_boundary(key)
    ledger.compact_boundary(key)
    result = ledger.purge_cleanup_execution(plan_hash: execute_plan(ledger))
    expect(result[:pruned_count]).to eq(3)
    expect([override.id, order.id].map { |id| store.fact_by_id(id) }).to eq([nil, nil])
    expect(ledger.resolve_ref(order.id)).to include(status: :redirected, boundary_key: key)
  end
end
