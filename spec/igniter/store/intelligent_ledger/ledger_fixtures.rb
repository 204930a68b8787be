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

  def settled_day(ledger, tid: "t1")
    result = closed_day(ledger, tid: tid)
    ledger.settle_boundary(key_for(tid))
    result
  end

  # Id of the latest template fact of a technician.
  def template_fact_id(store, tid = "t1")
    store.history(store: :availability_templates, key: tid).last.id
  end

  def link_edge(ledger, to_fact_id, from_fact_id: "nf1", relation: :notification_availability)
    ledger.link_fact(from_store: :notifications, from_key: "n1", from_fact_id: from_fact_id, to_fact_id: to_fact_id,
                     relation: relation)
  end

  def guarded_plan(ledger, flag: true)
    ledger.cleanup_plan(store: :order_events, before: CUTOFF, require_reference_redirects: flag)
  end

  # Executes the ready plan of the fixture cutoff; returns the plan hash.
  def execute_plan(ledger, flag: false)
    result = ledger.execute_cleanup_plan(guarded_plan(ledger, flag: flag))
    raise "plan not executed: #{result.inspect}" unless result[:status] == :executed_noop

    result[:plan_hash]
  end
end
