# frozen_string_literal: true

require "spec_helper"

# The receipts an igniter-embed contractable runner emits (its integration
# spec needs igniter-embed and cannot load here): the sink stores them
# faithfully, Symbol values included, so the runner-level expectations hold.
RSpec.describe Igniter::Store::ContractableReceiptSink do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:sink) { described_class.new(store: store) }
  let(:obs_id) { "obs_#{SecureRandom.hex(12)}" }

  def emit(obs_id, outcome)
    sink.record_observation(receipt_kind: :contractable_observation, observation_id: obs_id, name: :quote,
                            role: :candidate, stage: :shadow, status: :ok, match: outcome == :match,
                            accepted: outcome != :error, sampled: true, async: false, duration_ms: 1.5)
    events = case outcome
             when :diverge then [%i[divergence warning], %i[acceptance_failure warning]]
             when :error then [%i[candidate_error error]]
             else []
             end
    (events + [%i[observation info]]).each_with_index do |(name, severity), i|
      sink.record_event(receipt_kind: :contractable_event, event_id: "#{obs_id}-#{i}", observation_id: obs_id,
                        event: name, severity: severity, summary: name.to_s)
    end
  end

  it "stores exactly one observation per run with the runner's fields" do
    emit(obs_id, :match)
    values = store.history(store: :contractable_observations).map(&:value)
    expect(values.size).to eq(1)
    expect(values.first).to include(receipt_kind: :contractable_observation, name: :quote, status: :ok, match: true,
                                    accepted: true, sampled: true, async: false, duration_ms: 1.5)
    expect(values.first[:observation_id]).to match(/\Aobs_[0-9a-f]{24}\z/)
  end

  it "records divergence and acceptance failure events without any :error severity" do
    emit(obs_id, :diverge)
    values = store.history(store: :contractable_events).map(&:value)
    expect(values.map { |v| v[:event] }).to eq(%i[divergence acceptance_failure observation])
    expect(values.map { |v| v[:severity] }).not_to include(:error)
    expect(sink.error_events).to eq([])
  end

  it "records a raising candidate as a :candidate_error event with :error severity" do
    emit(obs_id, :error)
    expect(sink.error_events.map { |e| e[:event] }).to eq([:candidate_error])
    expect(sink.events_for(obs_id).map { |e| e[:event] }).to include(:candidate_error, :observation)
  end

  it "ties every event of an observation to its id" do
    emit(obs_id, :diverge)
    emit("obs_#{SecureRandom.hex(12)}", :error)
    expect(sink.events_for(obs_id).map { |e| e[:observation_id] }).to all(eq(obs_id))
    expect(sink.events_for(obs_id).size).to eq(3)
  end
end
