# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # Growing, bounded waits between retries of something that fails for
      # a while and then works again (an accept(2) out of descriptors). Not
      # thread-safe: one retry loop owns one instance.
      class Backoff
        # First pause, in seconds.
        DEFAULT_INITIAL = 0.01
        # Longest pause, in seconds.
        DEFAULT_MAX = 0.5

        # @return [Integer] retries since the last {#reset}
        attr_reader :attempts

        # @param initial [Numeric] first wait in seconds
        # @param max [Numeric] no wait is longer than this
        # @param factor [Numeric] each wait is this many times the one before
        # @raise [ArgumentError] for a non-positive wait or a factor below 1
        def initialize(initial: DEFAULT_INITIAL, max: DEFAULT_MAX, factor: 2)
          unless initial.is_a?(Numeric) && initial.positive? && max.is_a?(Numeric) && max >= initial
            raise ArgumentError, "backoff needs 0 < initial <= max, got initial=#{initial.inspect} max=#{max.inspect}"
          end
          unless factor.is_a?(Numeric) && factor >= 1
            raise ArgumentError, "backoff factor must be >= 1, got #{factor.inspect}"
          end

          @initial = initial
          @max = max
          @factor = factor
          reset
        end

        # @return [Float] seconds to wait before the next retry
        def next_delay
          delay = [@initial * (@factor**@attempts), @max].min.to_f
          @attempts += 1
          delay
        end

        # @return [Boolean] a retry happened since the last {#reset}
        def backing_off?
          @attempts.positive?
        end

        # Starts over at the initial wait (the operation worked).
        # @return [nil]
        def reset
          @attempts = 0
          nil
        end
      end
    end
  end
end
