# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# What close_boundary persists, what replay answers around compaction, and
# that the boundary ledger is a thin front over AvailabilityLedger.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  it "embeds Date#to_s in the key of a closed boundary" do
    expect(closed_day(ledger)[:boundary].boundary_key)
      .to eq("technician_day/company=c1/technician=t1/date=2026-05-04/version=1.0")
  end

  it "persists the boundary record with policy, rule version, derivation receipt and detail status" do
    result = closed_day(ledger)
    record = result[:boundary_fact].value
    expect(result[:boundary_fact].key).to eq(key)
    expect(record).to include(boundary_key: key, policy_name: "technician_day", rule_version: "1.0",
                              output_fact_id: result[:snapshot_fact].id, receipt_fact_id: result[:receipt_fact].id,
                              detail_status: "full", source_fact_ids: [template_fact_id(store)])
    expect(Time.iso8601(record[:closed_at])).to be_within(60).of(Time.now)
    expect(result[:boundary_fact].producer).to eq(system: "availability_boundary_ledger", version: "1.0")
  end

  it "persists a closure receipt carrying the fixed result" do
    result = closed_day(ledger)
    receipt = result[:closure_receipt_fact].value
    expect(receipt).to include(boundary_key: key, output_fact_id: result[:snapshot_fact].id,
                               receipt_fact_id: result[:receipt_fact].id, result_hash: result[:boundary].result_hash,
                               source_fact_ids: result[:boundary].source_fact_ids, detail_status: "full")
  end

  it "returns the snapshot and its derivation receipt from close" do
    result = closed_day(ledger)
    expect(result[:snapshot_fact].store).to eq(:availability_snapshots)
    expect(result[:receipt_fact].key).to eq(result[:snapshot_fact].id)
    expect(result[:boundary].output_fact_id).to eq(result[:snapshot_fact].id)
    expect(result[:boundary].receipt_fact_id).to eq(result[:receipt_fact].id)
  end

  it "closes the boundary that was opened explicitly (same object)" do
    opened = ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
    expect(closed_day(ledger)[:boundary]).to be(opened)
    expect(opened.closed?).to be(true)
  end

  it "accepts a date given as a String" do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    result = ledger.close_boundary(company_id: "c1", technician_id: "t1", date: "2026-05-04")
    expect(result[:boundary].boundary_key).to eq(key)
    expect(result[:snapshot_fact].value[:available_seconds]).to eq(28_800)
  end

  it "keeps replay output and result hash unchanged by compaction, flipping only the detail status" do
    closed_day(ledger)
    before = ledger.replay(key)
    ledger.settle_boundary(key)
    ledger.compact_boundary(key)
    after = ledger.replay(key)
    expect(after.reject { |k, _| k == :detail_status }).to eq(before.reject { |k, _| k == :detail_status })
    expect([before[:detail_status], after[:detail_status]]).to eq(%i[full purged])
  end

  it "gives the same result hash for a day closed twice on two stores with the same facts" do
    other = boundary_ledger(new_store)
    a = closed_day(ledger)[:boundary]
    b = closed_day(other)[:boundary]
    expect(a.result_hash).not_to eq(b.result_hash) # different source fact ids
    expect(a.result_hash).to eq(ledger.replay(key)[:result_hash])
  end

  it "replays at full fidelity even without a boundary" do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    full = ledger.full_replay(company_id: "c1", technician_id: "t1", date: monday)
    expect(full).to include(status: :ok, fidelity: :full, boundary_id: key, detail_status: :full)
    expect(full[:output][:available_seconds]).to eq(28_800)
  end

  describe "delegation to AvailabilityLedger" do
    let(:plain) { LedgerFixtures::IL::AvailabilityLedger.new(store: store) }

    it "writes base facts another AvailabilityLedger on the same store sees" do
      ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
      ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
      ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(13), end_time: utc(14))
      value = plain.compute_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: 1)[:snapshot_fact].value
      expect(value[:available_seconds]).to eq(28_800 - 7200)
    end

    it "computes and reads snapshots through the boundary ledger" do
      ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
      computed = ledger.compute_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: 5)
      expect(computed[:snapshot_fact].value[:available_seconds]).to eq(144_000)
      expect(ledger.read_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: 5).id)
        .to eq(computed[:snapshot_fact].id)
      expect(plain.read_snapshot(technician_id: "t1", horizon_start: monday, horizon_days: 5).id)
        .to eq(computed[:snapshot_fact].id)
    end
  end
end
