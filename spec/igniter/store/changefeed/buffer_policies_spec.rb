# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "async delivery policies", changefeed: true do
  let(:gate) { Queue.new }

  # Subscribes a handler that records each sequence, then blocks until the
  # spec opens the gate (one `gate << :go` per event).
  def blocked_subscriber(buffer, got)
    sub = buffer.subscribe(stores: nil) do |event|
      got << event.sequence
      gate.pop
    end
    sub
  end

  def emit_n(buffer, count)
    Array.new(count) { buffer.emit(build_fact) }
  end

  it "returns from emit promptly while a handler is blocked" do
    buffer = described_class.new
    blocked_subscriber(buffer, collector)
    started = monotonic_now
    emit_n(buffer, 20)
    expect(monotonic_now - started).to be < 0.05
    buffer.close(timeout: 0)
    200.times { gate << :go }
  end

  it "drop_oldest keeps the newest events: delivered ends with 10 and includes 7..10 (queue 5)" do
    buffer = described_class.new(subscriber_queue_size: 5, overflow: :drop_oldest)
    got = collector
    sub = blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    emit_n(buffer, 9)
    20.times { gate << :go }
    buffer.close
    expect(got.items).to eq([1, 6, 7, 8, 9, 10])
    expect(buffer.snapshot[:overflow_dropped_total]).to eq(4)
    expect(record_of(sub).overflow_dropped_total).to eq(4)
  end

  it "drop_newest keeps the oldest events: ascending from 1 (queue 5)" do
    buffer = described_class.new(subscriber_queue_size: 5, overflow: :drop_newest)
    got = collector
    blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    emit_n(buffer, 9)
    20.times { gate << :go }
    buffer.close
    expect(got.items).to eq([1, 2, 3, 4, 5, 6])
    expect(buffer.snapshot[:overflow_dropped_total]).to eq(4)
  end

  it "records a subscriber_overflow diagnostic per dropped event" do
    buffer = described_class.new(subscriber_queue_size: 1)
    got = collector
    sub = blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    emit_n(buffer, 3)
    overflows = buffer.snapshot[:diagnostics][:recent].select { |e| e[:type] == :subscriber_overflow }
    expect(overflows.map { |e| e[:subscriber_id] }).to eq([sub.id, sub.id])
    10.times { gate << :go }
    buffer.close
  end

  it "keeps ring evictions and queue overflow drops in separate counters" do
    buffer = described_class.new(max_size: 2, subscriber_queue_size: 1)
    got = collector
    blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    emit_n(buffer, 3)
    expect(buffer.snapshot.values_at(:dropped_total, :overflow_dropped_total)).to eq([2, 2])
    10.times { gate << :go }
    buffer.close
  end

  it "under :drain delivers an event emitted right before close" do
    buffer = described_class.new(close_policy: :drain)
    got = collector
    sub = buffer.subscribe(stores: nil) { |event| got << event.sequence }
    buffer.emit(build_fact)
    sub.close
    expect(got.items).to eq([1])
  end

  it "under :drain delivers every queued event in order before close returns" do
    buffer = described_class.new(close_policy: :drain)
    got = collector
    sub = blocked_subscriber(buffer, got)
    emit_n(buffer, 10)
    10.times { gate << :go }
    sub.close
    expect(got.items).to eq((1..10).to_a)
    expect(record_of(sub).thread).not_to be_alive
  end

  it "under :discard finishes only the in-flight event" do
    buffer = described_class.new(close_policy: :discard)
    got = collector
    sub = blocked_subscriber(buffer, got)
    emit_n(buffer, 20)
    wait_until { got.size == 1 }
    closer = Thread.new { sub.close }
    wait_until { record_of(sub).queue.closed? }
    gate << :go
    closer.join
    expect(got.items).to eq([1])
    expect(record_of(sub).thread).not_to be_alive
    expect(record_of(sub).queue.size).to eq(0)
  end

  it "stops the worker thread on close and is idempotent" do
    buffer = described_class.new
    sub = buffer.subscribe(stores: nil) { |_| nil }
    sub.close
    expect(record_of(sub).thread.alive?).to be(false)
    expect { sub.close }.not_to raise_error
    expect(buffer.subscriber_count).to eq(0)
    closed = buffer.snapshot[:diagnostics][:recent].count { |e| e[:type] == :subscriber_closed }
    expect(closed).to eq(1)
  end

  it "bounds close's wait for a stuck handler by its timeout" do
    buffer = described_class.new
    got = collector
    sub = blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    started = monotonic_now
    sub.close(timeout: 0.05)
    expect(monotonic_now - started).to be < 0.5
    expect(record_of(sub).thread).to be_alive
    gate << :go
    wait_until { !record_of(sub).thread.alive? }
  end

  it "shuts down every subscription and joins all worker threads" do
    buffer = described_class.new
    got = collector
    subs = Array.new(3) { buffer.subscribe(stores: nil) { |event| got << event.sequence } }
    emit_n(buffer, 4)
    expect(buffer.close).to be(true)
    expect(subs.map { |s| record_of(s).thread.alive? }).to eq([false] * 3)
    expect(got.size).to eq(12)
    expect(buffer).to be_closed
    expect { buffer.subscribe(stores: nil) { |_| nil } }.to raise_error(described_class::ClosedError, /closed/)
    expect(buffer.emit(build_fact).sequence).to eq(5)
  end

  it "reports false from close when a worker outlives the timeout" do
    buffer = described_class.new
    got = collector
    blocked_subscriber(buffer, got)
    buffer.emit(build_fact)
    wait_until { got.size == 1 }
    expect(buffer.close(timeout: 0.02)).to be(false)
    gate << :go
  end
end
