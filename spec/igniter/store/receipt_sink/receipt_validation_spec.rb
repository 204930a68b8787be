# frozen_string_literal: true

require "spec_helper"

# Validation runs before any write: required fields in constant order,
# Symbol keys only, false counts as present, and the exact receipt kind.
RSpec.describe Igniter::Store::ContractableReceiptSink do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:sink) { described_class.new(store: store) }

  it "exposes frozen required-field lists" do
    expect(described_class::REQUIRED_OBSERVATION_FIELDS).to eq(%i[observation_id receipt_kind]).and be_frozen
    expect(described_class::REQUIRED_EVENT_FIELDS).to eq(%i[event_id receipt_kind observation_id]).and be_frozen
  end

  it "names every missing field, in the constant's order" do
    expect { sink.record_observation({}) }
      .to raise_error(ArgumentError, "contractable receipt missing required fields: observation_id, receipt_kind")
    expect { sink.record_event({}) }
      .to raise_error(ArgumentError, "contractable receipt missing required fields: event_id, receipt_kind, observation_id")
  end

  it "rejects String-keyed receipts as missing their fields" do
    receipt = { "receipt_kind" => :contractable_observation, "observation_id" => "o1" }
    expect { sink.record_observation(receipt) }.to raise_error(ArgumentError, /missing required fields: observation_id/)
  end

  it "counts false as present" do
    expect(sink.record_observation(receipt_kind: :contractable_observation, observation_id: false).key).to eq("false")
  end

  it "rejects an event without its observation id" do
    expect { sink.record_event(receipt_kind: :contractable_event, event_id: "e1") }
      .to raise_error(ArgumentError, "contractable receipt missing required fields: observation_id")
  end

  it "rejects an observation receipt sent as an event" do
    expect do
      sink.record_event(receipt_kind: :contractable_observation, event_id: "e", observation_id: "o")
    end.to raise_error(ArgumentError, "expected receipt_kind :contractable_event, got :contractable_observation")
  end

  it "writes nothing when validation fails" do
    expect { sink.record_event(event_id: "e", observation_id: "o") }.to raise_error(ArgumentError)
    expect { sink.record_event("e") }.to raise_error(ArgumentError, /must be a Hash, got String/)
    expect(store.fact_count).to eq(0)
  end

  it "records the observation with the sink producer and schema version 1, keyed by the id as a String" do
    fact = sink.record_observation(receipt_kind: :contractable_observation, observation_id: :obs_sym, schema_version: 7)
    expect([fact.store, fact.key, fact.schema_version]).to eq([:contractable_observations, "obs_sym", 1])
    expect(fact.producer).to eq(type: :embed, name: :contractable_receipt_sink)
    expect(fact.value[:schema_version]).to eq(7)
  end

  it "keys events by a fresh id, not the event id" do
    fact = sink.record_event(receipt_kind: :contractable_event, event_id: "evt_1", observation_id: "o1")
    expect(fact.key).not_to eq("evt_1")
    expect(fact.store).to eq(:contractable_events)
  end

  it "propagates descriptor registration errors" do
    target = Object.new
    def target.register_descriptor(*) = raise(ArgumentError, "bad descriptor")
    expect { described_class.new(store: target) }.to raise_error(ArgumentError, "bad descriptor")
  end
end
