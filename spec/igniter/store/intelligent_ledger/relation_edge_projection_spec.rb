# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# Relation edges point at facts by id; once a target is compacted they are
# projected onto the boundary (refresh_relation_edges, resolve_edge).
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  it "records every edge field as a String, without the target's value" do
    closed_day(ledger)
    id = template_fact_id(store)
    result = ledger.link_fact(from_store: :orders, from_key: :k1, from_fact_id: "of1", to_fact_id: id,
                              relation: :test_relation)
    edge = result[:edge_fact].value
    expect(edge).to eq(edge_id: result[:edge_id], relation: "test_relation", from_store: "orders", from_key: "k1",
                       from_fact_id: "of1", to_store: "availability_templates", to_key: "t1", to_fact_id: id,
                       to_boundary_key: nil, ref_status: "raw", fidelity: "raw", evidence: {})
    expect(edge).not_to have_key(:value)
    expect(edge).not_to have_key("value")
    expect(result[:edge_fact].key).to eq(result[:edge_id])
    expect(result[:edge_fact].producer).to eq(system: "availability_boundary_ledger", version: "1.0")
    expect(result[:edge_id]).to match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/)
  end

  it "resolves a raw edge to the live fact at raw fidelity" do
    closed_day(ledger)
    edge_id = link_edge(ledger, template_fact_id(store))[:edge_id]
    result = ledger.resolve_edge(edge_id, fidelity: :raw)
    expect(result).to include(status: :ok, ref_status: :raw, fidelity: :raw)
    expect(result[:to_fact].id).to eq(template_fact_id(store))
  end

  context "after the target's boundary is compacted" do
    let!(:edge_id) do
      settled_day(ledger)
      link_edge(ledger, template_fact_id(store))[:edge_id].tap { ledger.compact_boundary(key) }
    end

    it "resolves at boundary fidelity with the redirect's evidence" do
      result = ledger.resolve_edge(edge_id)
      expect(result).to include(status: :ok, ref_status: :redirected, fidelity: :boundary, to_boundary_key: key)
      expect(result[:evidence]).to eq(ledger.resolve_ref(template_fact_id(store))[:evidence])
      expect(result[:evidence][:compaction_receipt_id]).to eq(ledger.find_boundary(key).compaction_receipt_id)
    end

    it "reports raw detail unavailable when the target is assumed compacted" do
      result = ledger.resolve_edge(edge_id, fidelity: :raw, assume_compacted: true)
      expect(result).to include(status: :detail_unavailable, to_fact_id: template_fact_id(store))
      expect(result[:evidence]).to include(:boundary_output_fact_id, :compaction_receipt_id)
    end

    it "persists a redirected edge version that keeps the original fields" do
      ledger.refresh_relation_edges(assume_compacted: true)
      versions = store.history(store: :ledger_relation_edges, key: edge_id).map(&:value)
      expect(versions.size).to eq(2)
      expect(versions.last).to include(versions.first.reject { |k, _| %i[ref_status fidelity to_boundary_key evidence].include?(k) })
      expect(versions.last).to include(ref_status: "redirected", fidelity: "boundary", to_boundary_key: key)
      expect(versions.last[:evidence]).to eq(ledger.resolve_ref(template_fact_id(store))[:evidence])
      expect(Time.iso8601(versions.last[:refreshed_at])).to be_within(60).of(Time.now)
    end

    it "resolves the refreshed edge on a fresh ledger" do
      ledger.refresh_relation_edges(assume_compacted: true)
      expect(boundary_ledger(store).resolve_edge(edge_id)).to include(status: :ok, ref_status: :redirected,
                                                                      to_boundary_key: key)
    end
  end

  it "redirects several edges in one refresh" do
    settled_day(ledger)
    settled_day(ledger, tid: "t2")
    link_edge(ledger, template_fact_id(store))
    link_edge(ledger, template_fact_id(store, "t2"))
    link_edge(ledger, template_fact_id(store), from_fact_id: "nf3")
    ledger.compact_boundary(key)
    ledger.compact_boundary(key_for("t2"))
    expect(ledger.refresh_relation_edges(assume_compacted: true))
      .to eq(refreshed_count: 3, skipped_count: 0, unresolved_count: 0)
  end

  it "counts an edge whose target has no redirect as unresolved and leaves it untouched" do
    closed_day(ledger)
    edge_id = link_edge(ledger, template_fact_id(store))[:edge_id]
    expect(ledger.refresh_relation_edges(assume_compacted: true))
      .to eq(refreshed_count: 0, skipped_count: 0, unresolved_count: 1)
    expect(store.history(store: :ledger_relation_edges, key: edge_id).size).to eq(1)
    expect(ledger.resolve_edge(edge_id, assume_compacted: true)[:status]).to eq(:unresolved)
  end

  it "counts unresolved and already redirected edges as skipped, summing to the edge count" do
    compacted_day(ledger)
    link_edge(ledger, "missing")
    link_edge(ledger, template_fact_id(store))
    ledger.refresh_relation_edges(assume_compacted: true)
    expect(ledger.refresh_relation_edges(assume_compacted: true))
      .to eq(refreshed_count: 0, skipped_count: 2, unresolved_count: 0)
  end

  it "answers :unresolved for an edge whose latest version is unresolved, whatever the fidelity" do
    edge_id = link_edge(ledger, "missing")[:edge_id]
    %i[raw boundary summary].each do |fidelity|
      expect(ledger.resolve_edge(edge_id, fidelity: fidelity))
        .to eq(status: :unresolved, ref_status: :unresolved, to_fact_id: "missing")
    end
  end
end
