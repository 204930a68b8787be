# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # `expect(ledger).to have_history(store: :tasks, key: "t1")` (at least
      # one fact), `.with_values([v1, v2])` (every version's value, oldest
      # first; each may be an RSpec matcher) or `.with_count(n)`.
      class HaveHistory < KeyMatcher
        # @param store [Symbol, String]
        # @param key [String, Symbol]
        def initialize(store:, key:)
          super
          @values = nil
          @count = nil
        end

        # @param values [Array] the expected values, oldest first
        # @return [self]
        def with_values(values)
          raise ArgumentError, "with_values takes an Array of values, oldest first, got #{values.class}" unless values.is_a?(Array)

          @values = values
          self
        end

        # @param count [Integer] the expected number of versions
        # @return [self]
        def with_count(count)
          raise ArgumentError, "with_count takes a non-negative Integer, got #{count.inspect}" unless count.is_a?(Integer) && count >= 0

          @count = count
          self
        end

        # @param ledger [Store::IgniterStore]
        # @return [Boolean]
        def matches?(ledger)
          @ledger = FactDescription.ledger!(ledger, "have_history")
          @actual = @ledger.history(store: @store, key: @key).map(&:value)
          return values_match?(@values, @actual) if @values
          return @actual.size == @count if @count

          @actual.any?
        end

        # @return [Array] the key's values, oldest first
        attr_reader :actual

        # @return [Array, nil]
        def expected
          @values
        end

        # @return [Boolean]
        def diffable?
          !@values.nil?
        end

        # @return [String]
        def description
          "have a history at #{address}#{expectation_text}"
        end

        # @return [String]
        def failure_message
          target = "expected #{address} to have #{expected_text}"
          return "#{target}, but the key has no facts (#{FactDescription.other_keys(@ledger, @store)})" if @actual.empty?

          "#{target}, but it has #{versions_text}: #{@actual.inspect}"
        end

        # @return [String]
        def failure_message_when_negated
          "expected #{address} not to have #{expected_text}, but it has #{versions_text}: #{@actual.inspect}"
        end

        private

        def versions_text
          "#{@actual.size} #{@actual.size == 1 ? "version" : "versions"}"
        end

        def expected_text
          return "the history #{FactDescription.show(@values)}" if @values
          return "#{@count} #{@count == 1 ? "version" : "versions"}" if @count

          "a history"
        end

        def expectation_text
          return " with values #{FactDescription.show(@values)}" if @values
          return " with #{@count} #{@count == 1 ? "version" : "versions"}" if @count

          ""
        end
      end
    end
  end
end
