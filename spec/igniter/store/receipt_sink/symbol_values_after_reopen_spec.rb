# frozen_string_literal: true

require "spec_helper"

# Receipts keep their Symbol values (statuses, severities, event names)
# through a file-backed reopen, so the sink's Symbol filters still match
# (0.5.2's pure path replayed them as Strings and found nothing).
RSpec.describe Igniter::Store::ContractableReceiptSink do
  around do |example|
    Dir.mktmpdir do |dir|
      @path = File.join(dir, "receipts.wal")
      example.run
    end
  end

  def with_sink
    store = Igniter::Store.open(@path)
    yield described_class.new(store: store)
  ensure
    store&.close
  end

  before do
    with_sink do |sink|
      sink.record_observation(receipt_kind: :contractable_observation, observation_id: "o1", status: :ok,
                              tags: [:fast, "plain"], detail: { stage: :shadow, note: ":not_a_symbol" })
      sink.record_observation(receipt_kind: :contractable_observation, observation_id: "o1", status: :diverged)
      sink.record_observation(receipt_kind: :contractable_observation, observation_id: "o2", status: :ok)
      sink.record_event(receipt_kind: :contractable_event, event_id: "e1", observation_id: "o1", event: :divergence,
                        severity: :warning)
      sink.record_event(receipt_kind: :contractable_event, event_id: "e2", observation_id: "o1",
                        event: :candidate_error, severity: :error)
    end
  end

  it "filters observations by a Symbol status after reopening" do
    with_sink do |sink|
      expect(sink.observations(status: :diverged).map { |o| o[:observation_id] }).to eq(%w[o1])
      expect(sink.observations(status: :ok).map { |o| o[:observation_id] }).to eq(%w[o2])
      expect(sink.observations(status: "diverged")).to eq([])
    end
  end

  it "finds :error events after reopening" do
    with_sink do |sink|
      expect(sink.error_events.map { |e| [e[:event_id], e[:event]] }).to eq([["e2", :candidate_error]])
    end
  end

  it "returns Symbol receipt kinds and event names from events_for after reopening" do
    with_sink do |sink|
      events = sink.events_for("o1")
      expect(events.map { |e| e[:event] }).to eq(%i[divergence candidate_error])
      expect(events.map { |e| e[:receipt_kind] }).to all(eq(:contractable_event))
    end
  end

  it "keeps nested Symbols and leaves colon-prefixed Strings as Strings" do
    with_sink do |sink|
      first = sink.store.history(store: :contractable_observations, key: "o1").first.value
      expect(first[:tags]).to eq([:fast, "plain"])
      expect(first[:detail]).to eq(stage: :shadow, note: ":not_a_symbol")
      expect(sink.observation("o1")[:status]).to eq(:diverged)
    end
  end
end
