# frozen_string_literal: true

require "spec_helper"
require_relative "ledger_client_stand_in"

# A retried event (same event_id for the same observation) is recorded once
# (0.5.2 appended a duplicate fact per retry).
RSpec.describe Igniter::Store::ContractableReceiptSink do
  def event(id, obs = "obs_1", **extra)
    { receipt_kind: :contractable_event, event_id: id, observation_id: obs, event: :divergence,
      severity: :warning }.merge(extra)
  end

  it "returns the recorded fact for a retry instead of appending" do
    store = Igniter::Store::IgniterStore.new
    sink = described_class.new(store: store)
    first = sink.record_event(event("evt_1"))
    3.times { expect(sink.record_event(event("evt_1")).id).to eq(first.id) }
    expect(store.history(store: :contractable_events).size).to eq(1)
    expect(sink.events_for("obs_1").size).to eq(1)
  end

  it "still records distinct event ids of one observation" do
    store = Igniter::Store::IgniterStore.new
    sink = described_class.new(store: store)
    sink.record_event(event("evt_1"))
    sink.record_event(event("evt_2"))
    expect(sink.events_for("obs_1").map { |e| e[:event_id] }).to eq(%w[evt_1 evt_2])
  end

  it "treats the same event id under another observation as another event" do
    store = Igniter::Store::IgniterStore.new
    sink = described_class.new(store: store)
    sink.record_event(event("evt_1", "obs_1"))
    sink.record_event(event("evt_1", "obs_2"))
    expect(store.history(store: :contractable_events).size).to eq(2)
  end

  it "deduplicates a retry after a file-backed reopen" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "events.wal")
      first_store = Igniter::Store.open(path)
      first = described_class.new(store: first_store).record_event(event("evt_1"))
      first_store.close

      reopened = Igniter::Store.open(path)
      again = described_class.new(store: reopened).record_event(event("evt_1"))
      expect(again.id).to eq(first.id)
      expect(reopened.history(store: :contractable_events).size).to eq(1)
      reopened.close
      expect(Igniter::Store.open(path).tap(&:close).fact_count).to eq(1)
    end
  end

  it "deduplicates on a target that only answers history (no partition index)" do
    store = Igniter::Store::IgniterStore.new
    history_only = Object.new
    history_only.define_singleton_method(:register_descriptor) { |*| nil }
    history_only.define_singleton_method(:append) { |**kw| store.append(**kw) }
    history_only.define_singleton_method(:history) { |**kw| store.history(**kw) }
    sink = described_class.new(client: history_only)
    sink.record_event(event("evt_1"))
    sink.record_event(event("evt_1"))
    expect(store.history(store: :contractable_events).size).to eq(1)
  end

  it "asks a replay-only client nothing before appending" do
    engine = Igniter::Store::IgniterStore.new
    client = ReceiptSinkClient.over(engine)
    sink = described_class.new(client: client)
    sink.record_event(event("evt_1"))
    expect(client.transport.ops).to eq(%i[register_descriptor register_descriptor append])
  end

  it "does not append a retried event twice through a replay-only client" do
    engine = Igniter::Store::IgniterStore.new
    client = ReceiptSinkClient.over(engine)
    sink = described_class.new(client: client)
    first = sink.record_event(event("evt_1"))
    expect(sink.record_event(event("evt_1"))).to eq(first)
    expect(engine.history(store: :contractable_events).size).to eq(1)
    expect(client.transport.ops.count(:append)).to eq(1)
  end
end
