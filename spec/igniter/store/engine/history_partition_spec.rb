# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#history_partition" do
  subject(:store) { ledger_store }

  def sleep_events
    [store.append(history: :activity, event: { kind: :sleep, h: 8 }),
     store.append(history: :activity, event: { kind: :run, h: 1 }),
     store.append(history: :activity, event: { kind: :sleep, h: 7 })]
  end

  it "returns the facts whose field equals the value, in append order" do
    s1, _, s2 = sleep_events
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)).to eq([s1, s2])
  end

  it "returns [] for an unknown value and compares values exactly" do
    sleep_events
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :swim)).to eq([])
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: "sleep")).to eq([])
  end

  it "gives the same ids from the lazily built index as a history scan" do
    sleep_events
    first = store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).map(&:id)
    second = store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).map(&:id)
    scan = store.history(store: :activity).select { |f| f.value[:kind] == :sleep }.map(&:id)
    expect([first, second]).to eq([scan, scan])
  end

  it "is maintained by appends that name the partition key" do
    sleep_events
    store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)
    fact = store.append(history: :activity, event: { kind: :sleep, h: 6 }, partition_key: :kind)
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).last).to eq(fact)
  end

  it "is NOT maintained by appends without partition_key once built (0.5.2 rule)",
     not_on_postgres: "no per-process index: the database answers with every matching fact of any process" do
    store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)
    store.append(history: :activity, event: { kind: :sleep })
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)).to eq([])
  end

  it "sees appends without partition_key made before the first call" do
    store.append(history: :activity, event: { kind: :sleep })
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).size).to eq(1)
  end

  it "filters by since and as_of, inclusive" do
    store.append(history: :activity, event: { kind: :sleep, n: 1 })
    t1 = clock_boundary
    f2 = store.append(history: :activity, event: { kind: :sleep, n: 2 }, partition_key: :kind)
    t2 = clock_boundary
    store.append(history: :activity, event: { kind: :sleep, n: 3 })
    args = { store: :activity, partition_key: :kind, partition_value: :sleep }
    expect(store.history_partition(**args, since: t1).map { |f| f.value[:n] }).to eq([2, 3])
    expect(store.history_partition(**args, as_of: t2).map { |f| f.value[:n] }).to eq([1, 2])
    expect(store.history_partition(**args, since: f2.transaction_time, as_of: f2.transaction_time)).to eq([f2])
  end

  it "skips facts with a falsy or missing field and non-Hash values" do
    store.append(history: :activity, event: { kind: nil })
    store.append(history: :activity, event: [1])
    store.append(history: :activity, event: { kind: false })
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: nil)).to eq([])
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: false)).to eq([])
  end

  it "accepts a String partition_key and a String store name" do
    s1, _, s2 = sleep_events
    expect(store.history_partition(store: "activity", partition_key: "kind", partition_value: :sleep)).to eq([s1, s2])
  end

  it "returns a copy: mutating the result does not change the index" do
    sleep_events
    store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).clear
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep).size).to eq(2)
  end

  it "is rebuilt after a log rebuild (prune)" do
    s1, _, s2 = sleep_events
    store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)
    store.prune_fact_ids(fact_ids: [s1.id], reason: :test)
    expect(store.history_partition(store: :activity, partition_key: :kind, partition_value: :sleep)).to eq([s2])
  end
end
