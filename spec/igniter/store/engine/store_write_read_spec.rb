# frozen_string_literal: true

require "igniter/ledger/rspec"

RSpec.describe Igniter::Store::IgniterStore, "write, read and time travel" do
  subject(:store) { ledger_store }

  describe "construction" do
    it "accepts a backend that only has write_fact (and declares no capabilities) and calls nothing on it until a write" do
      backend = Class.new { include Igniter::Store::Backend; def write_fact(_fact) = nil }.new # rubocop:disable Style/Semicolon
      expect(backend).not_to receive(:write_fact)
      expect(described_class.new(backend: backend).fact_count).to eq(0)
    end

    it "refuses a backend that does not declare its capabilities, naming what it lacks" do
      backend = Class.new { def write_fact(_fact) = nil }.new
      expect { described_class.new(backend: backend) }
        .to raise_error(ArgumentError, /lacks #capabilities .*include Igniter::Store::Backend/)
      expect { described_class.new(backend: Object.new) }.to raise_error(ArgumentError, /lacks #write_fact and #capabilities/)
    end

    it "exposes the internals 0.5.2 specs reach into: @log, @backend, @cache" do
      backend = Class.new { include Igniter::Store::Backend; def write_fact(_fact) = nil }.new # rubocop:disable Style/Semicolon
      s = described_class.new(backend: backend)
      expect(s.instance_variable_get(:@log)).to respond_to(:all_facts)
      expect(s.instance_variable_get(:@backend)).to be(backend)
      expect(s.instance_variable_get(:@cache)).to respond_to(:lru_size)
    end

    it "is reachable as LedgerStore and through Igniter::Store.memory" do
      expect(Igniter::Store::LedgerStore).to be(described_class)
      expect(Igniter::Store.memory).to be_a(described_class)
    end

    it "has a nil changefeed by default and exposes the one given" do
      feed = Class.new { def emit(fact) = fact }.new
      expect(store.changefeed).to be_nil
      expect(ledger_store(changefeed: feed).changefeed).to be(feed)
    end
  end

  describe "#write" do
    it "returns a Fact with Symbol store and String key" do
      fact = store.write(store: :tasks, key: "t1", value: { title: "a" })
      expect(fact).to be_a(Igniter::Store::Fact)
      expect([fact.store, fact.key, fact.value]).to eq([:tasks, "t1", { title: "a" }])
    end

    it "chains causation to the previous fact's id, not its value_hash" do
      f1 = store.write(store: :tasks, key: "t1", value: { v: 1 })
      f2 = store.write(store: :tasks, key: "t1", value: { v: 2 })
      expect(f1.causation).to be_nil
      expect(f2.causation).to eq(f1.id)
      expect(f2.causation).not_to eq(f1.value_hash)
    end

    it "gives identical values identical value_hashes but a strict id chain" do
      f1 = store.write(store: :tasks, key: "t1", value: { v: 1 })
      f2 = store.write(store: :tasks, key: "t1", value: { v: 1 })
      expect(f2.value_hash).to eq(f1.value_hash)
      expect(f2.id).not_to eq(f1.id)
      expect(f2.causation).to eq(f1.id)
    end

    it "lets an explicit causation win" do
      store.write(store: :tasks, key: "t1", value: { v: 1 })
      expect(store.write(store: :tasks, key: "t1", value: { v: 2 }, causation: "ext").causation).to eq("ext")
    end

    it "passes schema_version, valid_time, term, producer and derivation to the fact" do
      fact = store.write(store: :s, key: "k", value: { a: 1 }, schema_version: 3, valid_time: 12.5,
                         producer: { system: :ops }, derivation: { name: "d" })
      expect([fact.schema_version, fact.valid_time, fact.producer, fact.derivation])
        .to eq([3, 12.5, { system: :ops }, { name: "d" }])
      expect(store.write(store: :s, key: "k", value: {}, term: 4).valid_time).to eq(4.0)
    end

    it "persists through the backend" do
      written = []
      backend = Class.new { include Igniter::Store::Backend; define_method(:write_fact) { |f| written << f } }.new # rubocop:disable Style/Semicolon
      fact = described_class.new(backend: backend).write(store: :s, key: "k", value: { a: 1 })
      expect(written).to eq([fact])
    end

    it "leaves memory untouched when the backend fails (persist before commit)" do
      backend = Class.new { include Igniter::Store::Backend; def write_fact(_f) = raise(IOError, "disk full") }.new # rubocop:disable Style/Semicolon
      s = described_class.new(backend: backend)
      expect { s.write(store: :s, key: "k", value: { a: 1 }) }.to raise_error(IOError, "disk full")
      expect(s.fact_count).to eq(0)
      expect(s.read(store: :s, key: "k")).to be_nil
    end

    it "counts facts in fact_count" do
      store.write(store: :a, key: "1", value: {})
      store.append(history: :h, event: {})
      expect(store.fact_count).to eq(2)
    end
  end

  describe "argument normalization at the boundary" do
    it "addresses one fact whether store/key are given as Symbol or String" do
      expect { store.write(store: "tasks", key: :t1, value: { v: 1 }) }
        .to write_fact(store: :tasks, key: "t1", ledger: store).with_value(v: 1)
      expect(store).to have_fact(store: :tasks, key: "t1").with_value(v: 1)
      expect(store).to have_history(store: "tasks", key: :t1).with_count(1)
      expect(store.causation_chain(store: "tasks", key: :t1).size).to eq(1)
    end

    it "does not leave a String-key read cached stale after a Symbol-key write" do
      store.write(store: :tasks, key: "k", value: { v: 1 })
      expect(store.read(store: :tasks, key: "k")).to eq(v: 1)
      store.write(store: :tasks, key: :k, value: { v: 2 })
      expect(store).to have_fact(store: :tasks, key: "k").with_value(v: 2)
    end

    it "chains causation across Symbol and String spellings of a key" do
      f1 = store.write(store: :tasks, key: :k, value: { v: 1 })
      expect(store.write(store: "tasks", key: "k", value: { v: 2 }).causation).to eq(f1.id)
    end

    it "hands consumers the normalized store and key" do
      calls = []
      store.register_path(Igniter::Store::AccessPath.new(store: :tasks, consumers: [->(*a) { calls << a }]))
      store.write(store: "tasks", key: :k, value: {})
      expect(calls).to eq([[:tasks, "k"]])
    end

    it "rejects a nil store" do
      expect { store.write(store: nil, key: "k", value: {}) }.to raise_error(ArgumentError)
    end
  end

  describe "#read and #time_travel" do
    it "returns the value (not the fact), deep-frozen" do
      store.write(store: :s, key: "k", value: { list: [1, { a: "x" }] })
      value = store.read(store: :s, key: "k")
      expect(value).to eq(list: [1, { a: "x" }])
      expect(deeply_frozen?(value)).to be(true)
    end

    it "returns nil for an unknown key and does not cache the miss" do
      expect(store.read(store: :s, key: "nope")).to be_nil
      expect { store.write(store: :s, key: "nope", value: { a: 1 }) }.to write_fact(store: :s, key: "nope", ledger: store)
      expect(store).to have_fact(store: :s, key: "nope").with_value(a: 1)
    end

    it "returns the new value after a write even when the old one was cached" do
      store.write(store: :s, key: "k", value: { v: 1 })
      store.read(store: :s, key: "k")
      store.write(store: :s, key: "k", value: { v: 2 })
      expect(store.read(store: :s, key: "k")).to eq(v: 2)
    end

    it "time-travels to the value current at a past moment" do
      store.write(store: :s, key: "k", value: { v: 1 })
      t = clock_boundary
      store.write(store: :s, key: "k", value: { v: 2 })
      expect(store.time_travel(store: :s, key: "k", at: t)).to eq(v: 1)
      expect(store).to have_fact(store: :s, key: "k").with_value(v: 1).as_of(t)
      expect(store).to have_fact(store: :s, key: "k").with_value(v: 2)
      expect(store).to have_history(store: :s, key: "k").with_values([{ v: 1 }, { v: 2 }])
    end

    it "returns nil before the first write and the current value 10 s in the future" do
      t0 = clock_boundary
      store.write(store: :s, key: "k", value: { v: 1 })
      expect(store.time_travel(store: :s, key: "k", at: t0)).to be_nil
      expect(store.time_travel(store: :s, key: "k", at: realtime + 10)).to eq(v: 1)
    end

    it "invalidates a cached future as_of read when the key is written again" do
      store.write(store: :s, key: "k", value: { v: 1 })
      future = realtime + 10
      expect(store.read(store: :s, key: "k", as_of: future)).to eq(v: 1)
      store.write(store: :s, key: "k", value: { v: 2 })
      expect(store.read(store: :s, key: "k", as_of: future)).to eq(v: 2)
    end

    it "treats as_of boundaries inclusively" do
      fact = store.write(store: :s, key: "k", value: { v: 1 })
      expect(store.read(store: :s, key: "k", as_of: fact.transaction_time)).to eq(v: 1)
    end
  end

  describe "#append and #history" do
    it "appends events under fresh UUID keys without causation" do
      e1 = store.append(history: :events, event: { n: 1 })
      e2 = store.append(history: :events, event: { n: 2 })
      expect(e1.key).to match(/\A\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/)
      expect(e2.key).not_to eq(e1.key)
      expect([e1.causation, e2.causation]).to eq([nil, nil])
    end

    it "returns history values in append order" do
      3.times { |i| store.append(history: :events, event: { n: i }) }
      expect(store.history(store: :events).map(&:value)).to eq([{ n: 0 }, { n: 1 }, { n: 2 }])
    end

    it "filters history by key, since and as_of (inclusive)" do
      store.write(store: :s, key: "a", value: { v: 1 })
      t1 = clock_boundary
      f2 = store.write(store: :s, key: "a", value: { v: 2 })
      t2 = clock_boundary
      store.write(store: :s, key: "b", value: { v: 3 })
      expect(store.history(store: :s).size).to eq(3)
      expect(store.history(store: :s, key: "a").map { |f| f.value[:v] }).to eq([1, 2])
      expect(store.history(store: :s, since: t1).map { |f| f.value[:v] }).to eq([2, 3])
      expect(store.history(store: :s, since: t1, as_of: t2)).to eq([f2])
      expect(store.history(store: :s, since: f2.transaction_time, as_of: f2.transaction_time)).to eq([f2])
    end

    it "passes schema_version, valid_time, producer and derivation through append" do
      e = store.append(history: :h, event: { a: 1 }, schema_version: 2, term: 7, producer: { name: "p" },
                       derivation: { name: "d" })
      expect([e.schema_version, e.valid_time, e.producer, e.derivation]).to eq([2, 7.0, { name: "p" }, { name: "d" }])
    end
  end

  describe "#causation_chain" do
    it "lists id, 12-char value_hash, causation and transaction_time in log order" do
      f1 = store.write(store: :s, key: "k", value: { v: 1 })
      f2 = store.write(store: :s, key: "k", value: { v: 2 })
      chain = store.causation_chain(store: :s, key: "k")
      expect(chain.map(&:keys).uniq).to eq([%i[id value_hash causation transaction_time]])
      expect(chain.map { |e| e[:id] }).to eq([f1.id, f2.id])
      expect(chain.map { |e| e[:causation] }).to eq([nil, f1.id])
      expect(chain[0][:value_hash]).to eq(f1.value_hash[0, 12])
      expect(chain[1][:transaction_time]).to eq(f2.transaction_time)
    end

    it "is empty for an unknown key" do
      expect(store.causation_chain(store: :s, key: "none")).to eq([])
    end
  end

  describe "#fact_log_all" do
    it "returns every live fact in append order with inclusive bounds" do
      f1 = store.write(store: :a, key: "1", value: {})
      t = clock_boundary
      f2 = store.append(history: :h, event: {})
      expect(store.fact_log_all).to eq([f1, f2])
      expect(store.fact_log_all(since: t)).to eq([f2])
      expect(store.fact_log_all(as_of: t)).to eq([f1])
      expect(store.fact_log_all(since: f2.transaction_time, as_of: f2.transaction_time)).to eq([f2])
    end
  end

  describe "backend capability delegation" do
    it "returns nil for storage_stats/segment_manifest without backend support",
       not_on_postgres: "PostgresBackend has storage_stats" do
      expect(store.storage_stats).to be_nil
      expect(store.segment_manifest(store: :x)).to be_nil
    end

    it "delegates storage_stats and segment_manifest when the backend has them" do
      backend = Class.new do
        def capabilities = Igniter::Store::Capabilities.declare(:storage_stats, :segment_manifest)
        def write_fact(_f) = nil
        def storage_stats(store:) = { store: store }
        def segment_manifest(store:) = [store]
      end.new
      s = described_class.new(backend: backend)
      expect(s.storage_stats(store: :a)).to eq(store: :a)
      expect(s.segment_manifest(store: :a)).to eq([:a])
    end

    it "closes the backend, and close is a no-op in memory" do
      backend = Class.new { include Igniter::Store::Backend; attr_reader :closed; def write_fact(_f) = nil; def close = (@closed = true) }.new
      described_class.new(backend: backend).close
      expect(backend.closed).to be(true)
      expect(store.close).to be_nil
    end
  end
end
