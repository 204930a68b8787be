# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # What every ledger matcher starts from: one store/key, normalized as
      # the store normalizes them (Symbol store, String key).
      class KeyMatcher
        include ::RSpec::Matchers::Composable

        # @param store [Symbol, String]
        # @param key [String, Symbol]
        def initialize(store:, key:)
          @store = store.to_sym
          @key = key.to_s
        end

        private

        # @return [String] e.g. `tasks/"t1"`
        def address
          FactDescription.address(@store, @key)
        end
      end

      # `.with_value(expected)` for the matchers about one value.
      module ValueExpectation
        # @param expected [Object] the value, or a matcher for it
        # @return [self]
        def with_value(expected)
          @expected = expected
          @value_given = true
          self
        end

        # @return [Object] the expected value (for RSpec's diff)
        attr_reader :expected

        private

        def value_given?
          @value_given == true
        end

        def value_text
          value_given? ? " with value #{FactDescription.show(@expected)}" : ""
        end
      end
    end
  end
end
