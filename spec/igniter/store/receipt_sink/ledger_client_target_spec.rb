# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_client_stand_in"

# ContractableReceiptSink built with client: — everything goes through the
# client's transport, and queries are rebuilt from replay.
RSpec.describe Igniter::Store::ContractableReceiptSink do
  let(:engine) { Igniter::Store::IgniterStore.new }
  let(:client) { ReceiptSinkClient.over(engine) }
  let(:sink) { described_class.new(client: client) }

  def observation(id, status: :ok)
    { receipt_kind: :contractable_observation, observation_id: id, status: status }
  end

  def event(id, obs, name, severity: :warning)
    { receipt_kind: :contractable_event, event_id: id, observation_id: obs, event: name, severity: severity }
  end

  it "registers both descriptors on the engine behind the client" do
    sink
    snapshot = engine.protocol.metadata_snapshot
    expect(snapshot[:stores]).to have_key(:contractable_observations)
    expect(snapshot[:histories]).to have_key(:contractable_events)
  end

  it "prefers the client when both store: and client: are given" do
    other = Igniter::Store::IgniterStore.new
    both = described_class.new(store: other, client: client)
    both.record_observation(observation("obs_1"))
    expect(engine.read(store: :contractable_observations, key: "obs_1")).to include(status: :ok)
    expect(other.history(store: :contractable_observations)).to eq([])
  end

  it "returns the client's accepted write result and reads the receipt back" do
    result = sink.record_observation(observation("obs_abc123"))
    expect(result.accepted?).to be(true)
    expect(sink.observation("obs_abc123")).to include(receipt_kind: :contractable_observation,
                                                      observation_id: "obs_abc123", status: :ok)
    expect(sink.observation("nope")).to be_nil
  end

  it "sends events as appends only, with history, partition key and producer" do
    transport = ReceiptSinkClient::RecordingTransport.new(engine.protocol, answers: %i[register_descriptor append])
    described_class.new(client: ReceiptSinkClient::LedgerClient.new(transport))
                   .record_event(event("evt_def456", "obs_abc123", :divergence))
    expect(transport.ops).to eq(%i[register_descriptor register_descriptor append])
    _op, packet = transport.requests.last
    expect(packet).to include(history: :contractable_events, partition_key: :observation_id,
                              producer: { type: :embed, name: :contractable_receipt_sink })
    expect(packet[:event]).to include(event_id: "evt_def456")
  end

  it "rebuilds an observation's events from replay, in commit order" do
    sink.record_event(event("e1", "obs_a", :divergence))
    sink.record_event(event("e2", "obs_b", :other))
    sink.record_event(event("e3", "obs_a", :acceptance_failure))
    expect(sink.events_for("obs_a").map { |e| e[:event] }).to eq(%i[divergence acceptance_failure])
    expect(sink.events_for("obs_none")).to eq([])
    expect(client.transport.ops).to include(:replay)
  end

  it "keeps one entry per observation (latest status) when rebuilt from replay" do
    sink.record_observation(observation("o1"))
    sink.record_observation(observation("o2"))
    sink.record_observation(observation("o1", status: :diverged))
    expect(sink.observations.map { |o| [o[:observation_id], o[:status]] }).to eq([["o2", :ok], ["o1", :diverged]])
    expect(sink.observations(status: :diverged).size).to eq(1)
  end

  it "lists error events from replay" do
    sink.record_event(event("e1", "obs_a", :divergence))
    sink.record_event(event("e2", "obs_a", :candidate_error, severity: :error))
    expect(sink.error_events.map { |e| e[:event_id] }).to eq(%w[e2])
  end

  it "unwraps a read result given as a Hash envelope" do
    envelope_client = Object.new
    def envelope_client.register_descriptor(**) = nil
    def envelope_client.read(**) = { found: true, value: { observation_id: "o1", status: :ok } }
    expect(described_class.new(client: envelope_client).observation("o1")).to eq(observation_id: "o1", status: :ok)
  end
end
