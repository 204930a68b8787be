# frozen_string_literal: true

# Registration dedup (spec 04 §5.1, weaknesses 2, 3 and 17): a descriptor
# whose exact content this interpreter already applied is answered
# :deduplicated and its handler is not run again.
RSpec.describe "Open protocol descriptor deduplication" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:relation) do
    { kind: :relation, name: :project_tasks, from: { store: :projects, key: :id }, to: { store: :tasks, field: :project_id } }
  end

  it "answers a repeat with the kind, the Symbol name and a warning" do
    expect(proto.register(relation)).to be_accepted
    again = proto.register(relation)
    expect([again.status, again.kind, again.name, again.warnings, again.errors])
      .to eq([:deduplicated, :relation, :project_tasks, ["descriptor already registered"], []])
  end

  it "does not run the handler for a repeat" do
    proto.register(relation)
    proto.register(relation)
    proto.write(store: :tasks, key: "t1", value: { project_id: "p1" })
    expect([proto.metadata_snapshot[:scatters].size, store.fact_count]).to eq([1, 2])
  end

  it "ignores top-level key order and String vs Symbol top-level keys" do
    proto.register(relation)
    expect(proto.register(relation.to_a.reverse.to_h)).to be_deduplicated
    expect(proto.register(relation.transform_keys(&:to_s))).to be_deduplicated
  end

  it "ignores nested key order (canonical encoding, not inspect)" do
    proto.register(relation)
    swapped = relation.merge(from: { key: :id, store: :projects })
    expect(proto.register(swapped)).to be_deduplicated
  end

  it "sees any value difference as new content" do
    base = { kind: :store, name: :t, key: "id", version: 1 }
    proto.register(base)
    [base.merge(kind: "store"), base.merge(name: "t"), base.merge(version: 1.0), base.merge(key: :id)].each do |variant|
      expect(proto.register(variant)).to be_accepted
    end
  end

  it "deduplicates across kinds with one registry, and a register_* alias follows the descriptor's own kind" do
    receipt = proto.register_history({ kind: :store, name: :t, key: "id" })
    expect([receipt.kind, proto.descriptor_snapshot[:stores].keys]).to eq([:store, [:t]])
    expect(proto.register_subscription({ kind: :store, name: :t, key: "id" })).to be_deduplicated
    expect(proto.register_store({ name: :t, key: "id" }).errors).to eq(["Missing required field: kind"])
  end

  it "re-applies a command that another one with the same owner and name replaced" do
    a = { kind: :command, name: :close, owner: :tasks, operation: :record_update }
    b = a.merge(operation: :history_append)
    [a, b].each { |d| proto.register(d) }
    expect(proto.register(a)).to be_accepted
    expect(proto.descriptor_snapshot[:commands][:tasks][:close][:operation]).to eq(:record_update)
  end

  it "keeps commands of different owners in separate slots" do
    a = { kind: :command, name: :close, owner: :tasks, operation: :record_update }
    proto.register(a)
    proto.register(a.merge(owner: :projects))
    expect(proto.register(a)).to be_deduplicated
  end

  it "applies a descriptor registered by several threads at once exactly once" do
    threads = Array.new(8) { Thread.new { proto.register(relation) } }
    statuses = threads.map { |t| t.join(5)&.value&.status }
    expect(statuses.tally).to eq(accepted: 1, deduplicated: 7)
    expect(proto.metadata_snapshot[:scatters].size).to eq(1)
  end

  it "is reachable through the wire with the same answers" do
    env = { protocol: :igniter_store, op: :register_descriptor, packet: relation }
    expect([proto.dispatch(env)[:result].status, proto.dispatch(env)[:result].status]).to eq(%i[accepted deduplicated])
  end
end
