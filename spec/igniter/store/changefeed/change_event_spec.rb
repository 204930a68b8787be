# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangeEvent, changefeed: true do
  let(:fact) do
    build_fact(store: :orders, key: "o1", value: { total: 5 }, causation: "prev-id", producer: { system: :billing })
  end
  let(:event) { described_class.from_fact(fact, sequence: 7) }

  it "has the 0.5.2 members in order" do
    expect(described_class.members).to eq(
      %i[schema_version id type store key fact_id transaction_time emitted_at producer causation cursor fact]
    )
  end

  it "copies the fact's coordinates and carries the fact itself" do
    expect(event.schema_version).to eq(1)
    expect(event.type).to eq(:fact_committed)
    expect([event.store, event.key, event.fact_id]).to eq([:orders, "o1", fact.id])
    expect(event.transaction_time).to eq(fact.transaction_time)
    expect(event.causation).to eq("prev-id")
    expect(event.producer).to eq({ system: :billing })
    expect(event.fact).to be(fact)
  end

  it "is frozen, with a frozen cursor holding the sequence" do
    expect(event).to be_frozen
    expect(event.cursor).to eq({ sequence: 7 })
    expect(event.cursor).to be_frozen
    expect(event.sequence).to eq(7)
  end

  it "stamps emitted_at as a realtime Float" do
    before = realtime
    stamped = described_class.from_fact(fact, sequence: 1)
    expect(stamped.emitted_at).to be_a(Float)
    expect(stamped.emitted_at).to be_between(before, realtime)
  end

  it "gets a unique change_ id on every call" do
    ids = Array.new(50) { described_class.from_fact(fact, sequence: 1).id }
    expect(ids.uniq.size).to eq(50)
    expect(ids).to all(match(/\Achange_\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/))
  end

  it "exposes every member but the fact in to_h" do
    hash = event.to_h
    expect(hash.keys).to eq(described_class.members - [:fact])
    expect(hash[:cursor]).to eq({ sequence: 7 })
    expect(hash[:fact_id]).to eq(fact.id)
  end
end
