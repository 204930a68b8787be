# frozen_string_literal: true

require_relative "changefeed_helpers"

# Bounded stress: 8 writer threads x 2,000 writes through the store, three
# subscribers (two wildcards, one filtered) with queues large enough that
# nothing may overflow. Every subscriber must see each of its facts exactly
# once, in log order.
RSpec.describe Igniter::Store::ChangefeedBuffer, "under stress", changefeed: true do
  threads = 8
  writes = 2_000
  total = threads * writes

  it "loses, duplicates and reorders no event for any subscriber" do
    feed = described_class.new(max_size: total, subscriber_queue_size: total)
    store = Igniter::Store::IgniterStore.new(changefeed: feed)
    wild_a = collector
    wild_b = collector
    only_even = collector
    feed.subscribe(stores: nil) { |event| wild_a << event }
    feed.subscribe(stores: []) { |event| wild_b << event }
    feed.subscribe(stores: [:even]) { |event| only_even << event }

    writers = Array.new(threads) do |t|
      Thread.new do
        writes.times do |i|
          store.write(store: t.even? ? :even : :odd, key: "k#{t}-#{i % 50}", value: { t: t, i: i })
        end
      end
    end
    writers.each(&:join)
    expect(feed.close(timeout: 30)).to be(true)

    log_ids = store.instance_variable_get(:@log).all_facts.map(&:id)
    even_ids = store.instance_variable_get(:@log).all_facts.select { |f| f.store == :even }.map(&:id)
    expect(log_ids.size).to eq(total)
    [wild_a, wild_b].each do |got|
      expect(got.items.map(&:fact_id)).to eq(log_ids)
      expect(got.items.map(&:sequence)).to eq((1..total).to_a)
    end
    expect(only_even.items.map(&:fact_id)).to eq(even_ids)
    snap = feed.snapshot
    expect(snap.values_at(:emitted_total, :overflow_dropped_total, :failed_total, :dropped_total))
      .to eq([total, 0, 0, 0])
    expect(snap[:delivered_total]).to eq((2 * total) + even_ids.size)
  end
end
