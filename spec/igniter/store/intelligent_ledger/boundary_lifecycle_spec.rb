# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }
  let(:key) { key_for }

  describe "LedgerBoundary" do
    let(:boundary_class) { Igniter::Store::IntelligentLedger::LedgerBoundary }

    it "builds the documented technician-day key" do
      expect(boundary_class.key_for(company_id: "c", technician_id: "t", date: "2026-05-04"))
        .to eq("technician_day/company=c/technician=t/date=2026-05-04/version=1.0")
    end

    it "starts open, full and unsettled" do
      b = ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      expect([b.status, b.open?, b.closed?, b.detail_status, b.settlement_status]).to eq([:open, true, false, :full, :unsettled])
      expect(b.id).to eq(key)
      expect(ledger.find_boundary(key)).to be(b)
    end

    it "refuses transitions out of order with RuntimeErrors" do
      b = boundary_class.new(subject: { company_id: "c", technician_id: "t", date: "d" })
      expect { b.settle!(settlement_receipt_id: "x") }.to raise_error(RuntimeError, "boundary must be closed before settlement")
      fact = Struct.new(:id, :value).new("f", { available_seconds: 0 })
      b.close!(output_fact: fact, receipt_fact: fact, source_fact_ids: [])
      expect { b.close!(output_fact: fact, receipt_fact: fact, source_fact_ids: []) }
        .to raise_error(RuntimeError, "boundary already closed")
      expect { b.compact!(compaction_receipt_id: "x") }.to raise_error(RuntimeError, "boundary must be settled before compaction")
    end

    it "hashes the result canonically, independent of output key order" do
      fact_a = Struct.new(:id, :value).new("a", { x: 1, y: 2 })
      fact_b = Struct.new(:id, :value).new("b", { y: 2, x: 1 })
      hashes = [fact_a, fact_b].map do |f|
        b = boundary_class.new(subject: { company_id: "c", technician_id: "t", date: "d" })
        b.close!(output_fact: f, receipt_fact: f, source_fact_ids: %w[s2 s1]).result_hash
      end
      expect(hashes.uniq.size).to eq(1)
      expect(hashes.first).to match(/\A[0-9a-f]{64}\z/)
    end
  end

  describe "#close_boundary" do
    it "closes with a 64-hex result hash and returns every written fact" do
      result = closed_day(ledger)
      expect(result[:boundary].status).to eq(:closed)
      expect(result[:boundary].result_hash).to match(/\A[0-9a-f]{64}\z/)
      expect(result.keys).to eq(%i[boundary snapshot_fact receipt_fact boundary_fact closure_receipt_fact])
      expect(result[:boundary_fact].value).to include(status: "closed", result_hash: result[:boundary].result_hash,
                                                      subject: { company_id: "c1", technician_id: "t1", date: "2026-05-04" })
      expect(result[:closure_receipt_fact].key).to eq(key)
      expect(result[:closure_receipt_fact].value[:output_fact_id]).to eq(result[:snapshot_fact].id)
    end

    it "uses the template fact as a String-keyed source ref" do
      result = closed_day(ledger)
      template = store.history(store: :availability_templates, key: "t1").last
      expect(result[:boundary].source_fact_ids).to eq([template.id])
      expect(result[:boundary].source_fact_refs.first).to include("store" => "availability_templates", "role" => "template")
    end

    it "refuses to close twice" do
      closed_day(ledger)
      expect { ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday) }
        .to raise_error(RuntimeError, "boundary already closed")
    end
  end

  describe "#replay and #full_replay" do
    it "answers :not_found, :open and boundary-fidelity :ok" do
      expect(ledger.replay(key)).to eq(status: :not_found, boundary_key: key)
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      expect(ledger.replay(key)).to eq(status: :open, boundary_key: key)
      boundary = closed_day(ledger)[:boundary]
      replay = ledger.replay(key)
      expect(replay).to include(status: :ok, fidelity: :boundary, boundary_id: key, result_hash: boundary.result_hash,
                                detail_status: :full)
      expect(replay[:output][:available_seconds]).to eq(28_800)
    end

    it "recomputes at full fidelity until compaction, then reports the detail unavailable" do
      closed_day(ledger)
      full = ledger.full_replay(company_id: "c1", technician_id: "t1", date: monday)
      expect(full).to include(status: :ok, fidelity: :full, detail_status: :full)
      expect(full[:output][:available_seconds]).to eq(28_800)
      ledger.settle_boundary(key)
      ledger.compact_boundary(key)
      expect(ledger.full_replay(company_id: "c1", technician_id: "t1", date: monday))
        .to eq(status: :detail_unavailable, boundary_id: key, detail_status: :purged,
               boundary_receipt_id: store.history(store: :ledger_boundary_receipts, key: key).last.id)
      expect(ledger.replay(key)).to include(status: :ok, detail_status: :purged)
    end
  end

  describe "#settle_boundary" do
    it "writes summary, metrics and a settlement receipt" do
      boundary = closed_day(ledger)[:boundary]
      result = ledger.settle_boundary(key)
      expect(result[:summary_fact].value).to include(summary_type: "availability", available_seconds: 28_800,
                                                     available_slot_count: 1, blocked_interval_count: 0,
                                                     source_fact_count: 1, result_hash: boundary.result_hash)
      expect(result[:metrics_fact].value).to include(capacity_percent: 33.33, available_hours: 8.0, blocked_hours: 0.0)
      receipt = result[:settlement_receipt].value
      expect(receipt[:transform_names]).to eq(%w[availability_summary availability_metrics])
      expect(receipt[:output_fact_ids][:availability_summary]).to eq(result[:summary_fact].id)
      expect(receipt[:transforms].map { |t| [t[:status], t[:input_result_hash]] }).to all(eq(["ok", boundary.result_hash]))
      expect(boundary.settlement_receipt_id).to eq(result[:settlement_receipt].id)
    end

    it "counts a one-hour override in the metrics" do
      ledger.write_template(technician_id: "t1", weekly_schedule: weekdays)
      ledger.write_override(technician_id: "t1", override_id: "o1", start_time: utc(10), end_time: utc(11))
      ledger.close_boundary(company_id: "c1", technician_id: "t1", date: monday)
      metrics = ledger.settle_boundary(key)[:metrics_fact].value
      expect(metrics).to include(available_hours: 7.0, blocked_hours: 1.0)
    end

    it "raises ArgumentErrors for unknown, open and already settled boundaries" do
      expect { ledger.settle_boundary(key) }.to raise_error(ArgumentError, "boundary not found: #{key}")
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      expect { ledger.settle_boundary(key) }.to raise_error(ArgumentError, "boundary must be closed before settlement")
      closed_day(ledger)
      ledger.settle_boundary(key)
      expect { ledger.settle_boundary(key) }.to raise_error(ArgumentError, "boundary already settled")
    end
  end

  describe "#compact_boundary" do
    it "refuses before settlement and leaves the boundary closed" do
      closed_day(ledger)
      expect { ledger.compact_boundary(key) }.to raise_error(ArgumentError, /must be settled/)
      expect(ledger.find_boundary(key).status).to eq(:closed)
    end

    it "records the cleanup receipt and one redirect per source fact, keeping the result hash" do
      boundary = closed_day(ledger)[:boundary]
      hash = boundary.result_hash
      settlement = ledger.settle_boundary(key)[:settlement_receipt]
      receipt = ledger.compact_boundary(key)
      expect(receipt.value).to include(detail_status_after: "purged", result_hash: hash,
                                       output_fact_id: boundary.output_fact_id, settlement_receipt_id: settlement.id)
      expect([boundary.status, boundary.detail_status, boundary.settled?, boundary.result_hash]).to eq([:compacted, :purged, true, hash])
      source = boundary.source_fact_ids.first
      redirect = store.history(store: :ledger_fact_redirects, key: source).last.value
      expect(redirect).to include(original_fact_id: source, original_store: "availability_templates",
                                  source_role: "template", boundary_key: key, boundary_receipt_id: boundary.receipt_fact_id,
                                  compaction_receipt_id: receipt.id, reference_role: "included_in_boundary")
      expect(store.fact_by_id(source)).not_to be_nil
    end

    it "writes no redirects for a boundary closed with no sources" do
      boundary = ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      out = store.write(store: :availability_snapshots, key: "x", value: { "available_seconds" => 0 })
      boundary.close!(output_fact: out, receipt_fact: out, source_fact_ids: [])
      ledger.settle_boundary(key)
      ledger.compact_boundary(key)
      expect(store.history(store: :ledger_fact_redirects)).to eq([])
    end
  end

  describe "#write_late_fact" do
    it "records a correction receipt without touching the boundary" do
      boundary = closed_day(ledger)[:boundary]
      hash = boundary.result_hash
      fact = ledger.write_late_fact(boundary_key: key, fact_value: { "x" => 1 }, fact_type: :override)
      expect(fact.value).to include(disposition: "correction_boundary", original_result_hash: hash,
                                    boundary_status_at_arrival: "closed", settlement_status_at_arrival: "unsettled")
      expect([boundary.status, boundary.result_hash]).to eq([:closed, hash])
      ledger.settle_boundary(key)
      ledger.compact_boundary(key)
      late = ledger.write_late_fact(boundary_key: key, fact_value: 1, fact_type: "x")
      expect(late.value).to include(boundary_status_at_arrival: "compacted", settlement_status_at_arrival: "settled")
    end

    it "refuses unknown and open boundaries" do
      expect { ledger.write_late_fact(boundary_key: key, fact_value: 1, fact_type: "x") }
        .to raise_error(ArgumentError, "boundary not found: #{key}")
      ledger.open_boundary(company_id: "c1", technician_id: "t1", date: monday)
      expect { ledger.write_late_fact(boundary_key: key, fact_value: 1, fact_type: "x") }
        .to raise_error(ArgumentError, "boundary is not closed")
    end
  end
end
