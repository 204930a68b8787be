# frozen_string_literal: true

require "time"

module Igniter
  module Store
    module CLI
      # A point in time given on the command line (`--as-of`, `--since`,
      # `--until`): seconds since the epoch (`1795675821.46`) or ISO-8601
      # (`2026-11-26T10:30:21Z`, `2026-11-26T10:30:21.5+01:00`, or a date,
      # `2026-11-26`, meaning its start in UTC). A time without a zone is
      # refused: it would mean a different instant on every machine.
      module TimeArg
        # A date alone: its start in UTC.
        DATE = /\A\d{4}-\d{2}-\d{2}\z/.freeze
        # The zone an ISO-8601 time must end with.
        ZONE = /(?:Z|[+-]\d{2}:?\d{2})\z/i.freeze

        module_function

        # @param text [String]
        # @param flag [String] named in the error
        # @return [Float] seconds since the epoch
        # @raise [UsageError] anything else
        def parse(text, flag)
          return Float(text) if text.match?(/\A[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\z/)
          return Time.iso8601("#{text}T00:00:00Z").to_f if text.match?(DATE)

          raise ArgumentError, "no zone" unless text.match?(ZONE)

          Time.iso8601(text).to_f
        rescue ArgumentError
          raise UsageError, "#{flag} #{text.inspect}: give seconds since the epoch or an ISO-8601 time with a zone " \
                            "(2026-11-26T10:30:21Z)"
        end
      end
    end
  end
end
