# frozen_string_literal: true

module Igniter
  module Store
    class ChangefeedBuffer
      # Threshold checks evaluated at each {ChangefeedBuffer#snapshot}.
      # Every alert is a warning; order: failures, overflow drops, total
      # queue pressure, then per-subscriber queue pressure.
      module Alerts
        module_function

        # @param thresholds [Hash{Symbol=>Numeric}]
        # @param counters [Hash] :failed_total, :overflow_dropped_total, :total_queued
        # @param queues [Array<Array(String, Integer)>] [subscriber_id, queued] per active subscriber
        # @param capacity [Integer] subscriber queue size
        # @return [Array<Hash>]
        def evaluate(thresholds, counters, queues, capacity)
          return [] if thresholds.empty?

          alerts = []
          add(alerts, :changefeed_subscriber_failures, counters[:failed_total], thresholds[:failed_total])
          add(alerts, :changefeed_overflow_drops, counters[:overflow_dropped_total], thresholds[:overflow_dropped_total])
          add(alerts, :changefeed_queue_pressure, counters[:total_queued], thresholds[:total_queued])
          ratio_threshold = thresholds[:queue_pressure_ratio]
          if ratio_threshold
            queues.each do |subscriber_id, queued|
              ratio = queued.to_f / capacity
              next unless ratio >= ratio_threshold

              alerts << { code: :changefeed_queue_pressure, severity: :warning, subscriber_id: subscriber_id,
                          value: ratio.round(3), threshold: ratio_threshold }
            end
          end
          alerts
        end

        # Adds a warning to +alerts+ when +value+ reached +threshold+ (nil: the alert is off).
        def add(alerts, code, value, threshold)
          return if threshold.nil? || value < threshold

          alerts << { code: code, severity: :warning, value: value, threshold: threshold }
        end
      end
    end
  end
end
