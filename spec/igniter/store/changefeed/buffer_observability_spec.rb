# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "observability", changefeed: true do
  let(:gate) { Queue.new }

  def stuck_subscriber(buffer, stores: nil)
    started = collector
    sub = buffer.subscribe(stores: stores) do |event|
      started << event
      gate.pop
    end
    [sub, started]
  end

  it "lists snapshot keys in the 0.5.2 order" do
    expect(described_class.new.snapshot.keys).to eq(
      %i[emitted_total delivered_total dropped_total overflow_dropped_total failed_total buffered max_size
         subscriber_count subscriber_queue_size overflow close_policy total_queued oldest_sequence newest_sequence
         alerts diagnostics]
    )
  end

  it "reports counters, configuration and queued totals" do
    buffer = described_class.new(max_size: 3, subscriber_queue_size: 10, overflow: :drop_newest, close_policy: :discard)
    _sub, started = stuck_subscriber(buffer)
    buffer.emit(build_fact)
    wait_until { started.size == 1 }
    4.times { buffer.emit(build_fact) }
    snap = buffer.snapshot
    expect(snap).to include(emitted_total: 5, delivered_total: 0, dropped_total: 2, buffered: 3, max_size: 3,
                            subscriber_count: 1, subscriber_queue_size: 10, overflow: :drop_newest,
                            close_policy: :discard, total_queued: 4, oldest_sequence: 3, newest_sequence: 5)
    buffer.close(timeout: 0)
    10.times { gate << :go }
  end

  it "describes each active subscriber and drops the entry on close" do
    buffer = described_class.new(subscriber_queue_size: 9)
    sub = buffer.subscribe(stores: %i[a b]) { |_| nil }
    buffer.emit(build_fact(store: :a))
    wait_until { buffer.subscriber_snapshot.first[:delivered_total] == 1 }
    entry = buffer.subscriber_snapshot.first
    expect(entry.keys).to eq(%i[id stores queue_size queue_max_size overflow close_policy status delivered_total
                                overflow_dropped_total failed_total])
    expect(entry).to include(id: sub.id, stores: %w[a b], queue_size: 0, queue_max_size: 9, status: :active,
                             overflow: :drop_oldest, close_policy: :drain, failed_total: 0)
    expect(sub.id).to match(/\A\h{16}\z/).and eq(sub.id.downcase)
    sub.close
    expect(buffer.subscriber_snapshot).to eq([])
  end

  it "records subscribed and closed diagnostics with String stores and Float timestamps" do
    buffer = described_class.new
    sub = buffer.subscribe(stores: :orders) { |_| nil }
    sub.close
    diagnostics = buffer.snapshot[:diagnostics]
    expect(diagnostics[:recent].map { |e| e[:type] }).to eq(%i[subscriber_subscribed subscriber_closed])
    expect(diagnostics[:recent]).to all(include(subscriber_id: sub.id, stores: ["orders"]))
    expect(diagnostics[:recent].map { |e| e[:ts] }).to all(be_a(Float))
    expect(diagnostics.values_at(:recent_count, :dropped_diagnostics_total)).to eq([2, 0])
  end

  it "evicts old diagnostics beyond diagnostic_ring_size and counts them" do
    buffer = described_class.new(diagnostic_ring_size: 3)
    2.times { buffer.subscribe(stores: nil) { |_| nil }.close }
    diagnostics = buffer.snapshot[:diagnostics]
    expect(diagnostics[:recent].size).to eq(3)
    expect(diagnostics.values_at(:recent_count, :dropped_diagnostics_total)).to eq([4, 1])
    buffer.close
  end

  it "raises no alerts without thresholds" do
    expect(described_class.new.snapshot[:alerts]).to eq([])
  end

  it "raises each threshold alert in order with value and threshold" do
    buffer = described_class.new(
      subscriber_queue_size: 2,
      alert_thresholds: { failed_total: 1, overflow_dropped_total: 1, total_queued: 2, queue_pressure_ratio: 0.5 }
    )
    buffer.subscribe(stores: nil) { |_| raise "boom" }
    buffer.emit(build_fact)
    wait_until { buffer.snapshot[:failed_total] == 1 }
    sub, started = stuck_subscriber(buffer)
    buffer.emit(build_fact)
    wait_until { started.size == 1 }
    3.times { buffer.emit(build_fact) }
    alerts = buffer.snapshot[:alerts]
    expect(alerts.map { |a| a[:code] }).to eq(
      %i[changefeed_subscriber_failures changefeed_overflow_drops changefeed_queue_pressure changefeed_queue_pressure]
    )
    expect(alerts[0]).to eq(code: :changefeed_subscriber_failures, severity: :warning, value: 1, threshold: 1)
    expect(alerts[1]).to eq(code: :changefeed_overflow_drops, severity: :warning, value: 1, threshold: 1)
    expect(alerts[2]).to eq(code: :changefeed_queue_pressure, severity: :warning, value: 2, threshold: 2)
    expect(alerts[3]).to eq(code: :changefeed_queue_pressure, severity: :warning, subscriber_id: sub.id,
                            value: 1.0, threshold: 0.5)
    expect(alerts[3][:value]).to be_a(Float)
    buffer.close(timeout: 0)
    10.times { gate << :go }
  end

  it "rounds the per-subscriber pressure ratio to three places" do
    buffer = described_class.new(subscriber_queue_size: 3, alert_thresholds: { queue_pressure_ratio: 0.1 })
    _sub, started = stuck_subscriber(buffer)
    buffer.emit(build_fact)
    wait_until { started.size == 1 }
    buffer.emit(build_fact)
    expect(buffer.snapshot[:alerts].first[:value]).to eq(0.333)
    buffer.close(timeout: 0)
    10.times { gate << :go }
  end
end
