# frozen_string_literal: true

require_relative "../../store"

# The storage backend contract (doc/contracts.md) as RSpec shared examples,
# for this repository's backends and for backends written elsewhere:
#
#   require "igniter/store/contracts/backend_lint"
#
#   RSpec.describe MyBackend do
#     it_behaves_like "an igniter-ledger backend", capabilities: %i[snapshots] do
#       let(:backend) { MyBackend.new(dir) }          # open, over empty storage
#       let(:reopen) { -> { MyBackend.new(dir) } }    # a new handle on the same storage
#     end
#   end
#
# +capabilities:+ is what the backend must declare; the examples of each
# declared capability run, the others do not. +symbols: false+ is for a
# backend whose storage is plain JSON (the op protocol): Symbols inside
# values and producers come back as Strings, everything else as written.
# Handles made by +reopen+ and +backend+ itself are closed after each example.
RSpec.shared_examples "an igniter-ledger backend" do |capabilities:, symbols: true|
  caps = Igniter::Store::Capabilities

  let(:lint_handles) { [] }
  let(:lint_facts) do
    [
      Igniter::Store::Fact.build(store: :lint_items, key: "a", value: { n: 1, tags: [:x, "y"], nested: { ok: true } }),
      Igniter::Store::Fact.build(store: :lint_items, key: "b", value: { n: 2 }, valid_time: 1_700_000_000.5),
      Igniter::Store::Fact.build(store: :lint_other, key: "a", value: { n: 3, text: "żółw" }, producer: { system: :lint })
    ]
  end

  # Every field a replay must give back as written.
  define_method(:lint_fields) do |fact|
    fields = %i[id store key value value_hash causation transaction_time valid_time schema_version producer].to_h do |name|
      [name, fact.public_send(name)]
    end
    symbols ? fields : fields.merge(value: lint_plain(fields[:value]), producer: lint_plain(fields[:producer]))
  end

  define_method(:lint_value) { |value| symbols ? value : lint_plain(value) }

  # +value+ as plain JSON gives it back: Symbol keys kept, Symbol values as Strings.
  def lint_plain(value)
    value.nil? ? nil : JSON.parse(JSON.generate(value), symbolize_names: true)
  end

  def lint_reopened
    reopen.call.tap { |handle| lint_handles << handle }
  end

  after do
    lint_handles.each(&:close)
    backend.close
  end

  it "declares its capabilities: a frozen Set of known names, #{capabilities.inspect}" do
    declared = backend.capabilities
    expect(declared).to be_a(Set).and be_frozen
    expect(declared.to_a - caps::ALL.to_a).to eq([])
    expect(declared).to eq(Set.new(capabilities))
  end

  it "answers write_fact, replay, close and every operation it declares" do
    names = %i[write_fact replay close capabilities] + backend.capabilities.map { |c| caps::OPERATIONS.fetch(c) }
    expect(names.reject { |name| backend.respond_to?(name) }).to eq([])
  end

  it "is accepted by IgniterStore as a backend" do
    expect(Igniter::Store::IgniterStore.new(backend: backend).backend).to be(backend)
  end

  it "replays nothing before the first write" do
    expect(backend.replay.to_a).to eq([])
  end

  it "replays written facts in write order, each field as written" do
    lint_facts.each { |fact| backend.write_fact(fact) }
    expect(backend.replay.to_a.map { |f| lint_fields(f) }).to eq(lint_facts.map { |f| lint_fields(f) })
  end

  it "keeps written facts across close and reopen" do
    lint_facts.each { |fact| backend.write_fact(fact) }
    backend.close
    expect(lint_reopened.replay.to_a.map { |f| lint_fields(f) }).to eq(lint_facts.map { |f| lint_fields(f) })
  end

  it "closes idempotently, answering nil" do
    expect([backend.close, backend.close]).to eq([nil, nil])
  end

  it "after close, refuses a write naming the closed state, or persists it (never drops it)" do
    backend.write_fact(lint_facts[0])
    backend.close
    refused = begin
      backend.write_fact(lint_facts[1])
      nil
    rescue StandardError => e
      e
    end
    backend.close
    expect(refused.message).to match(/closed/i) if refused
    expected = refused ? [lint_facts[0].id] : [lint_facts[0].id, lint_facts[1].id]
    expect(lint_reopened.replay.to_a.map(&:id)).to eq(expected)
  end

  it "carries an engine's writes to an engine opened on the same storage" do
    store = Igniter::Store::IgniterStore.new(backend: backend)
    first = store.write(store: :lint_tasks, key: "t1", value: { status: :open })
    store.write(store: :lint_tasks, key: "t1", value: { status: :done })
    store.close
    handle = lint_reopened
    again = Igniter::Store::IgniterStore.new(backend: handle)
    # A backend serving its own fact log is read in place; any other is replayed into memory.
    again.restore(handle.replay) unless handle.capabilities.include?(caps::FACT_LOG)
    expect(again.read(store: :lint_tasks, key: "t1")).to eq(lint_value({ status: :done }))
    expect(again.history(store: :lint_tasks, key: "t1").map(&:causation)).to eq([nil, first.id])
  end

  if capabilities.include?(caps::SNAPSHOTS)
    it "replays a snapshot plus the facts written after it, in order (snapshots)" do
      a, b, c = lint_facts
      [a, b].each { |fact| backend.write_fact(fact) }
      backend.write_snapshot([a, b])
      backend.write_fact(c)
      backend.close
      expect(lint_reopened.replay.to_a.map(&:id)).to eq([a.id, b.id, c.id])
    end

    it "still replays a written fact a snapshot left out (snapshots are checkpoints, not deletes)" do
      a, b = lint_facts
      [a, b].each { |fact| backend.write_fact(fact) }
      backend.write_snapshot([a])
      backend.close
      expect(lint_reopened.replay.to_a.map(&:id)).to eq([a.id, b.id])
    end
  end

  if capabilities.include?(caps::REWRITE)
    it "replays exactly the rewritten facts plus later writes (rewrite)" do
      a, b, c = lint_facts
      [a, b].each { |fact| backend.write_fact(fact) }
      backend.replace_with_snapshot!([a])
      backend.write_fact(c)
      backend.close
      expect(lint_reopened.replay.to_a.map(&:id)).to eq([a.id, c.id])
    end
  end

  if capabilities.include?(caps::RECOVERY)
    it "reports a clean recovery for storage it created (recovery)" do
      backend.write_fact(lint_facts[0])
      backend.close
      report = Igniter::Store::Server::RecoveryReport.of(lint_reopened)
      expect(report["clean"]).to be(true)
      expect(report["damaged_files"]).to eq(0)
    end
  end

  if capabilities.include?(caps::STORAGE_STATS)
    it "reports storage statistics as a Hash, per store when asked (storage_stats)" do
      lint_facts.each { |fact| backend.write_fact(fact) }
      expect(backend.storage_stats).to be_a(Hash)
      expect(backend.storage_stats(store: :lint_items)).to be_a(Hash)
    end
  end

  if capabilities.include?(caps::SEGMENT_MANIFEST)
    it "lists segments for a written store (segment_manifest)" do
      lint_facts.each { |fact| backend.write_fact(fact) }
      expect(backend.segment_manifest(store: :lint_items)).not_to be_empty
    end
  end

  if capabilities.include?(caps::PURGE_RECEIPTS)
    it "has no purge receipts before any retention ran (purge_receipts)" do
      lint_facts.each { |fact| backend.write_fact(fact) }
      expect(backend.purge_receipts).to eq([])
    end
  end

  if capabilities.include?(caps::WRITE_BATCH)
    it "persists a batch in order with one write_facts, after earlier single writes (write_batch)" do
      backend.write_fact(lint_facts[0])
      expect(backend.write_facts(lint_facts[1..])).to be_nil
      expect(backend.write_facts([])).to be_nil
      backend.close
      expect(lint_reopened.replay.to_a.map { |f| lint_fields(f) }).to eq(lint_facts.map { |f| lint_fields(f) })
    end
  end

  if capabilities.include?(caps::FACT_LOG)
    it "serves its own fact log, which sees what write_fact persisted (fact_log)" do
      backend.write_fact(lint_facts[0])
      expect(backend.fact_log.fact_by_id(lint_facts[0].id)&.id).to eq(lint_facts[0].id)
    end
  end
end
