# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "failure isolation", changefeed: true do
  subject(:buffer) { described_class.new }

  after { buffer.close }

  def emit_to(store = :a)
    buffer.emit(build_fact(store: store))
  end

  it "calls a raising handler once, removes it and counts one failure" do
    calls = collector
    buffer.subscribe(stores: nil) do |event|
      calls << event.sequence
      raise ArgumentError, "bad input"
    end
    emit_to
    wait_until { buffer.subscriber_count.zero? }
    emit_to
    expect(calls.items).to eq([1])
    expect(buffer.snapshot[:failed_total]).to eq(1)
    expect(buffer.subscriber_snapshot).to eq([])
  end

  it "keeps delivering to the other subscribers and never raises into emit" do
    good = collector
    buffer.subscribe(stores: nil) { |_| raise "boom" }
    buffer.subscribe(stores: nil) { |event| good << event.sequence }
    expect { 3.times { emit_to } }.not_to raise_error
    wait_until { good.size == 3 }
    expect(good.items).to eq([1, 2, 3])
    # The failed subscriber is removed by its own worker, which may run after the others.
    wait_until { buffer.subscriber_count == 1 }
    expect(buffer.subscriber_count).to eq(1)
  end

  it "records the failure with error class and message in diagnostics" do
    sub = buffer.subscribe(stores: [:a]) { |_| raise ArgumentError, "bad input" }
    emit_to
    wait_until { buffer.snapshot[:failed_total] == 1 }
    entry = buffer.snapshot[:diagnostics][:recent].find { |e| e[:type] == :subscriber_failed }
    expect(entry).to include(subscriber_id: sub.id, stores: ["a"], error_class: "ArgumentError", message: "bad input")
    expect(entry[:ts]).to be_a(Float)
  end

  it "truncates a failure message to 200 characters" do
    buffer.subscribe(stores: nil) { |_| raise "x" * 500 }
    emit_to
    wait_until { buffer.snapshot[:failed_total] == 1 }
    entry = buffer.snapshot[:diagnostics][:recent].find { |e| e[:type] == :subscriber_failed }
    expect(entry[:message].size).to eq(200)
  end

  it "removes and counts a handler raising a non-StandardError exception (no zombie)" do
    buffer.subscribe(stores: nil) { |_| raise NotImplementedError, "script error" }
    emit_to
    wait_until { buffer.subscriber_count.zero? }
    emit_to
    snap = buffer.snapshot
    expect(snap.values_at(:failed_total, :total_queued, :subscriber_count)).to eq([1, 0, 0])
    expect(snap[:diagnostics][:recent].last).to include(type: :subscriber_failed, error_class: "NotImplementedError")
  end

  it "removes and counts a subscriber whose worker thread is killed" do
    gate = Queue.new
    sub = buffer.subscribe(stores: nil) { |_| gate.pop }
    emit_to
    wait_until { record_of(sub).queue.size.zero? && record_of(sub).thread.status == "sleep" }
    record_of(sub).thread.kill
    wait_until { buffer.subscriber_count.zero? }
    expect(buffer.snapshot[:failed_total]).to eq(1)
    expect(record_of(sub).status).to eq(:failed)
    expect(buffer.snapshot[:diagnostics][:recent].last).to include(type: :subscriber_failed, error_class: "Thread")
  end

  it "lets a handler close its own subscription" do
    got = collector
    sub = nil
    sub = buffer.subscribe(stores: nil) do |event|
      got << event.sequence
      sub.close
    end
    emit_to
    wait_until { !record_of(sub).thread.alive? }
    emit_to
    expect(got.items).to eq([1])
    expect(buffer.snapshot[:failed_total]).to eq(0)
  end
end
