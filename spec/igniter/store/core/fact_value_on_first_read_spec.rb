# frozen_string_literal: true

require "bigdecimal"

# A native Fact.build (and so every native write) keeps a plain value in its
# packed form and builds the Ruby value and value_hash on first read
# (doc/performance.md "Native write path"). These examples pin what that must
# not change, on both paths: the value is the one written even if the caller
# changes its objects before the first read, it is one frozen object for
# every reader (threads, GC.compact), and every reader of the fact agrees.
RSpec.describe "Fact value built on first read" do
  # deeply_frozen? is spec/support/facts.rb's.
  def build(value, **opts)
    build_fact(store: :tasks, key: "k1", value: value, **opts)
  end

  let(:written) do
    { "title" => +"task", tags: [+"a", "b"], nested: { x: 1.5, y: nil, on: true, n: -7, s: :open } }
  end
  let(:expected) { { title: "task", tags: %w[a b], nested: { x: 1.5, y: nil, on: true, n: -7, s: :open } } }

  it "reads the value written even when the caller changed its objects before the first read" do
    fact = build(written)
    written["title"] << " changed"
    written[:tags] << "c"
    written[:nested][:x] = 2
    written["extra"] = 1

    expect(fact.value).to eq(expected)
  end

  it "returns one deep-frozen object on every read, whichever reader comes first" do
    readers = {
      value: ->(f) { f.value },
      to_h: ->(f) { f.to_h[:value] },
      to_a: ->(f) { f.to_a[3] },
      eq: ->(f) { f == f.dup && f.value },
      hash: ->(f) { f.hash && f.value },
      inspect: ->(f) { f.inspect && f.value },
      dup: ->(f) { f.dup.value },
      value_hash: ->(f) { f.value_hash && f.value }
    }
    readers.each do |name, first_read|
      fact = build(written)
      value = first_read.call(fact)

      expect(value).to eq(expected), "first read by #{name}"
      expect(fact.value).to equal(value), "first read by #{name}"
      expect(fact.to_h[:value]).to equal(value)
      expect(fact.dup.value).to equal(value)
      expect(deeply_frozen?(value)).to be(true)
    end
  end

  it "gives the same value_hash whether or not the value was read first" do
    read_first = build(written)
    read_first.value
    hash_first = build(written)

    expect(hash_first.value_hash).to eq(read_first.value_hash)
    expect(hash_first.value_hash).to equal(hash_first.value_hash)
    expect(hash_first.value_hash).to be_frozen
    expect(Igniter::Store::Fact.from_h(hash_first.to_h)).to eq(hash_first)
    unread = build(written)
    dumped = Marshal.dump(unread)
    expect(Marshal.load(dumped)).to eq(unread) # rubocop:disable Security/MarshalLoad -- our own dump
    expect(Marshal.dump(unread)).to eq(dumped)
  end

  it "keeps values outside the plain JSON types as normalization always kept them" do
    ascii = "plain".encode(Encoding::US_ASCII)
    time = Time.at(0).utc
    value = { at: time, ascii: ascii, big: 2**70, minus_zero: -0.0, huge: 1e300, dec: BigDecimal("1.5") }
    fact = build(value)

    expect(fact.value[:at]).to eq(time)
    expect(fact.value[:at]).to be_a(Time)
    expect(fact.value[:ascii].encoding).to eq(Encoding::US_ASCII)
    expect(fact.value[:big]).to eq(2**70)
    expect(fact.value[:minus_zero].to_s).to eq("-0.0")
    expect(fact.value[:huge]).to eq(1e300)
    expect(fact.value[:dec]).to eq(BigDecimal("1.5"))
    expect(deeply_frozen?(fact.value)).to be(true)
  end

  it "resolves a Symbol key and a String key of one name as normalization does (last wins, first place)" do
    fact = build({ "a" => 1, b: 2, a: 3 })

    expect(fact.value).to eq(a: 3, b: 2)
    expect(fact.value.keys).to eq(%i[a b])
  end

  it "survives GC.compact before and after the first read" do
    skip "GC.compact is not available here" unless GC.respond_to?(:compact)

    facts = Array.new(300) { |i| build({ n: i, title: +"task #{i}", tags: [+"t#{i}"], nested: { y: +"y#{i}" } }) }
    early = facts.each_slice(2).map { |a, _| a.value }
    GC.compact
    later = facts.map(&:value)
    GC.compact

    facts.each_with_index do |fact, i|
      expect(fact.value).to eq(n: i, title: "task #{i}", tags: ["t#{i}"], nested: { y: "y#{i}" })
      expect(fact.value).to equal(later[i])
    end
    early.each_with_index { |value, j| expect(facts[j * 2].value).to equal(value) }
  end

  it "hands every thread the same object when many read a fact for the first time at once" do
    facts = Array.new(200) { |i| build({ n: i, title: +"task #{i}", nested: { y: +"y#{i}" } }) }
    gate = Queue.new
    threads = Array.new(6) do
      Thread.new do
        gate.pop
        facts.map { |f| [f.value, f.value_hash] }
      end
    end
    6.times { gate << :go }
    seen = threads.map(&:value)

    facts.each_with_index do |fact, i|
      seen.each do |values|
        expect(values[i][0]).to equal(fact.value)
        expect(values[i][1]).to equal(fact.value_hash)
      end
    end
  end

  it "is the value a store's read returns, the same object" do
    store = Igniter::Store.memory
    fact = store.write(store: :tasks, key: "k1", value: written)
    read = store.read(store: :tasks, key: "k1")

    expect(read).to eq(expected)
    expect(read).to equal(fact.value)
    expect(store.history(store: :tasks, key: "k1").first.value).to equal(read)
  end
end
