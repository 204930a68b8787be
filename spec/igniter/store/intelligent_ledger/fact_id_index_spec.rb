# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_fixtures"

# The store's fact-id index as the ledger uses it: fact_by_id / fact_ref
# after writes, appends, file reopen and retention compaction.
RSpec.describe Igniter::Store::IntelligentLedger::AvailabilityBoundaryLedger do
  include LedgerFixtures

  let(:store) { new_store }
  let(:ledger) { boundary_ledger(store) }

  it "finds the boundary's snapshot by id in :availability_snapshots" do
    result = closed_day(ledger)
    found = store.fact_by_id(result[:boundary].output_fact_id)
    expect(found).to be(result[:snapshot_fact])
    expect(found.store).to eq(:availability_snapshots)
  end

  it "answers a fact ref without the payload" do
    fact = closed_day(ledger)[:snapshot_fact]
    expect(store.fact_ref(fact.id)).to eq(id: fact.id, store: :availability_snapshots, key: fact.key,
                                          transaction_time: fact.transaction_time, valid_time: fact.valid_time,
                                          value_hash: fact.value_hash)
  end

  it "answers nil for nil, blank and unknown ids" do
    closed_day(ledger)
    [nil, "", "no-such-id"].each do |id|
      expect([store.fact_by_id(id), store.fact_ref(id)]).to eq([nil, nil])
    end
  end

  it "keeps written and appended ids with Symbol stores across a file-backed reopen" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "ids.wal")
      s1 = Igniter::Store.open(path)
      written = s1.write(store: :docs, key: "d1", value: { "title" => "a" })
      appended = s1.append(history: :doc_events, event: { "doc" => "d1" })
      s1.close

      s2 = Igniter::Store.open(path)
      expect(s2.fact_by_id(written.id)).to have_attributes(store: :docs, key: "d1", value: { title: "a" })
      expect(s2.fact_by_id(appended.id)).to have_attributes(store: :doc_events, key: appended.key)
      expect(s2.fact_ref(appended.id)[:store]).to eq(:doc_events)
      s2.close
    end
  end

  it "drops superseded ids on ephemeral compaction and keeps current and other stores' facts" do
    f1 = store.write(store: :docs, key: "d1", value: { "v" => 1 })
    expect(store.fact_by_id(f1.id)).to be(f1)
    f2 = store.write(store: :docs, key: "d1", value: { "v" => 2 })
    other = store.write(store: :notes, key: "n1", value: { "v" => 1 })
    store.set_retention(:docs, strategy: :ephemeral)
    store.compact(:docs)
    expect(store.fact_by_id(f1.id)).to be_nil
    expect(store.fact_by_id(f2.id)).to be(f2)
    expect(store.fact_by_id(other.id)).to be(other)
  end

  it "resolves a compacted source at raw fidelity through the index" do
    compacted_day(ledger)
    id = template_fact_id(store)
    expect(ledger.resolve_ref(id, fidelity: :raw)[:fact]).to be(store.fact_by_id(id))
  end
end
