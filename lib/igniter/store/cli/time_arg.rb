# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # A point in time given on the command line (`--as-of`, `--since`,
      # `--until`): seconds since the epoch (`1795675821.46`) or ISO-8601
      # (`2026-11-26T10:30:21Z`, `2026-11-26T10:30:21.5+01:00`, or a date,
      # `2026-11-26`, meaning its start in UTC). A time without a zone is
      # refused: it would mean a different instant on every machine.
      module TimeArg
        module_function

        # @param text [String]
        # @param flag [String] named in the error
        # @return [Float] seconds since the epoch
        # @raise [UsageError] anything else (the rules are {Protocol::TimeParam}'s)
        def parse(text, flag)
          Float(Protocol::TimeParam.seconds(text, flag))
        rescue ArgumentError
          raise UsageError, "#{flag} #{text.inspect}: give seconds since the epoch or an ISO-8601 time with a zone " \
                            "(2026-11-26T10:30:21Z)"
        end
      end
    end
  end
end
