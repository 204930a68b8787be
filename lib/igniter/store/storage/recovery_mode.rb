# frozen_string_literal: true

module Igniter
  module Store
    # The `recovery:` argument of both file backends (doc/format.md "Recovery"):
    # {Recovery::Plan} (one WAL) and {Segmented::SalvagePlan} (one segment) accept
    # the same three modes with the same refusal.
    module RecoveryMode
      # Accepted `recovery:` modes.
      MODES = %i[salvage strict truncate].freeze

      module_function

      # @param mode [Object] the `recovery:` argument
      # @return [Symbol]
      # @raise [ArgumentError] anything but :salvage, :strict, :truncate
      def check(mode)
        return mode if MODES.include?(mode)

        raise ArgumentError, "unknown recovery mode: #{mode.inspect} (expected :salvage, :strict or :truncate)"
      end
    end
  end
end
