# frozen_string_literal: true

# The native log, facts and time-travel cache are write-barrier protected
# Ruby objects (doc/performance.md "GC marking of the native store"): once
# old, a minor GC marks only what a write barrier told it about. A missing
# barrier shows as a young fact, value or cached read freed while an old
# store still names it. These examples store young objects into an old
# store under GC.stress (a collection at every allocation), minor and full,
# and under compaction, then check every fact is the same object with the
# same value, on both paths.
RSpec.describe "Facts survive generational GC and compaction" do
  def value(i)
    { n: i, title: +"task #{i}", tags: [+"t#{i % 3}", "x"], nested: { y: +"y#{i}" } }
  end

  def expected(i)
    { n: i, title: "task #{i}", tags: ["t#{i % 3}", "x"], nested: { y: "y#{i}" } }
  end

  # Promotes everything reachable to the old generation.
  def age
    4.times { GC.start }
  end

  # Runs the block with a collection at every allocation (+mode+: true for
  # full collections, 0x01 for minor ones only), then turns that off.
  def stressed(mode)
    GC.stress = mode
    yield
  ensure
    GC.stress = false
  end

  # Runs minor collections and fills the freed slots with other objects, so
  # an object a store named without telling the GC is gone or overwritten.
  def churn
    3.times do
      GC.start(full_mark: false)
      Array.new(20_000) { |i| +"churn #{i}" }
    end
  end

  # What the store shows of each key now: [object_id, id, value] per fact,
  # plain data only, so the spec itself keeps no fact or member alive.
  def seen(store, keys)
    keys.to_h do |key|
      [key, store.history(store: :tasks, key: key).map { |f| [f.__id__, f.id.dup, f.value[:n], f.value == expected(f.value[:n])] }]
    end
  end

  [[true, "full"], [0x01, "minor"]].each do |mode, label|
    it "keeps young facts written into an old log (#{label} collections at every allocation)" do
      store = Igniter::Store.memory
      # More than two chunks of the native log's slots (1,024 each), so a
      # write lands in an old chunk and a later one in a new chunk.
      2_100.times { |i| store.write(store: :tasks, key: "k#{i % 50}", value: value(i)) }
      age
      stressed(mode) { 12.times { |j| store.write(store: :tasks, key: "k#{j}", value: value(10_000 + j)) && nil } }
      age
      500.times { |j| store.write(store: :tasks, key: "k#{j % 50}", value: value(20_000 + j)) && nil }
      before = seen(store, %w[k0 k3 k11 k49])
      churn
      GC.start

      expect(seen(store, %w[k0 k3 k11 k49])).to eq(before)
      expect(before["k3"].map { |_, _, n, ok| [n, ok] }).to include([10_003, true], [20_003, true])
      expect(before.values.flatten(1).map(&:last)).to all(be(true))
      expect(store.read(store: :tasks, key: "k3")).to eq(expected(20_453))
    end
  end

  it "keeps the members a fact builds on first read after the fact is old" do
    store = Igniter::Store.memory
    facts = Array.new(60) { |i| store.write(store: :tasks, key: "k#{i}", value: value(i)) }
    age
    stressed(0x01) { facts.first(10).each { |f| f.value && f.value_hash && f.id && nil } }
    ids = facts.first(10).map { |f| [f.value.__id__, f.value_hash.__id__, f.id.__id__] }
    churn

    facts.first(10).each_with_index do |fact, i|
      expect([fact.value.__id__, fact.value_hash.__id__, fact.id.__id__]).to eq(ids[i])
      expect(fact.value).to eq(expected(i))
      expect(fact.value_hash).to match(/\A\h{64}\z/)
    end
  end

  it "keeps facts a replayed log builds on first read after the log is old" do
    with_tmpdir do |dir|
      path = File.join(dir, "gc.wal")
      writer = Igniter::Store::IgniterStore.open(path)
      2_100.times { |i| writer.write(store: :tasks, key: "k#{i % 50}", value: value(i)) }
      writer.close

      store = Igniter::Store::IgniterStore.open(path)
      store.read(store: :tasks, key: "k0")
      age
      keys = Array.new(5) { |j| "k#{j}" }
      first = stressed(0x01) { seen(store, keys) }
      churn
      GC.start

      expect(seen(store, keys)).to eq(first)
      keys.each_with_index do |key, j|
        expect(first[key].map { |_, _, n, ok| [n, ok] }).to eq((0...2_100).select { |i| i % 50 == j }.map { |i| [i, true] })
      end
      store.close
    end
  end

  it "keeps time-travel reads cached in an old store" do
    store = Igniter::Store.memory
    at = Array.new(200) { |i| store.write(store: :tasks, key: "k#{i % 20}", value: value(i)) }[100].transaction_time
    store.read(store: :tasks, key: "k0", as_of: at)
    age
    first = stressed(0x01) { Array.new(20) { |j| store.read(store: :tasks, key: "k#{j}", as_of: at).__id__ } }
    churn

    20.times do |j|
      again = store.read(store: :tasks, key: "k#{j}", as_of: at)
      expect(again).to eq(expected((0..100).select { |i| i % 20 == j }.max))
      expect(again.__id__).to eq(first[j])
    end
  end

  it "keeps every fact and its identity through compaction" do
    skip "GC.verify_compaction_references is not available here" unless GC.respond_to?(:verify_compaction_references)

    store = Igniter::Store.memory
    2_100.times { |i| store.write(store: :tasks, key: "k#{i % 50}", value: value(i)) }
    age
    keys = %w[k0 k7 k30 k49]
    before = seen(store, keys)
    GC.verify_compaction_references(double_heap: true, toward: :empty)
    10.times { |j| store.write(store: :tasks, key: "k#{j}", value: value(30_000 + j)) && nil }
    middle = seen(store, keys)
    GC.verify_compaction_references(double_heap: true, toward: :empty)

    expect(seen(store, keys)).to eq(middle)
    expect(middle.transform_values { |facts| facts.first(42) }).to eq(before)
    expect(middle["k7"].last(1).map { |_, _, n, ok| [n, ok] }).to eq([[30_007, true]])
  end
end
