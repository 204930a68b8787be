# frozen_string_literal: true

RSpec.describe Igniter::Store::ReadCache do
  subject(:cache) { described_class.new(lru_cap: 3) }

  # Bare doubles raise on any message: the cache must never inspect what it stores.
  def entry(name) = double(name)

  it "defaults to an LRU cap of 1000" do
    expect(described_class::DEFAULT_LRU_CAP).to eq(1_000)
    expect(described_class.new.lru_cap).to eq(1_000)
  end

  describe "time-travel LRU" do
    it "does not evict below the cap" do
      3.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}"), as_of: 1.0) }
      expect(cache.lru_size).to eq(3)
      3.times { |i| expect(cache.get(store: :s, key: "k#{i}", as_of: 1.0)).not_to be_nil }
    end

    it "evicts the least recently used entry above the cap" do
      facts = Array.new(4) { |i| entry("f#{i}") }
      facts.each_with_index { |f, i| cache.put(store: :s, key: "k#{i}", fact: f, as_of: 1.0) }
      expect(cache.lru_size).to eq(3)
      expect(cache.get(store: :s, key: "k0", as_of: 1.0)).to be_nil
      expect(cache.get(store: :s, key: "k3", as_of: 1.0)).to be(facts[3])
    end

    it "promotes an entry on get" do
      3.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}"), as_of: 1.0) }
      cache.get(store: :s, key: "k0", as_of: 1.0)
      cache.put(store: :s, key: "k3", fact: entry("f3"), as_of: 1.0)
      expect(cache.get(store: :s, key: "k0", as_of: 1.0)).not_to be_nil
      expect(cache.get(store: :s, key: "k1", as_of: 1.0)).to be_nil
    end

    it "does not move an entry when it is put again" do
      3.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}"), as_of: 1.0) }
      cache.put(store: :s, key: "k0", fact: entry("f0b"), as_of: 1.0)
      cache.put(store: :s, key: "k3", fact: entry("f3"), as_of: 1.0)
      expect(cache.get(store: :s, key: "k0", as_of: 1.0)).to be_nil
    end

    it "does not count current-state entries against the cap" do
      10.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}")) }
      expect(cache.lru_size).to eq(0)
      10.times { |i| expect(cache.get(store: :s, key: "k#{i}")).not_to be_nil }
    end

    it "caps scope time-travel entries with the same LRU" do
      2.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}"), as_of: 1.0) }
      2.times { |i| cache.put_scope(store: :s, scope: :"sc#{i}", facts: [], as_of: 1.0) }
      expect(cache.lru_size).to eq(3)
      expect(cache.get(store: :s, key: "k0", as_of: 1.0)).to be_nil
    end

    it "drops invalidated entries from LRU tracking" do
      3.times { |i| cache.put(store: :s, key: "k#{i}", fact: entry("f#{i}"), as_of: 1.0) }
      cache.invalidate(store: :s, key: "k1")
      expect(cache.lru_size).to eq(2)
      cache.invalidate(store: :s)
      expect(cache.lru_size).to eq(0)
    end

    it "caps an IgniterStore's cache at lru_cap for future as_of reads" do
      store = Igniter::Store::IgniterStore.new(lru_cap: 3)
      4.times { |i| store.write(store: :s, key: "k#{i}", value: { i: i }) }
      future = realtime + 10
      4.times { |i| store.read(store: :s, key: "k#{i}", as_of: future) }
      expect(store.instance_variable_get(:@cache).lru_size).to eq(3)
    end
  end

  describe "current-state bound" do
    it "evicts the oldest current-state point entry beyond current_cap" do
      small = described_class.new(current_cap: 2)
      3.times { |i| small.put(store: :s, key: "k#{i}", fact: entry("f#{i}")) }
      expect(small.get(store: :s, key: "k0")).to be_nil
      expect(small.get(store: :s, key: "k2")).not_to be_nil
    end
  end

  describe "ttl" do
    it "returns an entry younger than ttl and nil for an older one" do
      fact = entry("f")
      cache.put(store: :s, key: "k", fact: fact)
      expect(cache.get(store: :s, key: "k", ttl: 60)).to be(fact)
      sleep 0.02
      expect(cache.get(store: :s, key: "k", ttl: 0.01)).to be_nil
    end

    it "removes an expired time-travel entry instead of keeping it tracked" do
      cache.put(store: :s, key: "k", fact: entry("f"), as_of: 1.0)
      sleep 0.02
      expect(cache.get(store: :s, key: "k", as_of: 1.0, ttl: 0.01)).to be_nil
      expect(cache.lru_size).to eq(0)
    end

    it "applies to scope entries too" do
      facts = [entry("f")]
      cache.put_scope(store: :s, scope: :open, facts: facts)
      expect(cache.get_scope(store: :s, scope: :open, ttl: 60)).to be(facts)
      sleep 0.02
      expect(cache.get_scope(store: :s, scope: :open, ttl: 0.01)).to be_nil
    end
  end

  describe "#invalidate and consumers" do
    let(:calls) { [] }

    it "drops only the given key's point entries (every as_of) and every scope entry of the store" do
      cache.put(store: :s, key: "a", fact: entry("a"))
      cache.put(store: :s, key: "a", fact: entry("a1"), as_of: 1.0)
      cache.put(store: :s, key: "b", fact: entry("b"))
      cache.put_scope(store: :s, scope: :open, facts: [])
      cache.put(store: :t, key: "a", fact: entry("ta"))
      cache.invalidate(store: :s, key: "a")
      expect(cache.get(store: :s, key: "a")).to be_nil
      expect(cache.get(store: :s, key: "a", as_of: 1.0)).to be_nil
      expect(cache.get(store: :s, key: "b")).not_to be_nil
      expect(cache.get_scope(store: :s, scope: :open)).to be_nil
      expect(cache.get(store: :t, key: "a")).not_to be_nil
    end

    it "calls point consumers with (store, key) whether or not anything was cached" do
      cache.register_consumer(:s, ->(*a) { calls << a })
      cache.invalidate(store: :s, key: "a")
      expect(calls).to eq([[:s, "a"]])
    end

    it "calls scope consumers only for cached scopes whose change is not :unchanged" do
      %i[changed unchanged unknown absent uncached].each do |scope|
        cache.register_scope_consumer(:s, scope, ->(*a) { calls << a })
        cache.put_scope(store: :s, scope: scope, facts: []) unless scope == :uncached
      end
      cache.invalidate(store: :s, key: "a",
                       scope_changes: { changed: :changed, unchanged: :unchanged, unknown: :unknown, uncached: :changed })
      expect(calls).to contain_exactly([:s, :changed], [:s, :unknown], [:s, :absent])
    end

    it "notifies a scope once even when it had entries at several as_of" do
      cache.register_scope_consumer(:s, :open, ->(*a) { calls << a })
      cache.put_scope(store: :s, scope: :open, facts: [])
      cache.put_scope(store: :s, scope: :open, facts: [], as_of: 1.0)
      cache.invalidate(store: :s)
      expect(calls).to eq([[:s, :open]])
    end

    it "swallows StandardError from consumers" do
      cache.register_consumer(:s, ->(*) { raise ArgumentError, "bad" })
      cache.register_consumer(:s, ->(*a) { calls << a })
      expect { cache.invalidate(store: :s, key: "k") }.not_to raise_error
      expect(calls).to eq([[:s, "k"]])
    end

    it "calls consumers outside the lock, so a consumer may use the cache" do
      cache.register_consumer(:s, ->(s, k) { calls << cache.get(store: s, key: k) })
      t = Thread.new { cache.invalidate(store: :s, key: "k") }
      expect(t.join(2)).not_to be_nil
      expect(calls).to eq([nil])
    end

    it "keeps point and scope entries apart even for a store named :scope" do
      cache.put(store: :scope, key: "k", fact: entry("p"))
      cache.put_scope(store: :x, scope: :k, facts: [])
      cache.invalidate(store: :x)
      expect(cache.get(store: :scope, key: "k")).not_to be_nil
    end
  end

  describe "#clear!" do
    it "drops every entry but keeps consumers" do
      calls = []
      cache.register_consumer(:s, ->(*a) { calls << a })
      cache.put(store: :s, key: "k", fact: entry("f"), as_of: 1.0)
      cache.clear!
      expect(cache.lru_size).to eq(0)
      expect(cache.get(store: :s, key: "k", as_of: 1.0)).to be_nil
      cache.invalidate(store: :s, key: "k")
      expect(calls).to eq([[:s, "k"]])
    end
  end

  describe "generation guard" do
    it "skips a put whose generation was overtaken by an invalidation" do
      generation = cache.generation
      cache.invalidate(store: :s, key: "k")
      cache.put(store: :s, key: "k", fact: entry("stale"), generation: generation)
      expect(cache.get(store: :s, key: "k")).to be_nil
      cache.put(store: :s, key: "k", fact: (fresh = entry("fresh")), generation: cache.generation)
      expect(cache.get(store: :s, key: "k")).to be(fresh)
    end

    # An eviction that finds nothing cached takes no lock (the write fast
    # path, doc/performance.md "Engine write path"); it still bumps the
    # generation, so a reader that read before the write caches nothing.
    it "bumps the generation on an eviction of an empty cache" do
      generation = cache.generation
      expect(cache.evict_key(:s, "k", {})).to be_empty
      expect(cache.generation).to eq(generation + 1)
      cache.put_scope(store: :s, scope: :open, facts: [entry("stale")], generation: generation)
      expect(cache.get_scope(store: :s, scope: :open)).to be_nil
    end

    it "skips fetch_point's caching when an eviction ran while the block read" do
      answer = cache.fetch_point(:s, "k", nil, nil) do
        cache.evict_key(:s, "k", {})
        entry("stale")
      end
      expect(answer).not_to be_nil
      expect(cache.get(store: :s, key: "k")).to be_nil
    end

    it "drops an entry cached before an eviction of a store it had never seen" do
      cache.put(store: :s, key: "k", fact: entry("f"), as_of: 5.0)
      cache.put_scope(store: :s, scope: :open, facts: [entry("g")])
      cache.evict_key(:s, "k", {})
      expect(cache.get(store: :s, key: "k", as_of: 5.0)).to be_nil
      expect(cache.get_scope(store: :s, scope: :open)).to be_nil
    end
  end

  describe "through a store whose cache was never used" do
    it "drops a future as_of read cached after earlier writes went the fast path" do
      store = Igniter::Store::IgniterStore.new
      store.write(store: :tasks, key: "t", value: { n: 1 })
      future = Process.clock_gettime(Process::CLOCK_REALTIME) + 3600
      expect(store.read(store: :tasks, key: "t", as_of: future)).to eq({ n: 1 })
      store.write(store: :tasks, key: "t", value: { n: 2 })
      expect(store.read(store: :tasks, key: "t", as_of: future)).to eq({ n: 2 })
    end
  end
end
