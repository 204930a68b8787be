# frozen_string_literal: true

module Igniter
  module Store
    class ChangefeedBuffer
      # Constructor validation, in 0.5.2's order and with its messages, so a
      # misconfigured server fails at start-up naming the bad field.
      module Settings
        module_function

        # @raise [ArgumentError] for the first invalid setting
        # @return [Hash{Symbol=>Numeric}] the thresholds with Symbol keys
        def validate!(max_size:, subscriber_queue_size:, overflow:, close_policy:, diagnostic_ring_size:,
                      alert_thresholds:)
          check_choice!(overflow, VALID_OVERFLOW_POLICIES, "unknown overflow policy")
          check_choice!(close_policy, VALID_CLOSE_POLICIES, "unknown close_policy")
          thresholds = (alert_thresholds || {}).to_h.transform_keys { |k| k.respond_to?(:to_sym) ? k.to_sym : k }
          unknown = thresholds.keys - VALID_THRESHOLD_KEYS
          unless unknown.empty?
            raise ArgumentError, "unknown alert_threshold keys: #{unknown.map(&:inspect).join(", ")}. " \
                                 "Valid: #{VALID_THRESHOLD_KEYS.map(&:inspect).join(", ")}"
          end
          check_positive!(:max_size, max_size)
          check_positive!(:subscriber_queue_size, subscriber_queue_size)
          check_positive!(:diagnostic_ring_size, diagnostic_ring_size)
          check_ratio!(thresholds[:queue_pressure_ratio]) if thresholds.key?(:queue_pressure_ratio)
          thresholds.freeze
        end

        def check_choice!(value, valid, label)
          return if valid.include?(value)

          raise ArgumentError, "#{label}: #{value.inspect}. Valid: #{valid.map(&:inspect).join(", ")}"
        end

        def check_positive!(name, value)
          return if value.is_a?(Integer) && value.positive?

          raise ArgumentError, "#{name} must be a positive integer, got #{value.inspect}"
        end

        def check_ratio!(ratio)
          return if ratio.is_a?(Numeric) && ratio >= 0.0 && ratio <= 1.0

          raise ArgumentError, "queue_pressure_ratio must be between 0.0 and 1.0, got #{ratio.inspect}"
        end
      end
    end
  end
end
