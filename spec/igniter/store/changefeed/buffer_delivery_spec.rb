# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "delivery", changefeed: true do
  subject(:buffer) { described_class.new }

  after { buffer.close }

  def emit_to(store, key = "k")
    buffer.emit(build_fact(store: store, key: key))
  end

  it "delivers emitted events to a subscriber of the store" do
    got = collector
    buffer.subscribe(stores: [:orders]) { |event| got << event }
    event = emit_to(:orders)
    wait_until { got.size == 1 }
    expect(got.items.first).to be(event)
  end

  it "returns the frozen event with sequences 1, 2, 3" do
    events = Array.new(3) { emit_to(:a) }
    expect(events.map(&:sequence)).to eq([1, 2, 3])
    expect(events).to all(be_frozen)
  end

  it "emits without subscribers" do
    expect { emit_to(:a) }.not_to raise_error
    expect(buffer.snapshot[:emitted_total]).to eq(1)
  end

  it "filters by store, comparing names as Strings" do
    got = collector
    buffer.subscribe(stores: "orders") { |event| got << event.store }
    emit_to(:invoices)
    emit_to(:orders)
    wait_until { got.size == 1 }
    buffer.close
    expect(got.items).to eq([:orders])
  end

  it "serves a multi-store subscription and a wildcard subscription" do
    multi = collector
    all = collector
    buffer.subscribe(stores: %i[a b]) { |event| multi << event.store }
    buffer.subscribe(stores: nil) { |event| all << event.store }
    %i[a b c].each { |store| emit_to(store) }
    buffer.close
    expect(multi.items).to eq(%i[a b])
    expect(all.items).to eq(%i[a b c])
  end

  it "treats an empty stores list as a wildcard" do
    got = collector
    buffer.subscribe(stores: []) { |event| got << event.store }
    emit_to(:x)
    buffer.close
    expect(got.items).to eq([:x])
  end

  it "delivers each event to every matching subscriber" do
    collectors = Array.new(3) { collector }
    collectors.each { |c| buffer.subscribe(stores: [:a]) { |event| c << event.sequence } }
    3.times { emit_to(:a) }
    buffer.close
    expect(collectors.map(&:items)).to all(eq([1, 2, 3]))
  end

  it "requires a block" do
    expect { buffer.subscribe(stores: [:a]) }.to raise_error(ArgumentError, "subscribe requires a block")
  end

  it "counts active subscribers per store, wildcards included" do
    buffer.subscribe(stores: [:a]) { |_| nil }
    buffer.subscribe(stores: %i[a b]) { |_| nil }
    buffer.subscribe(stores: nil) { |_| nil }
    expect([buffer.subscriber_count, buffer.subscriber_count(:a), buffer.subscriber_count("b"),
            buffer.subscriber_count(:z)]).to eq([3, 3, 2, 1])
  end

  it "keeps only max_size events in the ring but still delivers every event live" do
    small = described_class.new(max_size: 2)
    got = collector
    small.subscribe(stores: nil) { |event| got << event.sequence }
    5.times { small.emit(build_fact) }
    small.close
    expect(got.items).to eq([1, 2, 3, 4, 5])
    snap = small.snapshot
    expect(snap.values_at(:buffered, :dropped_total, :oldest_sequence, :newest_sequence)).to eq([2, 3, 4, 5])
  end

  it "reports nil ring bounds while empty" do
    expect(buffer.snapshot.values_at(:oldest_sequence, :newest_sequence, :buffered)).to eq([nil, nil, 0])
  end

  it "gives unique contiguous sequences to concurrent emits" do
    threads = Array.new(10) { Thread.new { Array.new(50) { emit_to(:a).sequence } } }
    sequences = threads.flat_map(&:value)
    expect(sequences.sort).to eq((1..500).to_a)
  end

  it "delivers to each subscriber in sequence order under concurrent emits" do
    buffer = described_class.new(subscriber_queue_size: 1_000)
    lists = Array.new(3) { collector }
    lists.each { |list| buffer.subscribe(stores: nil) { |event| list << event.sequence } }
    threads = Array.new(8) { Thread.new { 50.times { buffer.emit(build_fact(store: :a)) } } }
    threads.each(&:join)
    buffer.close
    expect(lists.map(&:items)).to all(eq((1..400).to_a))
  end

  it "counts deliveries exactly (5 subscribers x 20 emits)" do
    5.times { buffer.subscribe(stores: nil) { |_| nil } }
    20.times { emit_to(:a) }
    wait_until { buffer.snapshot[:delivered_total] == 100 }
    expect(buffer.subscriber_snapshot.map { |s| s[:delivered_total] }).to eq([20] * 5)
  end
end
