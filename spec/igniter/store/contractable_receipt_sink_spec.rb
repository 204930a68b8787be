# frozen_string_literal: true

require "spec_helper"

RSpec.describe Igniter::Store::ContractableReceiptSink do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:sink) { described_class.new(store: store) }

  def observation(id = "obs_abc123", **extra)
    { receipt_kind: :contractable_observation, observation_id: id, status: :ok }.merge(extra)
  end

  def event(id, obs = "obs_abc123", **extra)
    { receipt_kind: :contractable_event, event_id: id, observation_id: obs, event: :divergence,
      severity: :warning }.merge(extra)
  end

  # A client-like target: answers write/append/read/replay (no history).
  class ContractableSinkReplayClient
    attr_reader :requests

    def initialize(store)
      @store = store
      @requests = []
    end

    def register_descriptor(**packet) = (@requests << [:register_descriptor, packet])
    def write(**kw) = @store.write(**kw)
    def append(**kw) = (@requests << [:append, kw]) && @store.append(**kw)
    def read(**kw) = { found: true, value: @store.read(**kw) }

    def replay(store:)
      { facts: @store.history(store: store).map { |f| { key: f.key, value: f.value, transaction_time: f.transaction_time } } }
    end
  end

  describe "construction" do
    it "registers the observation store and event history descriptors" do
      sink
      snapshot = store.protocol.metadata_snapshot
      expect(snapshot[:stores][:contractable_observations]).to include(key: :observation_id)
      expect(snapshot[:histories][:contractable_events]).to include(key: :event_id, partition_key: :observation_id)
    end

    it "honors custom store names and tolerates a second sink on the same store" do
      described_class.new(store: store, observations_store: "obs", events_store: "evs")
      second = described_class.new(store: store, observations_store: "obs", events_store: "evs")
      expect([second.observations_store, second.events_store]).to eq(%i[obs evs])
      expect(store.protocol.metadata_snapshot[:histories]).to have_key(:evs)
    end

    it "raises without store: or client:" do
      expect { described_class.new }.to raise_error(ArgumentError, /store: or client:/)
    end

    it "sends both descriptor packets, in order, to a client" do
      client = ContractableSinkReplayClient.new(store)
      described_class.new(client: client)
      expect(client.requests.map { |op, p| [op, p[:kind], p[:name]] })
        .to eq([[:register_descriptor, :store, :contractable_observations],
                [:register_descriptor, :history, :contractable_events]])
    end
  end

  describe "#record_observation" do
    it "stores the whole receipt under the observation id and reads it back" do
      fact = sink.record_observation(observation(extra: { nested: [1, :x] }))
      expect(fact).to respond_to(:id)
      expect(fact.key).to eq("obs_abc123")
      expect(sink.observation(:obs_abc123)).to include(receipt_kind: :contractable_observation, status: :ok,
                                                        extra: { nested: [1, :x] })
    end

    it "keeps every retry as a version and returns the latest" do
      sink.record_observation(observation)
      sink.record_observation(observation(status: :diverged))
      expect(sink.observation("obs_abc123")[:status]).to eq(:diverged)
      expect(store.history(store: :contractable_observations, key: "obs_abc123").size).to eq(2)
    end

    it "returns a receipt that itself has a :value field intact" do
      sink.record_observation(observation(value: 42))
      expect(sink.observation("obs_abc123")).to include(value: 42, observation_id: "obs_abc123")
    end

    it "rejects missing fields, wrong kinds and non-Hash receipts before writing" do
      expect { sink.record_observation(receipt_kind: :contractable_observation) }
        .to raise_error(ArgumentError, "contractable receipt missing required fields: observation_id")
      expect { sink.record_observation(observation.merge(receipt_kind: "contractable_observation")) }
        .to raise_error(ArgumentError, 'expected receipt_kind :contractable_observation, got "contractable_observation"')
      expect { sink.record_observation("obs") }.to raise_error(ArgumentError, /must be a Hash/)
      expect(store.history(store: :contractable_observations)).to eq([])
    end

    it "propagates store write errors" do
      failing = Object.new
      def failing.register_descriptor(*) = nil
      def failing.write(**) = raise("store on fire")
      expect { described_class.new(store: failing).record_observation(observation) }
        .to raise_error(RuntimeError, "store on fire")
    end
  end

  describe "#record_event" do
    it "appends (never writes) events partitioned by observation id" do
      fact = sink.record_event(event("evt_def456"))
      expect(fact).to respond_to(:id)
      expect(sink.events_for("obs_abc123").map { |e| e[:event] }).to eq([:divergence])
    end

    it "does not duplicate a retried event id" do
      first = sink.record_event(event("evt_1"))
      again = sink.record_event(event("evt_1"))
      expect(again.id).to eq(first.id)
      expect(store.history(store: :contractable_events).size).to eq(1)
    end

    it "sends an append packet through a client" do
      client = ContractableSinkReplayClient.new(store)
      described_class.new(client: client).record_event(event("evt_def456"))
      op, packet = client.requests.last
      expect(op).to eq(:append)
      expect(packet).to include(history: :contractable_events, partition_key: :observation_id,
                                producer: { type: :embed, name: :contractable_receipt_sink })
      expect(packet[:event]).to include(event_id: "evt_def456")
    end

    it "rejects missing event ids and wrong kinds" do
      expect { sink.record_event(event(nil)) }.to raise_error(ArgumentError, /event_id/)
      expect { sink.record_event(event("e", receipt_kind: :contractable_observation)) }
        .to raise_error(ArgumentError, /expected receipt_kind :contractable_event/)
    end
  end

  describe "queries" do
    before do
      sink.record_event(event("e1", "obs_a", event: :divergence))
      sink.record_event(event("e2", "obs_b", event: :other, severity: :error))
      sink.record_event(event("e3", "obs_a", event: :acceptance_failure, severity: :error))
      sink.record_event(event("e4", "obs_a", event: :candidate_error, severity: :error))
    end

    it "returns only an observation's events, in commit order, also through a replaying client" do
      expect(sink.events_for("obs_a").map { |e| e[:event] }).to eq(%i[divergence acceptance_failure candidate_error])
      client_sink = described_class.new(client: ContractableSinkReplayClient.new(store))
      expect(client_sink.events_for(:obs_a).map { |e| e[:event_id] }).to eq(%w[e1 e3 e4])
      expect(sink.events_for("unknown")).to eq([])
    end

    it "lists error events with a limit" do
      expect(sink.error_events.map { |e| e[:event_id] }).to eq(%w[e2 e3 e4])
      expect(sink.error_events(limit: 2).map { |e| e[:event_id] }).to eq(%w[e2 e3])
    end

    it "lists the latest observation per id, ordered by latest write, with status filter and limit" do
      %w[o1 o2 o3 o4 o5].each { |id| sink.record_observation(observation(id)) }
      sink.record_observation(observation("o1", status: :diverged))
      expect(sink.observations.map { |o| o[:observation_id] }).to eq(%w[o2 o3 o4 o5 o1])
      expect(sink.observations(status: :diverged).map { |o| o[:observation_id] }).to eq(%w[o1])
      expect(sink.observations(limit: 3).size).to eq(3)
      expect(sink.observations(limit: 0)).to eq([])
      client_sink = described_class.new(client: ContractableSinkReplayClient.new(store))
      expect(client_sink.observations.size).to eq(5)
      expect(client_sink.observation("o1")[:status]).to eq(:diverged)
    end

    it "answers [] for error events when there are none" do
      expect(described_class.new(store: Igniter::Store::IgniterStore.new).error_events).to eq([])
    end
  end

  it "keeps Symbol statuses and severities across a file-backed reopen" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "sink.wal")
      file_store = Igniter::Store.open(path)
      file_sink = described_class.new(store: file_store)
      file_sink.record_observation(observation("o1", status: :diverged))
      file_sink.record_event(event("e1", "o1", severity: :error))
      file_store.close

      reopened = described_class.new(store: Igniter::Store.open(path))
      expect(reopened.observations(status: :diverged).map { |o| o[:observation_id] }).to eq(%w[o1])
      expect(reopened.error_events.map { |e| e[:event_id] }).to eq(%w[e1])
      expect(reopened.record_event(event("e1", "o1", severity: :error)).value[:event_id]).to eq("e1")
      expect(reopened.store.history(store: :contractable_events).size).to eq(1)
      reopened.store.close
    end
  end
end
