# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # Checks of the options the envelope adapters share, run before
      # anything is bound; each raises ArgumentError naming the option.
      module OptionChecks
        module_function

        # @param name [Symbol, String] option name for the message
        # @param value [Object]
        # @return [Integer]
        # @raise [ArgumentError] anything but a positive Integer
        def positive_integer!(name, value)
          return value if value.is_a?(Integer) && value.positive?

          raise ArgumentError, "#{name} must be a positive Integer, got #{value.inspect}"
        end
      end
    end
  end
end
