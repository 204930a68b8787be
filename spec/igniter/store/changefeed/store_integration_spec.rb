# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::IgniterStore, "with a changefeed", changefeed: true do
  let(:feed) { Igniter::Store::ChangefeedBuffer.new(max_size: 10_000, subscriber_queue_size: 10_000) }
  subject(:store) { described_class.new(changefeed: feed) }

  after { feed.close }

  def ring
    feed.replay[:events]
  end

  def log_ids
    store.instance_variable_get(:@log).all_facts.map(&:id)
  end

  it "exposes the changefeed it was given, and nil without one" do
    expect(store.changefeed).to be(feed)
    expect(described_class.new.changefeed).to be_nil
  end

  it "emits each write once, carrying the written fact" do
    fact = store.write(store: :orders, key: "o1", value: { total: 1 })
    expect(ring.size).to eq(1)
    expect(ring.first.fact).to be(fact)
    expect(ring.first.to_h).to include(store: :orders, key: "o1", fact_id: fact.id, cursor: { sequence: 1 })
  end

  it "emits appends with sequences 1, 2" do
    facts = Array.new(2) { |i| store.append(history: :events, event: { n: i }) }
    expect(ring.map { |e| [e.sequence, e.fact_id] }).to eq([[1, facts[0].id], [2, facts[1].id]])
  end

  it "delivers only the subscribed store's facts to a filtered subscriber" do
    got = collector
    feed.subscribe(stores: [:orders]) { |event| got << event.key }
    store.write(store: :invoices, key: "i1", value: {})
    store.write(store: :orders, key: "o1", value: {})
    store.append(history: :orders, event: { e: 1 })
    feed.close
    expect(got.items.first).to eq("o1")
    expect(got.size).to eq(2)
  end

  it "writes fine without a changefeed" do
    plain = described_class.new
    expect(plain.write(store: :a, key: "k", value: { x: 1 }).value).to eq({ x: 1 })
    expect(plain.append(history: :h, event: { x: 1 })).to be_a(Igniter::Store::Fact)
  end

  it "emits the source fact before the derived fact (source = 1, derived = 2)" do
    store.register_derivation(source_store: :orders, target_store: :totals, target_key: "all",
                              rule: ->(facts) { { count: facts.size } })
    source = store.write(store: :orders, key: "o1", value: { total: 5 })
    expect(ring.map { |e| [e.sequence, e.store] }).to eq([[1, :orders], [2, :totals]])
    expect(ring.first.fact).to be(source)
  end

  it "emits the source fact before a scattered fact, with strictly increasing sequences" do
    store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :by_sensor,
                           rule: ->(_pv, existing, _fact) { { count: (existing&.fetch(:count) || 0) + 1 } })
    2.times { |i| store.write(store: :readings, key: "r#{i}", value: { sensor: "s1" }) }
    expect(ring.map(&:store)).to eq(%i[readings by_sensor readings by_sensor])
    expect(ring.map(&:sequence).each_cons(2).all? { |a, b| b > a }).to be(true)
  end

  it "emits compaction receipts but nothing for the dropped facts" do
    store.set_retention(:churn, strategy: :ephemeral)
    2.times { |i| store.write(store: :churn, key: "c", value: { i: i }) }
    before = ring.size
    report = store.compact.first
    expect(ring.size).to eq(before + 1)
    expect(ring.last.fact_id).to eq(report[:receipt_id])
  end

  it "does not emit facts loaded by replay" do
    fact = build_fact(store: :old, key: "k")
    store.__send__(:replay, fact)
    expect(ring).to eq([])
    expect(store.fact_by_id(fact.id)).to be(fact)
  end

  it "keeps changefeed order equal to log order under concurrent writers and appenders" do
    got = collector
    feed.subscribe(stores: nil) { |event| got << event.fact_id }
    threads = Array.new(6) do |t|
      Thread.new do
        100.times do |i|
          if i.even?
            store.write(store: :"s#{t % 2}", key: "k#{i % 7}", value: { t: t, i: i })
          else
            store.append(history: :h, event: { t: t, i: i })
          end
        end
      end
    end
    threads.each(&:join)
    feed.close
    expect(ring.map(&:fact_id)).to eq(log_ids)
    expect(got.items).to eq(log_ids)
    expect(log_ids.size).to eq(600)
  end

  it "emits each derived fact after its source under concurrent writers" do
    store.register_scatter(source_store: :src, partition_by: :p, target_store: :dst,
                           rule: ->(_pv, _existing, fact) { { from: fact.id } })
    threads = Array.new(4) do |t|
      Thread.new { 50.times { |i| store.write(store: :src, key: "#{t}-#{i}", value: { p: "#{t}-#{i}" }) } }
    end
    threads.each(&:join)
    position = ring.each_with_index.to_h { |event, index| [event.fact_id, index] }
    derived = ring.select { |event| event.store == :dst }
    expect(derived.size).to eq(200)
    expect(derived.all? { |event| position.fetch(event.fact.value[:from]) < position[event.fact_id] }).to be(true)
    expect(ring.map(&:fact_id)).to eq(log_ids)
  end
end
