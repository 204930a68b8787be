# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# AvailabilityDeriver is pure computation over fact-like objects; these pin
# the template expansion, block collection and subtraction rules of spec 06 §6.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityDeriver do
  include LedgerFixtures

  DeriverSpecFact = Struct.new(:id, :key, :value, :transaction_time)

  let(:deriver) { described_class.new }
  let(:template) { DeriverSpecFact.new("tpl", "t1", { weekly_schedule: { "1": [%w[09:00 17:00]] } }, 1.0) }

  def block(start_time, end_time, key: "t1/o", type: "block", at: 2.0, id: "ov")
    DeriverSpecFact.new(id, key, { start: start_time.to_f, end: end_time.to_f, type: type }, at)
  end

  def derive(overrides: [], reservations: [], tpl: template, days: 1, ids: ["tpl"], refs: nil)
    deriver.derive(base_facts: { template: tpl, overrides: overrides, active_reservations: reservations },
                   horizon_start: monday, horizon_days: days, source_fact_ids: ids, source_fact_refs: refs)
  end

  def slots(value) = value["available_slots"].map { |s| [s["start"], s["end"]] }

  it "returns a String-keyed value with the documented members" do
    value = derive(ids: %w[a a b], refs: [{ "id" => "a", "store" => "x" }, { id: "a" }, { "id" => "b" }])
    expect(value.keys).to eq(%w[available_slots blocked_intervals available_seconds derived_from_fact_ids
                                derived_from_fact_refs derivation computed_at horizon_start horizon_days])
    expect(value).to include("available_seconds" => 28_800, "derived_from_fact_ids" => %w[a b],
                             "derivation" => { "name" => "availability_snapshot", "version" => "1.0" },
                             "horizon_start" => "2026-05-04", "horizon_days" => 1)
    expect(value["derived_from_fact_refs"]).to eq([{ "id" => "a", "store" => "x" }, { "id" => "b" }])
    expect(value["computed_at"]).to match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}/)
  end

  it "derives nothing without a template" do
    expect(derive(tpl: nil)).to include("available_slots" => [], "available_seconds" => 0)
  end

  it "expands HH:MM pairs per weekday, defaulting missing minutes and rolling 24:00 to midnight" do
    tpl = DeriverSpecFact.new("tpl", "t1", { weekly_schedule: { "1": [%w[9 12], %w[20:30 24:00]], "2": [%w[10:00 09:00]] } }, 1.0)
    value = derive(tpl: tpl, days: 2)
    expect(slots(value)).to eq([[utc(9).to_f, utc(12).to_f], [utc(20, 30).to_f, utc(0, day: 5).to_f]])
    expect(value["available_seconds"]).to eq((3 * 3600) + (3.5 * 3600))
  end

  it "splits a slot around a block strictly inside it" do
    expect(slots(derive(overrides: [block(utc(12), utc(13))])))
      .to eq([[utc(9).to_f, utc(12).to_f], [utc(13).to_f, utc(17).to_f]])
  end

  it "trims a block overlapping the left or the right edge" do
    expect(slots(derive(overrides: [block(utc(8), utc(10))]))).to eq([[utc(10).to_f, utc(17).to_f]])
    expect(slots(derive(overrides: [block(utc(16), utc(18))]))).to eq([[utc(9).to_f, utc(16).to_f]])
  end

  it "drops a fully covered slot and keeps slots a block does not touch" do
    expect(derive(overrides: [block(utc(8), utc(18))])["available_slots"]).to eq([])
    expect(slots(derive(overrides: [block(utc(18), utc(19))]))).to eq([[utc(9).to_f, utc(17).to_f]])
  end

  it "ignores empty, inverted and cancel blocks" do
    value = derive(overrides: [block(utc(10), utc(10), key: "a"), block(utc(12), utc(11), key: "b"),
                               block(utc(10), utc(11), key: "c", type: "cancel")])
    expect(value).to include("available_seconds" => 28_800, "blocked_intervals" => [])
  end

  it "lets the latest version of an override decide, ties going to the later one" do
    first = block(utc(10), utc(11), at: 5.0, id: "v1")
    cancel = block(utc(10), utc(11), type: "cancel", at: 5.0, id: "v2")
    expect(derive(overrides: [first, cancel])["available_seconds"]).to eq(28_800)
    expect(derive(overrides: [cancel.dup.tap { |f| f.transaction_time = 4.0 }, first])["available_seconds"])
      .to eq(28_800 - 3600)
  end

  it "subtracts reservations like overrides" do
    reservation = DeriverSpecFact.new("r", "ord1", { start: utc(14).to_f, end: utc(15, 30).to_f, type: "reserved" }, 3.0)
    expect(derive(reservations: [reservation])["available_seconds"]).to eq(28_800 - 5400)
  end

  it "reports blocked intervals sorted, clipped to the horizon and merged" do
    value = derive(overrides: [block(utc(15), utc(16), key: "c"), block(utc(23, day: 3), utc(9, 30), key: "a"),
                               block(utc(9), utc(10), key: "b"), block(utc(23), utc(2, day: 5), key: "d")])
    expect(value["blocked_intervals"]).to eq([{ "start" => utc(0).to_f, "end" => utc(10).to_f },
                                              { "start" => utc(15).to_f, "end" => utc(16).to_f },
                                              { "start" => utc(23).to_f, "end" => utc(0, day: 5).to_f }])
    expect(value["available_seconds"]).to eq(28_800 - (2 * 3600))
  end
end
