# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer::SubscriberQueue, changefeed: true do
  it "is FIFO and reports no drop below capacity" do
    queue = described_class.new(max_size: 3)
    expect([queue.push(1), queue.push(2)]).to eq([false, false])
    expect([queue.pop, queue.pop, queue.size]).to eq([1, 2, 0])
  end

  it "drops the head when full under :drop_oldest and reports it" do
    queue = described_class.new(max_size: 2, overflow: :drop_oldest)
    results = [1, 2, 3].map { |n| queue.push(n) }
    expect(results).to eq([false, false, true])
    expect([queue.size, queue.pop, queue.pop]).to eq([2, 2, 3])
  end

  it "refuses the incoming event when full under :drop_newest and reports it" do
    queue = described_class.new(max_size: 2, overflow: :drop_newest)
    results = [1, 2, 3].map { |n| queue.push(n) }
    expect(results).to eq([false, false, true])
    expect([queue.size, queue.pop, queue.pop]).to eq([2, 1, 2])
  end

  it "blocks pop until a push arrives" do
    queue = described_class.new(max_size: 2)
    popper = Thread.new { queue.pop }
    wait_until { popper.status == "sleep" }
    queue.push(:x)
    expect(popper.value).to eq(:x)
  end

  it "wakes waiting pops with nil on close and ignores later pushes" do
    queue = described_class.new(max_size: 2)
    popper = Thread.new { queue.pop }
    wait_until { popper.status == "sleep" }
    queue.close
    expect(popper.value).to be_nil
    expect(queue.push(:late)).to be(false)
    expect([queue.size, queue.closed?]).to eq([0, true])
  end

  it "still hands out queued items after close unless discarded" do
    kept = described_class.new(max_size: 3)
    [1, 2].each { |n| kept.push(n) }
    kept.close
    expect([kept.pop, kept.pop, kept.pop]).to eq([1, 2, nil])

    discarded = described_class.new(max_size: 3)
    [1, 2].each { |n| discarded.push(n) }
    discarded.close(discard: true)
    expect(discarded.pop).to be_nil
  end
end

RSpec.describe Igniter::Store::ChangefeedBuffer::DiagnosticRing do
  it "keeps the newest entries and counts total and evicted" do
    ring = described_class.new(2)
    3.times { |i| ring.push({ n: i }) }
    expect(ring.snapshot).to eq(recent: [{ n: 1 }, { n: 2 }], recent_count: 3, dropped_diagnostics_total: 1)
  end

  it "returns a copy that later pushes do not change" do
    ring = described_class.new(5)
    ring.push({ n: 1 })
    snap = ring.snapshot
    ring.push({ n: 2 })
    expect(snap[:recent]).to eq([{ n: 1 }])
  end
end
