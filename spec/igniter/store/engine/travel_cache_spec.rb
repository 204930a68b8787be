# frozen_string_literal: true

# The time-travel half of ReadCache: Rust on the native path, Ruby on the
# pure path, the same behaviour on both (this file runs on each).
RSpec.describe Igniter::Store::TravelCache do
  subject(:cache) { described_class.new(3) }

  # Bare doubles raise on any message: the cache must never inspect what it stores.
  def entry(name) = double(name)

  def put(name, value = entry(name), store: :s, as_of: 1.0, scope: false)
    cache.put(scope, store, name, as_of, value)
    value
  end

  def get(name, store: :s, as_of: 1.0, scope: false, ttl: nil)
    cache.get(scope, store, name, as_of, ttl)
  end

  # A log answering `latest` from a Hash, counting its calls.
  def log_of(answers, &during)
    Struct.new(:answers, :calls, :during) do
      def latest(store, key, as_of)
        self.calls += 1
        during&.call
        answers[[store, key, as_of]]
      end
    end.new(answers, 0, during)
  end

  let(:monitor) { Monitor.new }

  it "refuses a cap that is not an Integer" do
    expect { described_class.new("3") }.to raise_error(ArgumentError, /lru_cap must be an Integer/)
    expect(described_class.new(0).cap).to eq(0)
  end

  describe "eviction order" do
    it "evicts the least recently used entry, a get promoting and a re-put not moving it" do
      a = put("a")
      put("b")
      put("c")
      expect(get("a")).to be(a) # a is now the most recently used
      put("b", entry("b2"))      # overwrite keeps b's place (the oldest)
      put("d")
      expect(cache.size).to eq(3)
      expect(get("b")).to be_nil
      expect([get("a"), get("c"), get("d")]).to all(be_truthy)
    end

    it "shares the cap between point and scope entries and keeps them apart" do
      point = put("k")
      scope = put("k", scope: true)
      expect(get("k")).to be(point)
      expect(get("k", scope: true)).to be(scope)
      put("x")
      put("y", scope: true)
      expect(cache.size).to eq(3)
      expect(get("k")).to be_nil
    end

    it "keeps nothing with a cap of 0" do
      zero = described_class.new(0)
      zero.put(false, :s, "k", 1.0, entry("v"))
      expect(zero.size).to eq(0)
    end
  end

  describe "keys compare as Ruby Hash keys (eql?)" do
    it "tells 1 from 1.0 but not 0.0 from -0.0" do
      put("k", entry("int"), as_of: 1)
      expect(get("k", as_of: 1.0)).to be_nil
      zero = put("k", entry("zero"), as_of: 0.0)
      expect(get("k", as_of: -0.0)).to be(zero)
    end

    it "matches an ASCII string in any ASCII-compatible encoding, not a non-ASCII one" do
      ascii = put("ab")
      expect(get("ab".b)).to be(ascii)
      accented = put("é")
      expect(get("é".b)).to be_nil
      expect(get(+"é")).to be(accented)
    end

    it "finds Time, dynamic Symbol, Bignum and Array parts by value" do
      time = put("k", as_of: Time.at(5))
      expect(get("k", as_of: Time.at(5))).to be(time)
      dynamic = put("k", store: "store_#{object_id}".to_sym)
      expect(get("k", store: "store_#{object_id}".to_sym)).to be(dynamic)
      big = put(2**70)
      expect(get(2**70)).to be(big)
      list = put([1, "a"])
      expect(get([1, "a"])).to be(list)
    end

    it "matches a String subclass by its bytes, as a Hash does" do
      value = put(Class.new(String).new("k"))
      expect(get("k")).to be(value)
      expect(get(Class.new(String).new("k"))).to be(value)
    end
  end

  describe "ttl" do
    it "returns a young entry and drops an expired one" do
      value = put("k")
      expect(get("k", ttl: 60)).to be(value)
      sleep 0.02
      expect(get("k", ttl: 0.01)).to be_nil
      expect(cache.size).to eq(0)
      expect(get("k")).to be_nil
    end
  end

  describe "#drop" do
    subject(:cache) { described_class.new(10) }

    it "drops the key's point entries at every as_of and every scope entry of the store" do
      put("a", as_of: 1.0)
      put("a", as_of: 2.0)
      b = put("b")
      put(:open, scope: true)
      put(:done, scope: true, as_of: 2.0)
      put(:open, scope: true, as_of: 3.0)
      other = put("a", store: :t)
      expect(cache.drop(:s, "a")).to eq(%i[open done])
      expect([get("a"), get("a", as_of: 2.0), get(:open, scope: true)]).to all(be_nil)
      expect(get("b")).to be(b)
      expect(get("a", store: :t)).to be(other)
    end

    it "drops every point entry of the store when the key is nil, and answers nil when no scope went" do
      put("a")
      put("b")
      put("a", store: :t)
      expect(cache.drop(:s, nil)).to be_nil
      expect(cache.size).to eq(1)
      expect(cache.drop(:nothing, "a")).to be_nil
    end

    it "drops by a generic store" do
      put("k", store: Time.at(1))
      expect(cache.drop(Time.at(1), "k")).to be_nil
      expect(cache.size).to eq(0)
    end
  end

  describe "#fetch_point" do
    it "asks the log on a miss, caches a non-nil answer, never a nil one" do
      fact = entry("fact")
      log = log_of({ [:s, "k", 1.0] => fact })
      2.times { expect(cache.fetch_point(:s, "k", 1.0, nil, log, monitor)).to be(fact) }
      expect(log.calls).to eq(1)
      2.times { expect(cache.fetch_point(:s, "none", 1.0, nil, log, monitor)).to be_nil }
      expect(log.calls).to eq(3)
      expect(cache.size).to eq(1)
    end

    it "does not cache an answer read while a drop happened (a racing write)" do
      fact = entry("fact")
      log = log_of({ [:s, "k", 1.0] => fact }) { cache.drop(:s, "k") }
      expect(cache.fetch_point(:s, "k", 1.0, nil, log, monitor)).to be(fact)
      expect(cache.size).to eq(0)
    end

    it "reads a generic key under the monitor and refetches an expired entry" do
      fact = entry("fact")
      at = Time.at(5)
      log = log_of({ [:s, "k", at] => fact }) { expect(monitor.mon_owned?).to be(true) }
      cache.fetch_point(:s, "k", at, nil, log, monitor)
      sleep 0.02
      expect(cache.fetch_point(:s, "k", Time.at(5), 0.01, log, monitor)).to be(fact)
      expect(log.calls).to eq(2)
      expect(cache.size).to eq(1)
      expect(monitor.mon_locked?).to be(false)
    end
  end

  describe "GC safety" do
    it "keeps values and keys that only the cache references across GC.start and GC.compact" do
      big = described_class.new(100)
      50.times do |i|
        big.put(false, :s, "k#{i}", Time.at(i), "value #{i}" * 3)
        big.put(true, :s, "scope #{i}", Float(i), ["facts #{i}"])
      end
      GC.start
      GC.compact if GC.respond_to?(:compact)
      GC.start
      50.times do |i|
        expect(big.get(false, :s, "k#{i}", Time.at(i), nil)).to eq("value #{i}" * 3)
        expect(big.get(true, :s, "scope #{i}", Float(i), nil)).to eq(["facts #{i}"])
      end
      expect(big.drop(:s, nil)).to eq(Array.new(50) { |i| "scope #{i}" })
    end

    it "keeps dynamic Symbol parts findable across GC.compact" do
      big = described_class.new(100)
      names = Array.new(20) { |i| "dyn_store_#{i}_#{object_id}" }
      names.each { |n| big.put(false, n.to_sym, "k", 1.0, "v #{n}") }
      GC.start
      GC.compact if GC.respond_to?(:compact)
      names.each { |n| expect(big.get(false, n.to_sym, "k", 1.0, nil)).to eq("v #{n}") }
    end
  end
end
