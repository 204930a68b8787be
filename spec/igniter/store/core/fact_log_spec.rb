# frozen_string_literal: true

RSpec.describe Igniter::Store::FactLog do
  subject(:log) { described_class.new }

  it "takes no constructor arguments" do
    expect { described_class.new }.not_to raise_error
    expect { described_class.new(backend: nil) }.to raise_error(ArgumentError)
  end

  describe "#append / #size / #all_facts" do
    it "returns the appended fact itself" do
      fact = fact_at(1.0)

      expect(log.append(fact)).to equal(fact)
    end

    it "counts appended facts and keeps duplicates" do
      fact = fact_at(1.0)
      other = fact_at(2.0, key: "other")
      log.append(fact)
      log.append(fact)
      log.append(other)

      expect(log.size).to eq(3)
      expect(log.all_facts.map(&:id)).to eq([fact.id, fact.id, other.id])
      expect(log.facts_for(store: :items, key: "k").size).to eq(2)
    end

    it "returns all facts in append order, not transaction_time order" do
      facts = [fact_at(3.0, key: "a"), fact_at(1.0, store: :other, key: "b"), fact_at(2.0, key: "c")]
      facts.each { |f| log.append(f) }

      expect(log.all_facts.map(&:id)).to eq(facts.map(&:id))
    end

    it "includes replayed facts in all_facts and size, interleaved in call order" do
      a = fact_at(1.0, store: :replayed_only, key: "r")
      b = fact_at(2.0, store: :items, key: "x")
      c = fact_at(3.0, store: :replayed_only, key: "s")
      log.replay(a)
      log.append(b)
      log.replay(c)

      expect(log.size).to eq(3)
      expect(log.all_facts.map(&:id)).to eq([a.id, b.id, c.id])
      expect(log.latest_for(store: :replayed_only, key: "r")).to equal(a)
      expect(log.facts_for(store: :replayed_only).map(&:id)).to eq([a.id, c.id])
    end

    it "returns fresh Arrays that callers cannot use to change the log" do
      log.append(fact_at(1.0))
      log.all_facts.clear
      list = log.facts_for(store: :items, key: "k")
      list.clear

      expect(log.size).to eq(1)
      expect(log.all_facts.size).to eq(1)
      expect(log.facts_for(store: :items, key: "k").size).to eq(1)
    end

    it "starts empty" do
      expect(log.size).to eq(0)
      expect(log.all_facts).to eq([])
    end
  end

  describe "#fact_by_id" do
    it "finds appended and replayed facts by id, nil for unknown ids" do
      a = fact_at(1.0)
      b = fact_at(2.0, key: "b")
      log.append(a)
      log.replay(b)

      expect(log.fact_by_id(a.id)).to equal(a)
      expect(log.fact_by_id(b.id)).to equal(b)
      expect(log.fact_by_id("missing")).to be_nil
    end

    it "returns the last fact appended with a given id" do
      first = fact_at(1.0, id: "same-id", value: { v: 1 })
      second = fact_at(2.0, id: "same-id", value: { v: 2 })
      log.append(first)
      log.append(second)

      expect(log.fact_by_id("same-id")).to equal(second)
    end
  end

  describe "#latest_for" do
    it "returns the last appended fact for the store and key" do
      log.append(fact_at(1.0, value: { v: 1 }))
      log.append(fact_at(2.0, value: { v: 2 }))
      log.append(fact_at(3.0, key: "other", value: { v: 3 }))

      expect(log.latest_for(store: :items, key: "k").value).to eq(v: 2)
    end

    it "lets the later-appended fact win when transaction_times are equal" do
      log.append(fact_at(5.0, value: { v: :first }))
      log.append(fact_at(5.0, value: { v: :second }))

      expect(log.latest_for(store: :items, key: "k").value).to eq(v: :second)
      expect(log.latest_for(store: :items, key: "k", as_of: 5.0).value).to eq(v: :second)
    end

    it "lets the later-appended fact win when the clock stepped backwards" do
      log.append(fact_at(10.0, value: { v: :earlier_append }))
      log.append(fact_at(9.0, value: { v: :later_append }))

      expect(log.latest_for(store: :items, key: "k").value).to eq(v: :later_append)
      expect(log.latest_for(store: :items, key: "k", as_of: 9.5).value).to eq(v: :later_append)
      expect(log.latest_for(store: :items, key: "k", as_of: 10.0).value).to eq(v: :later_append)
    end

    it "treats as_of as inclusive" do
      log.append(fact_at(1.0, value: { v: 1 }))
      log.append(fact_at(2.0, value: { v: 2 }))
      log.append(fact_at(3.0, value: { v: 3 }))

      expect(log.latest_for(store: :items, key: "k", as_of: 2.0).value).to eq(v: 2)
      expect(log.latest_for(store: :items, key: "k", as_of: 2.5).value).to eq(v: 2)
      expect(log.latest_for(store: :items, key: "k", as_of: 1.0).value).to eq(v: 1)
      expect(log.latest_for(store: :items, key: "k", as_of: 0.5)).to be_nil
    end

    it "accepts Integer as_of bounds" do
      log.append(fact_at(1.0, value: { v: 1 }))
      log.append(fact_at(2.0, value: { v: 2 }))

      expect(log.latest_for(store: :items, key: "k", as_of: 1).value).to eq(v: 1)
    end

    it "returns nil for an unknown store or key" do
      log.append(fact_at(1.0))

      expect(log.latest_for(store: :items, key: "missing")).to be_nil
      expect(log.latest_for(store: :nothing, key: "k")).to be_nil
    end

    it "normalizes the store to a Symbol and the key to a String in lookups" do
      fact = Igniter::Store::Fact.build(store: "items", key: :k1, value: { v: 1 })
      log.append(fact)

      expect(log.latest_for(store: :items, key: "k1")).to equal(fact)
      expect(log.latest_for(store: "items", key: :k1)).to equal(fact)
      numbered = Igniter::Store::Fact.build(store: :items, key: 7, value: {})
      log.append(numbered)
      expect(log.latest_for(store: :items, key: 7)).to equal(numbered)
      expect(log.latest_for(store: :items, key: "7")).to equal(numbered)
    end
  end

  describe "#facts_for" do
    before do
      log.append(fact_at(1.0, key: "a", value: { n: 1 }))
      log.append(fact_at(2.0, key: "b", value: { n: 2 }))
      log.append(fact_at(3.0, store: :other, key: "a", value: { n: 3 }))
      log.append(fact_at(4.0, key: "a", value: { n: 4 }))
      log.append(fact_at(5.0, key: "b", value: { n: 5 }))
    end

    it "returns one key's facts in append order" do
      expect(log.facts_for(store: :items, key: "a").map { |f| f.value[:n] }).to eq([1, 4])
    end

    it "returns every fact of the store without a key, in append order" do
      expect(log.facts_for(store: :items).map { |f| f.value[:n] }).to eq([1, 2, 4, 5])
    end

    it "treats since and as_of as inclusive bounds, alone or together" do
      expect(log.facts_for(store: :items, since: 2.0).map { |f| f.value[:n] }).to eq([2, 4, 5])
      expect(log.facts_for(store: :items, as_of: 4.0).map { |f| f.value[:n] }).to eq([1, 2, 4])
      expect(log.facts_for(store: :items, since: 2.0, as_of: 4.0).map { |f| f.value[:n] }).to eq([2, 4])
      expect(log.facts_for(store: :items, key: "a", since: 4.0, as_of: 4.0).map { |f| f.value[:n] }).to eq([4])
    end

    it "keeps append order for a key whose times go backwards and still filters by time" do
      log.append(fact_at(0.5, key: "a", value: { n: 6 }))

      expect(log.facts_for(store: :items, key: "a").map { |f| f.value[:n] }).to eq([1, 4, 6])
      expect(log.facts_for(store: :items, key: "a", as_of: 1.0).map { |f| f.value[:n] }).to eq([1, 6])
      expect(log.facts_for(store: :items, key: "a", since: 1.0).map { |f| f.value[:n] }).to eq([1, 4])
    end

    it "returns an empty Array for an unknown store or key" do
      expect(log.facts_for(store: :items, key: "zzz")).to eq([])
      expect(log.facts_for(store: :nothing)).to eq([])
    end

    it "returns an unfrozen new Array" do
      result = log.facts_for(store: :items)

      expect(result).not_to be_frozen
      expect(log.facts_for(store: :items)).not_to equal(result)
    end
  end

  describe "missing-key lookups" do
    it "do not grow the log or its indexes" do
      log.append(fact_at(1.0, key: "present"))
      log.latest_for(store: :items, key: "warm-up")
      log.facts_for(store: :items, key: "warm-up")
      before_count = reachable_object_count(log)

      200.times do |i|
        log.latest_for(store: :items, key: "missing-#{i}")
        log.latest_for(store: :"missing_store_#{i}", key: "k")
        log.facts_for(store: :items, key: "absent-#{i}")
      end

      expect(log.size).to eq(1)
      expect(log.all_facts.size).to eq(1)
      expect(log.query_scope(store: :items, filters: {}).size).to eq(1)
      expect(reachable_object_count(log)).to eq(before_count)
    end
  end

  describe "#query_scope" do
    before do
      log.append(fact_at(1.0, key: "a", value: { status: :open, owner: "ann" }))
      log.append(fact_at(2.0, key: "b", value: { status: :open, owner: "bob" }))
      log.append(fact_at(3.0, key: "c", value: { status: :closed, owner: "ann" }))
      log.append(fact_at(4.0, key: "a", value: { status: :closed, owner: "ann" }))
      log.append(fact_at(5.0, store: :other, key: "z", value: { status: :open }))
    end

    it "returns the latest fact per key whose value matches every filter" do
      result = log.query_scope(store: :items, filters: { status: :open })

      expect(result.map(&:key)).to eq(["b"])
      expect(log.query_scope(store: :items, filters: { status: :closed, owner: "ann" }).map(&:key)).to eq(%w[a c])
    end

    it "matches every Hash-valued latest fact with empty filters, one per key, in first-appearance order" do
      result = log.query_scope(store: :items, filters: {})

      expect(result.map(&:key)).to eq(%w[a b c])
      expect(result.map { |f| f.value[:status] }).to eq(%i[closed open closed])
    end

    it "uses the latest fact as of an inclusive as_of" do
      expect(log.query_scope(store: :items, filters: { status: :open }, as_of: 3.0).map(&:key)).to eq(%w[a b])
      expect(log.query_scope(store: :items, filters: { status: :open }, as_of: 4.0).map(&:key)).to eq(%w[b])
      expect(log.query_scope(store: :items, filters: {}, as_of: 1.5).map(&:key)).to eq(%w[a])
    end

    it "compares with Ruby equality: a Symbol filter value does not match a String value" do
      expect(log.query_scope(store: :items, filters: { status: "open" })).to eq([])
      expect(log.query_scope(store: :items, filters: { owner: "bob" }).map(&:key)).to eq(["b"])
    end

    it "skips keys whose latest value is not a Hash" do
      log.append(fact_at(6.0, key: "list", value: [1, 2]))
      log.append(fact_at(7.0, key: "b", value: "now a string"))

      expect(log.query_scope(store: :items, filters: {}).map(&:key)).to eq(%w[a c])
    end

    it "returns an empty Array for an unknown store" do
      expect(log.query_scope(store: :nothing, filters: {})).to eq([])
    end
  end

  describe "thread safety" do
    it "keeps every fact when several threads append concurrently" do
      threads = Array.new(8) do |t|
        Thread.new do
          250.times do |i|
            log.append(Igniter::Store::Fact.build(store: :"s#{t % 2}", key: "k#{i % 5}", value: { t: t, i: i }))
            log.latest_for(store: :"s#{t % 2}", key: "k#{i % 5}")
          end
        end
      end
      threads.each(&:join)

      expect(log.size).to eq(2000)
      expect(log.all_facts.size).to eq(2000)
      expect(log.all_facts.map(&:id).uniq.size).to eq(2000)
      expect(log.facts_for(store: :s0).size).to eq(1000)
      expect(log.facts_for(store: :s1, key: "k0").size).to eq(200)
    end
  end
end
