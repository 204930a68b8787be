# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# Source fact refs ({id, store, role, key}) travel from the snapshot into the
# boundary, its persisted record and closure receipt, and back on hydration.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  before do
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    @override = ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
    @order = ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(13), end_time: utc(14))
  end

  let(:closed) { ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday) }

  it "gives every snapshot ref an id, store, role and key" do
    refs = closed[:snapshot_fact].value[:derived_from_fact_refs]
    expect(refs).to all(include(:id, :store, :role, :key))
    expect(refs.first).to include(id: template_fact_id(store), store: "availability_templates", role: "template",
                                  key: "t1")
  end

  it "lists the same facts in the ids and the refs" do
    value = closed[:snapshot_fact].value
    expect(value[:derived_from_fact_ids]).to match_array(value[:derived_from_fact_refs].map { |r| r[:id] })
    expect(value[:derived_from_fact_ids]).to match_array([template_fact_id(store), @override.id, @order.id])
  end

  it "keeps String-keyed refs with roles on the boundary" do
    refs = closed[:boundary].source_fact_refs
    expect(refs).to all(satisfy { |ref| ref.key?("store") && ref.key?("role") })
    expect(refs.map { |r| r["role"] }).to eq(%w[template override order_event])
  end

  it "persists the refs in the boundary record and the closure receipt" do
    [closed[:boundary_fact], closed[:closure_receipt_fact]].each do |fact|
      expect(fact.value[:source_fact_refs].map { |r| [r[:id], r[:store], r[:role]] })
        .to eq([[template_fact_id(store), "availability_templates", "template"],
                [@override.id, "availability_overrides", "override"], [@order.id, "order_events", "order_event"]])
    end
  end

  it "names the order event by role, store and id" do
    ref = closed[:snapshot_fact].value[:derived_from_fact_refs].find { |r| r[:role] == "order_event" }
    expect(ref).to eq(id: @order.id, store: "order_events", role: "order_event", key: "ord1")
  end

  it "restores the refs on hydration" do
    original = closed[:boundary].source_fact_refs
    fresh = boundary_ledger(store)
    fresh.hydrate_boundaries
    expect(fresh.find_boundary(key).source_fact_refs).to eq(original)
  end

  it "includes a cancelled order's versions as sources although it no longer blocks" do
    cancel = ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(13), end_time: utc(14),
                                      type: "cancelled")
    value = closed[:snapshot_fact].value
    expect(value[:derived_from_fact_ids]).to include(@order.id, cancel.id)
    expect(value[:available_seconds]).to eq(28_800 - 3600)
  end

  it "resolves raw refs through the redirect's store hint" do
    ledger.settle_boundary(closed[:boundary].boundary_key)
    ledger.compact_boundary(key)
    expect(ledger.resolve_ref(@order.id, fidelity: :raw)[:fact].store).to eq(:order_events)
  end
end
