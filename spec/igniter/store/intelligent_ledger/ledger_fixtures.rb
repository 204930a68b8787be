# frozen_string_literal: true

require_relative "../../../../examples/intelligent_ledger/availability_boundary_ledger"

# Shared fixtures of the intelligent-ledger specs: a Monday with a Mon–Fri
# 09:00–17:00 template and the matching cutoffs.
module LedgerFixtures
  IL = Igniter::Store::IntelligentLedger
  MONDAY = Date.new(2026, 5, 4)
  WEEKDAYS = (1..5).to_h { |d| [d.to_s, [%w[09:00 17:00]]] }.freeze
  CUTOFF = Time.utc(2026, 5, 5)

  def monday = MONDAY
  def weekdays = WEEKDAYS
  def cutoff = CUTOFF

  def utc(hour, minute = 0, day: 4)
    Time.utc(2026, 5, day, hour, minute)
  end

  def new_store
    Igniter::Store::IgniterStore.new
  end

  def boundary_ledger(store = new_store)
    IL::AvailabilityBoundaryLedger.new(store: store)
  end

  def key_for(tid = "t1")
    IL::LedgerBoundary.key_for(company_id: "c1", technician_id: tid, date: MONDAY.to_s)
  end

  # Template + close; returns the close result.
  def closed_day(ledger, tid: "t1")
    ledger.write_template(technician_id: tid, weekly_schedule: WEEKDAYS)
    ledger.close_boundary(company_id: "c1", technician_id: tid, date: MONDAY)
  end

  def compacted_day(ledger, tid: "t1")
    result = closed_day(ledger, tid: tid)
    ledger.settle_boundary(key_for(tid))
    ledger.compact_boundary(key_for(tid))
    result
  end
end
