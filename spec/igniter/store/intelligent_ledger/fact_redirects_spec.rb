# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# compact_boundary's fact redirects and resolve_ref over them.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  # Template, one override and one order as sources of the Monday boundary.
  def three_source_day
    ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
    override = ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
    order = ledger.write_order_event(order_id: "ord1", technician_id: "t1", start_time: utc(13), end_time: utc(14))
    ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday)
    ledger.settle_boundary(key)
    { template: template_fact_id(store), override: override.id, order: order.id,
      cleanup: ledger.compact_boundary(key) }
  end

  it "writes one redirect per source fact, keyed by the original id" do
    ids = three_source_day
    redirects = store.history(store: :ledger_fact_redirects)
    expect(redirects.map(&:key)).to contain_exactly(ids[:template], ids[:override], ids[:order])
    expect(redirects.map { |f| f.value[:original_fact_id] }).to eq(redirects.map(&:key))
  end

  it "names store and role of each source, never 'unknown' when refs exist" do
    ids = three_source_day
    pairs = %i[template override order].map do |role|
      store.read(store: :ledger_fact_redirects, key: ids[role]).values_at(:original_store, :source_role)
    end
    expect(pairs).to eq([%w[availability_templates template], %w[availability_overrides override],
                         %w[order_events order_event]])
  end

  it "carries the boundary's evidence on every redirect" do
    ids = three_source_day
    boundary = ledger.find_boundary(key)
    redirect = store.read(store: :ledger_fact_redirects, key: ids[:override])
    expect(redirect).to include(boundary_key: key, boundary_policy: "technician_day",
                                boundary_output_fact_id: boundary.output_fact_id,
                                boundary_receipt_id: boundary.receipt_fact_id,
                                settlement_receipt_id: boundary.settlement_receipt_id,
                                compaction_receipt_id: ids[:cleanup].id, detail_status: "purged",
                                reference_role: "included_in_boundary",
                                compacted_at: ids[:cleanup].value[:compacted_at])
  end

  it "falls back to 'unknown' stores when a boundary has ids but no refs" do
    boundary = ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
    source = store.write(store: :order_events, key: "x", value: { "a" => 1 })
    out = store.write(store: :availability_snapshots, key: "s", value: { "available_seconds" => 0 })
    boundary.close!(output_fact: out, receipt_fact: out, source_fact_ids: [source.id])
    ledger.settle_boundary(key)
    ledger.compact_boundary(key)
    redirect = store.read(store: :ledger_fact_redirects, key: source.id)
    expect(redirect).to include(original_store: "unknown", original_fact_id: source.id)
    expect(redirect).not_to have_key(:source_role)
    expect(ledger.resolve_ref(source.id, fidelity: :raw)).to include(status: :ok, fact: source)
  end

  it "resolves at the boundary and summary fidelities with the same evidence" do
    ids = three_source_day
    boundary = ledger.resolve_ref(ids[:order])
    summary = ledger.resolve_ref(ids[:order], fidelity: :summary)
    expect(boundary).to eq(status: :redirected, kind: :boundary_ref, original_fact_id: ids[:order],
                           boundary_key: key, detail_status: :purged, evidence: boundary[:evidence])
    expect(summary).to eq(boundary.merge(kind: :summary_ref))
    expect(boundary[:evidence][:compaction_receipt_id]).to eq(ids[:cleanup].id)
  end

  it "returns the live fact at raw fidelity and detail_unavailable when assumed compacted" do
    ids = three_source_day
    expect(ledger.resolve_ref(ids[:override], fidelity: :raw)[:fact].id).to eq(ids[:override])
    expect(ledger.resolve_ref(ids[:override], fidelity: :raw, assume_compacted: true))
      .to include(status: :detail_unavailable, original_fact_id: ids[:override], boundary_key: key,
                  required_fidelity: :raw, available_fidelity: :boundary)
  end

  it "answers :not_found for a live fact that was never compacted" do
    fact = store.write(store: :order_events, key: "o", value: { "a" => 1 })
    expect(ledger.resolve_ref(fact.id)).to eq(status: :not_found, original_fact_id: fact.id)
  end

  it "resolves persisted redirects on a fresh ledger without hydration" do
    ids = three_source_day
    fresh = boundary_ledger(store)
    expect(fresh.find_boundary(key)).to be_nil
    expect(fresh.resolve_ref(ids[:template])).to include(status: :redirected, boundary_key: key)
  end

  it "uses the redirect with the greatest transaction time" do
    store.write(store: :ledger_fact_redirects, key: "f1", value: { "boundary_key" => "first" })
    sleep 0.01
    store.write(store: :ledger_fact_redirects, key: "f1", value: { "boundary_key" => "second" })
    expect(ledger.resolve_ref("f1")[:boundary_key]).to eq("second")
  end

  it "treats a redirect without original_store as carrying no store hint" do
    fact = store.write(store: :anything, key: "k", value: { "a" => 1 })
    store.write(store: :ledger_fact_redirects, key: fact.id, value: { "boundary_key" => "b" })
    expect(ledger.resolve_ref(fact.id, fidelity: :raw)).to include(status: :ok, kind: :raw_fact, fact: fact)
    expect(ledger.resolve_ref(fact.id)[:evidence]).to eq(boundary_output_fact_id: nil, boundary_receipt_id: nil,
                                                         settlement_receipt_id: nil, compaction_receipt_id: nil)
  end
end
