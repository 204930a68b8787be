# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# cleanup_plan(require_reference_redirects: true): raw or unresolved edges
# into a boundary's source facts block it; only the target index counts.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  before { settled_day(ledger) }

  # An edge/index pair written by hand, as another process might have.
  def manual_edge(edge_id, to_fact_id, ref_status)
    value = { "edge_id" => edge_id, "to_fact_id" => to_fact_id, "ref_status" => ref_status, "relation" => "rel_a",
              "from_store" => "orders" }
    store.write(store: :ledger_relation_edges, key: edge_id, value: value)
    store.write(store: :ledger_relation_edge_targets, key: to_fact_id, value: value)
  end

  it "is ready with an empty edge list when no edges exist" do
    expect(guarded_plan(ledger)).to include(status: :ready, blocking_relation_edges: [], require_reference_redirects: true)
  end

  it "blocks on a manually written unresolved edge" do
    manual_edge("e-unres", template_fact_id(store), "unresolved")
    plan = guarded_plan(ledger)
    expect(plan).to include(status: :blocked, blocking_reasons: { key => :external_reference_redirect_required })
    expect(plan[:blocking_relation_edges]).to eq([{ edge_id: "e-unres", to_fact_id: template_fact_id(store),
                                                    ref_status: :unresolved, boundary_key: key }])
  end

  it "ignores edges when the flag is false" do
    link_edge(ledger, template_fact_id(store))
    plan = guarded_plan(ledger, flag: false)
    expect(plan).to include(status: :ready, require_reference_redirects: false)
    expect(plan).not_to have_key(:blocking_relation_edges)
  end

  it "lists every blocking edge" do
    ids = [link_edge(ledger, template_fact_id(store))[:edge_id],
           link_edge(ledger, template_fact_id(store), from_fact_id: "nf2")[:edge_id]]
    expect(guarded_plan(ledger)[:blocking_relation_edges].map { |e| e[:edge_id] }).to match_array(ids)
  end

  it "decides by the latest index entry per edge: a newer raw entry blocks again" do
    id = template_fact_id(store)
    manual_edge("e1", id, "redirected")
    store.write(store: :ledger_relation_edge_targets, key: id, value: { "edge_id" => "e1", "ref_status" => "raw" })
    expect(guarded_plan(ledger)[:blocking_relation_edges].map { |e| [e[:edge_id], e[:ref_status]] }).to eq([["e1", :raw]])
  end

  it "decides by the latest index entry per edge: a newer redirected entry clears" do
    id = template_fact_id(store)
    manual_edge("e1", id, "raw")
    store.write(store: :ledger_relation_edge_targets, key: id, value: { "edge_id" => "e1", "ref_status" => "redirected" })
    expect(guarded_plan(ledger)[:status]).to eq(:ready)
  end

  it "consults only the target index, not an edge rewritten in the edge store alone" do
    edge_id = link_edge(ledger, template_fact_id(store))[:edge_id]
    store.write(store: :ledger_relation_edges, key: edge_id, value: { "edge_id" => edge_id, "ref_status" => "redirected" })
    expect(guarded_plan(ledger)[:status]).to eq(:blocked)
  end

  it "reports only the boundary whose sources have raw edges" do
    settled_day(ledger, tid: "t2")
    link_edge(ledger, template_fact_id(store, "t2"))
    plan = guarded_plan(ledger)
    expect(plan).to include(status: :blocked, blocking_boundaries: [key_for("t2")],
                            blocking_reasons: { key_for("t2") => :external_reference_redirect_required })
    expect(plan[:blocking_relation_edges].map { |e| e[:boundary_key] }).to eq([key_for("t2")])
  end

  it "lists open and unsettled boundaries before reference-blocked ones" do
    link_edge(ledger, template_fact_id(store))
    closed_day(ledger, tid: "t2")
    ledger.open_boundary(company_id: "c1", technician_id: "t3", date: monday)
    expect(guarded_plan(ledger)[:blocking_boundaries]).to eq([key_for("t3"), key_for("t2"), key])
  end

  it "enforces the guard on a fresh hydrated ledger" do
    link_edge(ledger, template_fact_id(store))
    fresh = boundary_ledger(store)
    fresh.hydrate_boundaries
    expect(guarded_plan(fresh)).to include(status: :blocked, blocking_boundaries: [key])
  end

  it "stays ready after a second refresh" do
    link_edge(ledger, template_fact_id(store))
    ledger.compact_boundary(key)
    2.times { ledger.refresh_relation_edges(assume_compacted: true) }
    expect(guarded_plan(ledger)).to include(status: :ready, blocking_relation_edges: [])
  end

  it "guards compacted boundaries too until their edges are refreshed" do
    link_edge(ledger, template_fact_id(store))
    ledger.compact_boundary(key)
    expect(guarded_plan(ledger)[:status]).to eq(:blocked)
  end
end
