# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# settle_boundary: the summary, metrics and settlement receipt it writes,
# and what stays readable once the boundary is compacted.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  it "returns the boundary and the three facts it wrote" do
    boundary = closed_day(ledger)[:boundary]
    result = ledger.settle_boundary(key)
    expect(result.keys).to eq(%i[boundary summary_fact metrics_fact settlement_receipt])
    expect(result[:boundary]).to be(boundary)
    expect([result[:summary_fact], result[:metrics_fact], result[:settlement_receipt]].map(&:store))
      .to eq(%i[ledger_boundary_summaries ledger_boundary_metrics ledger_settlement_receipts])
    expect([result[:summary_fact], result[:metrics_fact], result[:settlement_receipt]].map(&:key)).to all(eq(key))
  end

  it "writes a settlement receipt naming status, key, hash and both outputs" do
    boundary = closed_day(ledger)[:boundary]
    result = ledger.settle_boundary(key)
    receipt = result[:settlement_receipt].value
    expect(receipt).to include(boundary_key: key, settlement_status: "settled", result_hash: boundary.result_hash)
    expect(receipt[:output_fact_ids]).to eq(availability_summary: result[:summary_fact].id,
                                            availability_metrics: result[:metrics_fact].id)
    expect(receipt[:transforms].map { |t| [t[:transform_name], t[:output_fact_id]] })
      .to eq([["availability_summary", result[:summary_fact].id], ["availability_metrics", result[:metrics_fact].id]])
    expect(receipt[:transforms]).to all(include(transform_version: "1.0", input_boundary_key: key))
    expect(Time.iso8601(receipt[:settled_at])).to be_within(60).of(Time.now)
  end

  it "marks the boundary settled with the receipt id and leaves it closed" do
    closed_day(ledger)
    receipt = ledger.settle_boundary(key)[:settlement_receipt]
    boundary = ledger.find_boundary(key)
    expect([boundary.status, boundary.settlement_status, boundary.settled?]).to eq([:closed, :settled, true])
    expect(boundary.settlement_receipt_id).to eq(receipt.id)
  end

  it "counts overlapping overrides once in blocked hours (merged before counting)" do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    ledger.write_override(technician_id: "t1", override_id: "a", start_time: utc(10), end_time: utc(12))
    ledger.write_override(technician_id: "t1", override_id: "b", start_time: utc(11), end_time: utc(13))
    ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday)
    result = ledger.settle_boundary(key)
    expect(result[:metrics_fact].value).to include(available_hours: 5.0, blocked_hours: 3.0)
    expect(result[:summary_fact].value).to include(blocked_interval_count: 1, available_slot_count: 2)
  end

  it "ignores the part of a block outside the boundary's day in blocked hours" do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    ledger.write_override(technician_id: "t1", override_id: "night", start_time: utc(22, day: 3),
                          end_time: utc(10))
    ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday)
    metrics = ledger.settle_boundary(key)[:metrics_fact].value
    expect(metrics).to include(available_hours: 7.0, blocked_hours: 10.0)
  end

  it "keeps summary, metrics and settlement receipt readable after compaction" do
    closed_day(ledger)
    settled = ledger.settle_boundary(key)
    ledger.compact_boundary(key)
    expect(store.read(store: :ledger_boundary_summaries, key: key)).to eq(settled[:summary_fact].value)
    expect(store.read(store: :ledger_boundary_metrics, key: key)).to eq(settled[:metrics_fact].value)
    expect(store.fact_by_id(settled[:settlement_receipt].id).value[:settlement_status]).to eq("settled")
  end

  it "replays at boundary fidelity with full detail after settlement" do
    boundary = closed_day(ledger)[:boundary]
    ledger.settle_boundary(key)
    expect(ledger.replay(key)).to include(status: :ok, fidelity: :boundary, detail_status: :full,
                                          result_hash: boundary.result_hash)
  end

  it "records a late fact on a settled, not yet compacted boundary as closed and settled" do
    closed_day(ledger)
    ledger.settle_boundary(key)
    late = ledger.write_late_fact(boundary_key: key, fact_value: { "start" => 1.0 }, fact_type: :override)
    expect(late.value).to include(boundary_status_at_arrival: "closed", settlement_status_at_arrival: "settled",
                                  fact_type: "override", fact_value: { start: 1.0 })
    expect(late.key).to start_with("late/#{key}/")
  end

  it "settles a hand-closed boundary whose output only has available_seconds" do
    boundary = ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
    out = store.write(store: :availability_snapshots, key: "x", value: { "available_seconds" => 0 })
    boundary.close!(output_fact: out, receipt_fact: out, source_fact_ids: [])
    result = ledger.settle_boundary(key)
    expect(result[:summary_fact].value).to include(available_seconds: 0, available_slot_count: 0,
                                                   blocked_interval_count: 0, source_fact_count: 0)
    expect(result[:metrics_fact].value).to include(capacity_percent: 0.0, available_hours: 0.0, blocked_hours: 0.0)
  end

  it "settles a hydrated boundary whose snapshot is missing instead of raising NoMethodError" do
    store.write(store: :ledger_boundaries, key: "b1", value: { "boundary_key" => "b1", "output_fact_id" => "gone",
                                                               "subject" => { "date" => "2026-05-04" } })
    store.write(store: :ledger_boundary_receipts, key: "b1", value: { "boundary_key" => "b1" })
    ledger.hydrate_boundaries
    expect(ledger.find_boundary("b1").output_value).to be_nil
    expect(ledger.settle_boundary("b1")[:summary_fact].value).to include(available_seconds: 0, available_slot_count: 0)
  end

  it "refuses to settle a compacted boundary" do
    compacted_day(ledger)
    expect { ledger.settle_boundary(key) }.to raise_error(ArgumentError, "boundary must be closed before settlement")
  end

  it "refuses to compact an unknown, open or already compacted boundary" do
    expect { ledger.compact_boundary(key) }.to raise_error(ArgumentError, "boundary not found: #{key}")
    ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
    expect { ledger.compact_boundary(key) }.to raise_error(ArgumentError, "boundary must be closed before compaction")
    compacted_day(ledger)
    expect { ledger.compact_boundary(key) }.to raise_error(ArgumentError, "boundary must be closed before compaction")
  end
end
