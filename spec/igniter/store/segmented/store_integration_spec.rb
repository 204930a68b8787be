# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe "Igniter::Store.segmented" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  it "writes, closes, reopens and reads with Symbol value keys" do
    store = Igniter::Store.segmented(dir)
    store.write(store: :tasks, key: "t1", value: { title: "A", done: false })
    store.write(store: :notes, key: "n1", value: { body: "x" })
    store.close
    reopened = Igniter::Store.segmented(dir)
    expect(reopened.read(store: :tasks, key: "t1")).to eq(title: "A", done: false)
    expect(reopened.read(store: :notes, key: "n1")).to eq(body: "x")
  end

  it "passes storage_stats and segment_manifest through unchanged" do
    store = Igniter::Store.segmented(dir, codec: { sensor_readings: :compact_delta, agent_signals: :json_crc32 })
    5.times { |i| store.write(store: :sensor_readings, key: "s#{i}", value: { v: i }) }
    3.times { |i| store.write(store: :agent_signals, key: "a#{i}", value: { v: i }) }
    backend = store.instance_variable_get(:@backend)
    backend.checkpoint!
    2.times { |i| store.write(store: :sensor_readings, key: "t#{i}", value: { v: i }) }
    strip = ->(h) { h.reject { |k, _| k == "generated_at" } }
    expect(strip.call(store.storage_stats)).to eq(strip.call(backend.storage_stats))
    expect(strip.call(store.segment_manifest(store: "sensor_readings")))
      .to eq(strip.call(backend.segment_manifest(store: :sensor_readings)))
    expect(store.storage_stats["stores"]["sensor_readings"]["fact_count"]).to eq(7)
  end

  it "compacts only in memory (durable: false) and refuses exact prune" do
    store = Igniter::Store.segmented(dir)
    a = store.write(store: :things, key: "k", value: { v: 1 })
    store.write(store: :things, key: "k", value: { v: 2 })
    backend = store.instance_variable_get(:@backend)
    expect(backend).not_to respond_to(:replace_with_snapshot!)
    store.set_retention(:things, strategy: :ephemeral)
    result = store.compact(:things).first
    expect(result).to include(durable: false, dropped_count: 1)
    expect(store.prune_fact_ids(fact_ids: [a.id], reason: :test)).to include(status: :unsupported, reason: :backend_does_not_support_exact_prune,
                                                    backend: "Igniter::Store::SegmentedFileBackend")
  end

  it "reports segment purges in compaction_activity" do
    store = Igniter::Store.segmented(dir)
    store.write(store: :things, key: "k0", value: { v: 0 })
    backend = store.instance_variable_get(:@backend)
    backend.checkpoint!
    store.write(store: :things, key: "k1", value: { v: 1 })
    backend.checkpoint!
    backend.set_retention(:things, strategy: :ephemeral)
    backend.purge!
    activity = store.compaction_activity(store: :things).select { |e| e[:kind] == :segment_purge }
    expect(activity.size).to eq(1)
    expect(activity.first).to include(executor: :segmented_backend, store: :things, status: :ok, reason: "ephemeral",
                                      fact_count: 1)
  end
end
