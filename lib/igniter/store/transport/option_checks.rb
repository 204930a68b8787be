# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # Checks of the options the envelope adapters share, run before
      # anything is bound; each raises ArgumentError naming the option.
      module OptionChecks
        module_function

        # @param value [Object]
        # @return [String, nil] the token, or nil (no auth)
        # @raise [ArgumentError] anything but nil or a non-empty String
        def token!(value)
          return value if value.nil? || (value.is_a?(String) && !value.empty?)

          raise ArgumentError, "auth_token must be a non-empty String or nil"
        end

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
