# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# hydrate_boundaries after a restart (a second ledger on the same store):
# every persisted id comes back, and the rebuilt registry drives plans,
# compaction and late facts like the original one.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  def restarted
    boundary_ledger(store).tap(&:hydrate_boundaries)
  end

  it "restores output, derivation receipt and settlement receipt ids" do
    original = closed_day(ledger)[:boundary]
    ledger.settle_boundary(key)
    hydrated = restarted.find_boundary(key)
    expect([hydrated.output_fact_id, hydrated.receipt_fact_id, hydrated.settlement_receipt_id])
      .to eq([original.output_fact_id, original.receipt_fact_id, original.settlement_receipt_id])
    expect([hydrated.status, hydrated.detail_status, hydrated.settlement_status]).to eq(%i[closed full settled])
  end

  it "restores the output value with its available slots as an Array" do
    closed_day(ledger)
    output = restarted.find_boundary(key).output_value
    expect(output[:available_slots]).to be_an(Array)
    expect(output[:available_slots].size).to eq(1)
    expect(output[:available_slots].first.keys).to contain_exactly(:start, :end)
  end

  it "restores the closed_at time and the compaction time" do
    original = compacted_day(ledger)[:boundary]
    hydrated = restarted.find_boundary(key)
    expect(hydrated.closed_at).to be_within(0.01).of(original.closed_at)
    expect(hydrated.compacted_at).to be_within(0.01).of(original.compacted_at)
  end

  it "gives a Symbol-keyed subject to hydrated boundaries" do
    closed_day(ledger)
    expect(restarted.find_boundary(key).subject).to eq(company_id: "c1", technician_id: "t1", date: "2026-05-04")
  end

  it "produces a ready plan once every hydrated boundary is settled" do
    closed_day(ledger)
    ledger.settle_boundary(key)
    fresh = restarted
    plan = fresh.cleanup_plan(store: :order_events, before: cutoff)
    expect(plan).to include(status: :ready,
                            receipts_to_keep: [store.history(store: :ledger_boundary_receipts, key: key).last.id])
  end

  it "blocks a plan on a hydrated unsettled boundary" do
    closed_day(ledger)
    expect(restarted.cleanup_plan(store: :order_events, before: cutoff))
      .to include(status: :blocked, blocking_reasons: { key => :settlement_required })
  end

  it "accepts late facts for hydrated closed and compacted boundaries" do
    hash = closed_day(ledger)[:boundary].result_hash
    closed_day(ledger, tid: "t2")
    ledger.settle_boundary(key_for("t2"))
    ledger.compact_boundary(key_for("t2"))
    fresh = restarted
    closed = fresh.write_late_fact(boundary_key: key, fact_value: 1, fact_type: "order")
    compacted = fresh.write_late_fact(boundary_key: key_for("t2"), fact_value: 1, fact_type: "order")
    expect(closed.value).to include(original_result_hash: hash, boundary_status_at_arrival: "closed",
                                    settlement_status_at_arrival: "unsettled")
    expect(compacted.value).to include(boundary_status_at_arrival: "compacted", settlement_status_at_arrival: "settled")
  end

  it "settles and compacts a hydrated closed boundary" do
    closed_day(ledger)
    fresh = restarted
    fresh.settle_boundary(key)
    receipt = fresh.compact_boundary(key)
    expect(fresh.find_boundary(key).status).to eq(:compacted)
    expect(fresh.resolve_ref(template_fact_id(store))[:evidence][:compaction_receipt_id]).to eq(receipt.id)
  end

  it "counts hydrated and skipped records separately in a mixed store" do
    closed_day(ledger)
    closed_day(ledger, tid: "t2")
    store.write(store: :ledger_boundaries, key: "orphan", value: { "boundary_key" => "orphan" })
    report = boundary_ledger(store).hydrate_boundaries
    expect(report).to eq(status: :ok, hydrated_count: 2, skipped_count: 1,
                         warnings: ["boundary orphan: closure receipt missing, skipped"])
  end

  it "does not count boundaries already in the registry" do
    closed_day(ledger)
    closed_day(ledger, tid: "t2")
    expect(ledger.hydrate_boundaries).to eq(status: :ok, hydrated_count: 0, skipped_count: 0, warnings: [])
  end

  it "hydrates from the latest version of a boundary record" do
    closed_day(ledger)
    record = store.read(store: :ledger_boundaries, key: key)
    store.write(store: :ledger_boundaries, key: key, value: JSON.parse(JSON.generate(record)).merge("result_hash" => "f" * 64))
    expect(restarted.find_boundary(key).result_hash).to eq("f" * 64)
  end

  it "leaves the output value nil when the output fact is not a snapshot" do
    other = store.write(store: :elsewhere, key: "k", value: { "available_seconds" => 5 })
    store.write(store: :ledger_boundaries, key: "b1", value: { "boundary_key" => "b1", "output_fact_id" => other.id })
    store.write(store: :ledger_boundary_receipts, key: "b1", value: { "boundary_key" => "b1" })
    expect(restarted.find_boundary("b1").output_value).to be_nil
  end
end
