# frozen_string_literal: true

module Igniter
  module Store
    # IgniterStore's collaborators (doc/contracts.md "Engine collaborators") and its helper mixins.
    module Engine
      # Argument checks for the transaction-time bounds (`as_of`, `since`,
      # `at`) and cache `ttl` of the read methods. Without them `to_f` turned
      # a String such as "yesterday" into 0.0 and the read silently answered
      # as of the epoch, and an Object failed deep inside with NoMethodError.
      module TimeBounds
        private

        # @return [Numeric, Time, nil] +value+ unchanged
        # @raise [ArgumentError] anything but nil, a real Numeric (not NaN) or a Time
        def time_bound!(name, value)
          return value if value.nil? || value.is_a?(Time)
          return value if value.is_a?(Numeric) && value.real? && !(value.is_a?(Float) && value.nan?)

          raise ArgumentError, "#{name} must be seconds since the epoch (Numeric) or a Time, " \
                               "got #{value.class}: #{value.inspect[0, 60]}"
        end

        # @return [Numeric, nil] +ttl+ unchanged
        # @raise [ArgumentError] anything but nil or a non-negative real Numeric
        def ttl!(ttl)
          return ttl if ttl.nil?
          return ttl if ttl.is_a?(Numeric) && ttl.real? && ttl >= 0

          raise ArgumentError, "ttl must be a non-negative number of seconds, got #{ttl.class}: #{ttl.inspect[0, 60]}"
        end
      end
    end
  end
end
