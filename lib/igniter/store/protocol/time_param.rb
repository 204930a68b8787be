# frozen_string_literal: true

require "time"

module Igniter
  module Store
    module Protocol
      # Points in time as clients send them: seconds since the epoch (a JSON
      # number, or its text) or an ISO-8601 time with a zone
      # (`2026-11-26T10:30:21Z`, `2026-11-26T10:30:21.5+01:00`), or a date
      # alone (`2026-11-26`, its start in UTC). A time without a zone is
      # refused: it would mean a different instant on every machine. Used by
      # the envelope router for every time field of a packet, and by the CLI
      # for its `--as-of`/`--since`/`--until` flags.
      module TimeParam
        # A date alone: its start in UTC.
        DATE = /\A\d{4}-\d{2}-\d{2}\z/.freeze
        # The zone an ISO-8601 time must end with.
        ZONE = /(?:Z|[+-]\d{2}:?\d{2})\z/i.freeze
        # Seconds since the epoch written as text.
        NUMBER = /\A[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\z/.freeze

        module_function

        # @param value [Numeric, Time, String, nil]
        # @param name [String, Symbol] the field, named in the error
        # @return [Numeric, nil] seconds since the epoch (Numeric input unchanged); nil for nil
        # @raise [ArgumentError] for anything else: a String that is neither a
        #   number nor an ISO-8601 time with a zone, NaN, ±Infinity, a boolean, an object
        def seconds(value, name)
          case value
          when nil then nil
          when Time then value.to_f
          when Numeric
            return value if value.real? && (!value.is_a?(Float) || value.finite?)

            raise ArgumentError, invalid(name, value)
          when String then parse(value.strip, name)
          else raise ArgumentError, invalid(name, value)
          end
        end

        # Nanoseconds, so that the text read back by {.seconds} is the very
        # same Float: a fact's own `transaction_time_iso` given as `as_of`
        # finds that fact (microseconds would land before it).
        # @param seconds [Numeric, nil]
        # @return [String, nil] ISO-8601 in UTC (`2026-12-02T18:24:07.682632318Z`)
        def iso8601(seconds)
          return nil if seconds.nil?

          Time.at(seconds.to_r).utc.iso8601(9)
        end

        # @return [Float]
        def parse(text, name)
          return finite(Float(text), name, text) if text.match?(NUMBER)
          return Time.iso8601("#{text}T00:00:00Z").to_f if text.match?(DATE)
          raise ArgumentError, invalid(name, text) unless text.match?(ZONE)

          # Whole seconds plus the fraction: Time#to_f (and Rational#to_f of
          # the whole) can land one Float off the nearest.
          time = Time.iso8601(text)
          time.to_i + time.subsec.to_f
        rescue ArgumentError
          raise ArgumentError, invalid(name, text)
        end

        def finite(number, name, text)
          raise ArgumentError, invalid(name, text) unless number.finite?

          number
        end

        def invalid(name, value)
          "#{name} must be seconds since the epoch or an ISO-8601 time with a zone (2026-11-26T10:30:21Z), " \
            "got #{value.inspect[0, 60]}"
        end
        private_class_method :parse, :finite, :invalid
      end
    end
  end
end
