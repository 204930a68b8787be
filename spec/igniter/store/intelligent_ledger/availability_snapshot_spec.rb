# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { described_class.new(store: store) }

  def snapshot(days = 5)
    ledger.compute_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: days)
  end

  before { ledger.write_template(technician_id: "t1", weekly_schedule: weekdays) }

  it "derives 144 000 available seconds in five slots from a Mon-Fri template" do
    value = snapshot[:snapshot_fact].value
    expect(value[:available_seconds]).to eq(144_000)
    expect(value[:available_slots].size).to eq(5)
    expect(value[:blocked_intervals]).to eq([])
  end

  it "derives one 28 800 s slot for a single Monday" do
    expect(snapshot(1)[:snapshot_fact].value[:available_seconds]).to eq(28_800)
  end

  it "subtracts an override and reports its exact blocked interval" do
    ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(12))
    value = snapshot[:snapshot_fact].value
    expect(value[:available_seconds]).to eq(136_800)
    expect(value[:blocked_intervals]).to eq([{ start: utc(10).to_f, end: utc(12).to_f }])
  end

  it "subtracts a reservation and frees it again once the order is cancelled" do
    ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(14, day: 5),
                             end_time: utc(15, 30, day: 5))
    expect(snapshot[:snapshot_fact].value[:available_seconds]).to eq(138_600)
    ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(14, day: 5),
                             end_time: utc(15, 30, day: 5), type: "cancelled")
    value = snapshot[:snapshot_fact].value
    expect(value[:available_seconds]).to eq(144_000)
    expect(value[:blocked_intervals]).to eq([])
  end

  it "removes an override's block when a later version of it is a cancel" do
    ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(12))
    ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(12),
                          type: "cancel")
    value = snapshot[:snapshot_fact].value
    expect(value[:available_seconds]).to eq(144_000)
    expect(value[:blocked_intervals]).to eq([])
  end

  it "clips blocked intervals to the horizon and merges overlaps before counting" do
    ledger.write_override(technician_id: "t1", override_id: "a", start_time: utc(10), end_time: utc(12))
    ledger.write_override(technician_id: "t1", override_id: "b", start_time: utc(11), end_time: utc(13))
    ledger.write_override(technician_id: "t1", override_id: "late", start_time: utc(10, day: 20),
                          end_time: utc(11, day: 20))
    value = snapshot(1)[:snapshot_fact].value
    expect(value[:blocked_intervals]).to eq([{ start: utc(10).to_f, end: utc(13).to_f }])
    expect(value[:available_seconds]).to eq(28_800 - (3 * 3600))
  end

  it "records a new snapshot version on recompute that reflects new facts" do
    first = snapshot[:snapshot_fact]
    ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(9), end_time: utc(10))
    second = snapshot[:snapshot_fact]
    expect(second.id).not_to eq(first.id)
    expect(second.value[:available_seconds]).to eq(first.value[:available_seconds] - 3600)
    expect(ledger.read_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: 5).id).to eq(second.id)
  end

  it "names template, override and order facts as sources with store/role refs" do
    template = store.history(store: :availability_templates, key: "t1").last
    override = ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
    order = ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(12), end_time: utc(13))
    value = snapshot[:snapshot_fact].value
    expect(value[:derived_from_fact_ids]).to eq([template.id, override.id, order.id])
    expect(value[:derived_from_fact_refs].map { |r| [r[:store], r[:role]] })
      .to eq([%w[availability_templates template], %w[availability_overrides override], %w[order_events order_event]])
  end

  it "writes a derivation receipt keyed by the snapshot id and derivation metadata on the snapshot" do
    result = snapshot
    fact = result[:snapshot_fact]
    receipt = ledger.read_receipt(fact.id)
    expect(receipt.id).to eq(result[:receipt_fact].id)
    expect(receipt.key).to eq(fact.id)
    expect(receipt.value).to include(snapshot_fact_id: fact.id, derivation_name: "availability_snapshot",
                                     derivation_version: "1.0")
    expect(fact.derivation).to include(name: "availability_snapshot", version: "1.0")
    expect(fact.derivation[:source_fact_ids]).not_to be_empty
    expect(fact.producer).to eq(system: "availability_ledger", version: "1.0")
  end

  it "writes base facts without producer or derivation" do
    fact = ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
    expect(fact.producer).to be_nil
    expect(fact.derivation).to be_nil
    expect(fact.key).to eq("t1/o1")
  end
end
