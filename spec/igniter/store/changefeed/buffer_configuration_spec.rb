# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "configuration", changefeed: true do
  it "has the 0.5.2 defaults and frozen policy lists" do
    buffer = described_class.new
    expect([buffer.max_size, buffer.subscriber_queue_size, buffer.overflow, buffer.close_policy])
      .to eq([1_000, 100, :drop_oldest, :drain])
    expect(described_class::DEFAULT_DIAGNOSTIC_RING_SIZE).to eq(100)
    expect([described_class::VALID_OVERFLOW_POLICIES, described_class::VALID_CLOSE_POLICIES,
            described_class::VALID_THRESHOLD_KEYS]).to all(be_frozen)
  end

  {
    { overflow: :drop_all } => "unknown overflow policy: :drop_all. Valid: :drop_oldest, :drop_newest",
    { overflow: "drop_oldest" } => 'unknown overflow policy: "drop_oldest". Valid: :drop_oldest, :drop_newest',
    { close_policy: :flush } => "unknown close_policy: :flush. Valid: :drain, :discard",
    { alert_thresholds: { bogus: 1, "other" => 2 } } =>
      "unknown alert_threshold keys: :bogus, :other. Valid: :total_queued, :overflow_dropped_total, " \
      ":failed_total, :queue_pressure_ratio",
    { max_size: 0 } => "max_size must be a positive integer, got 0",
    { max_size: -1 } => "max_size must be a positive integer, got -1",
    { max_size: "big" } => 'max_size must be a positive integer, got "big"',
    { subscriber_queue_size: 0 } => "subscriber_queue_size must be a positive integer, got 0",
    { diagnostic_ring_size: 0 } => "diagnostic_ring_size must be a positive integer, got 0",
    { alert_thresholds: { queue_pressure_ratio: 1.5 } } => "queue_pressure_ratio must be between 0.0 and 1.0, got 1.5",
    { alert_thresholds: { queue_pressure_ratio: -0.1 } } => "queue_pressure_ratio must be between 0.0 and 1.0, got -0.1"
  }.each do |options, message|
    it "rejects #{options.inspect} with a message naming the problem" do
      expect { described_class.new(**options) }.to raise_error(ArgumentError, message)
    end
  end

  it "checks the overflow policy before the sizes" do
    expect { described_class.new(overflow: :nope, max_size: 0) }.to raise_error(ArgumentError, /overflow/)
  end

  it "accepts queue_pressure_ratio bounds 0.0 and 1.0 and nil thresholds" do
    expect(described_class.new(alert_thresholds: { queue_pressure_ratio: 0.0 })).to be_a(described_class)
    expect(described_class.new(alert_thresholds: { "queue_pressure_ratio" => 1.0 }).alert_thresholds)
      .to eq({ queue_pressure_ratio: 1.0 })
    expect(described_class.new(alert_thresholds: nil).alert_thresholds).to eq({})
  end

  it "builds from a config hash with per-key overrides" do
    buffer = described_class.from_config({ max_size: 1000, subscriber_queue_size: 7 }, { max_size: 42 })
    expect([buffer.max_size, buffer.subscriber_queue_size]).to eq([42, 7])
    expect(described_class.from_config(nil, nil).max_size).to eq(described_class::DEFAULT_MAX_SIZE)
    expect { described_class.from_config({ max_size: 0 }) }.to raise_error(ArgumentError, /max_size/)
  end
end
