# frozen_string_literal: true

RSpec.describe Igniter::Store::ServerMetrics do
  subject(:metrics) { described_class.new }

  it "issues 16-hex connection ids and counts accepted, active and closed connections" do
    a = metrics.record_connection_accepted(remote_addr: "127.0.0.1")
    metrics.record_connection_accepted(remote_addr: "127.0.0.1")
    metrics.record_connection_closed(id: a, reason: :normal)

    expect(a).to match(/\A[0-9a-f]{16}\z/)
    snap = metrics.snapshot
    expect(snap.values_at(:active_connections, :accepted_connections_total, :closed_connections_total)).to eq([1, 2, 1])
  end

  it "counts a close of an unknown id, and rejections" do
    metrics.record_connection_closed(id: "nope")
    metrics.record_connection_rejected

    expect(metrics.snapshot.values_at(:closed_connections_total, :rejected_connections_total)).to eq([1, 1])
  end

  it "counts requests per op and sums bytes, tolerating unknown connection ids" do
    id = metrics.record_connection_accepted(remote_addr: "x")
    metrics.record_request(connection_id: id, op: "ping", bytes_in: 90, bytes_out: 240)
    metrics.record_request(connection_id: "unknown", op: :ping, bytes_in: 100, bytes_out: 300)
    metrics.record_request(connection_id: id, op: "stats")

    snap = metrics.snapshot
    expect(snap[:requests_total]).to eq("ping" => 2, "stats" => 1)
    expect(snap.values_at(:bytes_in, :bytes_out)).to eq([190, 540])
  end

  it "keys errors as Class/op and counts slow ops per op" do
    metrics.record_error(op: "write_fact", error_class: "RequestError")
    metrics.record_slow_op(op: :replay)

    expect(metrics.snapshot[:errors_total]).to eq("RequestError/write_fact" => 1)
    expect(metrics.snapshot[:slow_ops_total]).to eq("replay" => 1)
  end

  it "counts facts written and replayed" do
    metrics.record_facts_written
    metrics.record_facts_written(count: 2)
    metrics.record_facts_replayed(count: 5)

    expect(metrics.snapshot.values_at(:facts_written, :facts_replayed)).to eq([3, 5])
  end

  it "counts subscriptions per store and floors a close at zero" do
    metrics.record_subscription_opened(store: :tasks)
    metrics.record_subscription_opened(store: "notes")
    metrics.record_subscription_closed(store: "notes")
    metrics.record_subscription_closed(store: "notes")

    expect(metrics.subscription_count).to eq(1)
    expect(metrics.snapshot[:subscriptions_by_store]).to eq("tasks" => 1, "notes" => 0)
  end

  it "has the snapshot keys of 0.5.2 in order, with copies of the inner hashes" do
    snap = metrics.snapshot
    snap[:requests_total]["x"] = 1

    expect(snap.keys).to eq(%i[schema_version generated_at uptime_ms facts_written facts_replayed bytes_in bytes_out
                               requests_total errors_total slow_ops_total active_connections
                               accepted_connections_total closed_connections_total rejected_connections_total
                               subscription_count subscriptions_by_store storage_stats alerts])
    expect(metrics.snapshot[:requests_total]).to eq({})
    expect(snap[:generated_at]).to match(/T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}\z/)
  end

  it "reports a positive, non-decreasing uptime" do
    first = metrics.snapshot[:uptime_ms]
    expect(first).to be_positive
    expect(metrics.snapshot[:uptime_ms]).to be >= first
  end

  it "reads storage_stats only from backends that declare it, treating errors as nil" do
    declared = Class.new { def capabilities = Igniter::Store::Capabilities.declare(:storage_stats) }
    stats = Class.new(declared) { def storage_stats = { "stores" => {} } }.new
    failing = Class.new(declared) { def storage_stats = raise("boom") }.new
    undeclared = Class.new { include Igniter::Store::Backend; def storage_stats = { "stores" => {} } }.new # rubocop:disable Style/Semicolon

    expect(metrics.snapshot(backend: nil)[:storage_stats]).to be_nil
    expect(metrics.snapshot(backend: Object.new)[:storage_stats]).to be_nil
    expect(metrics.snapshot(backend: undeclared)[:storage_stats]).to be_nil
    expect(metrics.snapshot(backend: stats)[:storage_stats]).to eq("stores" => {})
    expect(metrics.snapshot(backend: failing)[:storage_stats]).to be_nil
  end

  describe "alerts" do
    it "fires max_connections once when open connections exceed the threshold" do
      m = described_class.new(thresholds: { max_connections: 1 })
      2.times { m.record_connection_accepted(remote_addr: "x") }
      m.check_alerts
      alerts = m.check_alerts

      expect(alerts.size).to eq(1)
      alert = alerts.first
      expect(alert.type).to eq(:max_connections)
      expect(alert[:type]).to eq(:max_connections)
      expect([alert.threshold, alert.current_value]).to eq([1, 2])
      expect(alert.message).to eq("max_connections exceeded threshold: 2 > 1")
      expect(alert.id).to match(/\A[0-9a-f]{12}\z/)
      expect(alert.fired_at).to be_a(Time)
    end

    it "fires error_rate from errors over requests" do
      m = described_class.new(thresholds: { error_rate: 0.4 })
      m.record_request(connection_id: "c", op: "x")
      m.record_request(connection_id: "c", op: "x")
      m.record_error(op: "x", error_class: "RequestError")

      expect(m.check_alerts.map(&:type)).to eq([:error_rate])
      expect(m.alerts.first.current_value).to eq(0.5)
    end

    it "fires quarantine_receipt_count and storage_byte_size from the backend's storage_stats" do
      backend = Class.new do
        def capabilities = Igniter::Store::Capabilities.declare(:storage_stats)

        def storage_stats
          { "stores" => { "a" => { "quarantine_receipt_count" => 7, "byte_size" => 60 },
                          "b" => { "quarantine_receipt_count" => 6, "byte_size" => 50 } } }
        end
      end.new
      m = described_class.new(thresholds: { storage_byte_size: 100 })

      expect(m.check_alerts(backend: backend).map(&:type)).to contain_exactly(:quarantine_receipt_count,
                                                                              :storage_byte_size)
    end

    it "fires slow_op_count only when enabled" do
      described = described_class.new
      described.record_slow_op(op: "x")
      enabled = described_class.new(thresholds: { slow_op_count: 0 })
      enabled.record_slow_op(op: "x")

      expect(described.check_alerts).to eq([])
      expect(enabled.check_alerts.map { |a| a[:type] }).to eq([:slow_op_count])
    end

    it "includes fired alerts in the snapshot as Hashes" do
      m = described_class.new(thresholds: { max_connections: 0 })
      m.record_connection_accepted(remote_addr: "x")
      m.check_alerts

      expect(m.snapshot[:alerts].first).to include(type: :max_connections, threshold: 0, current_value: 1)
    end
  end

  it "stays consistent under concurrent recording" do
    10.times.map do
      Thread.new do
        50.times do
          id = metrics.record_connection_accepted(remote_addr: "x")
          metrics.record_request(connection_id: id, op: "ping", bytes_in: 1, bytes_out: 2)
          metrics.record_connection_closed(id: id)
        end
      end
    end.each(&:join)

    snap = metrics.snapshot
    expect(snap[:requests_total]).to eq("ping" => 500)
    expect(snap.values_at(:active_connections, :accepted_connections_total, :closed_connections_total))
      .to eq([0, 500, 500])
    expect(snap.values_at(:bytes_in, :bytes_out)).to eq([500, 1000])
  end
end
