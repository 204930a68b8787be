# frozen_string_literal: true

# Sibling igniter packages (the durable-model playground's inspector) read two
# of IgniterStore's instance variables directly, in 0.5.2's shape:
# @scope_index `{ [store, scope] => Set<key> }` and @partition_index
# `{ [store, partition_key] => { value => [Fact] } }`.
RSpec.describe Igniter::Store::IgniterStore, "ivars read by inspectors" do
  subject(:store) { described_class.new }

  it "keeps @scope_index as a Hash of [store, scope] => Set of keys, maintained by writes" do
    store.register_path(Igniter::Store::AccessPath.new(store: :tasks, scope: :open, filters: { status: :open }))
    store.write(store: :tasks, key: "a", value: { status: :open })
    store.write(store: :tasks, key: "b", value: { status: :closed })
    store.query(store: :tasks, scope: :open)
    store.write(store: :tasks, key: "c", value: { status: :open })
    store.write(store: :tasks, key: "a", value: { status: :closed })

    index = store.instance_variable_get(:@scope_index)
    expect(index).to be_a(Hash)
    expect(index.transform_values(&:to_a)).to eq([:tasks, :open] => %w[c])
    expect(index.fetch([:tasks, :open])).to be_a(Set)
  end

  it "keeps @partition_index as a Hash of [store, partition_key] => { value => [facts] }" do
    sleep1 = store.append(history: :activity, event: { kind: :sleep, h: 8 })
    run = store.append(history: :activity, event: { kind: :run, h: 1 })
    store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)
    sleep2 = store.append(history: :activity, event: { kind: :sleep, h: 7 }, partition_key: :kind)

    index = store.instance_variable_get(:@partition_index)
    expect(index).to be_a(Hash)
    expect(index).to eq([:activity, :kind] => { sleep: [sleep1, sleep2], run: [run] })
  end

  it "empties both when compaction rebuilds the log, keeping the same Hash objects" do
    store.set_retention(:tasks, strategy: :ephemeral)
    store.register_path(Igniter::Store::AccessPath.new(store: :tasks, scope: :all, filters: {}))
    store.write(store: :tasks, key: "a", value: { n: 1 })
    store.write(store: :tasks, key: "a", value: { n: 2 })
    store.query(store: :tasks, scope: :all)
    scopes = store.instance_variable_get(:@scope_index)
    expect(scopes).not_to be_empty

    expect(store.compact.first).to include(store: :tasks, dropped_count: 1)
    expect(store.instance_variable_get(:@scope_index)).to equal(scopes)
    expect(scopes).to be_empty
  end
end
