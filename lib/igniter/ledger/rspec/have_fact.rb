# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # `expect(ledger).to have_fact(store: :tasks, key: "t1")`, optionally
      # `.with_value(...)` (equal, or an RSpec matcher) and `.as_of(time)`
      # (what the ledger knew then).
      class HaveFact < KeyMatcher
        include ValueExpectation

        # @param store [Symbol, String]
        # @param key [String, Symbol]
        def initialize(store:, key:)
          super
          @as_of = nil
        end

        # @param time [Numeric, Time] transaction time
        # @return [self]
        def as_of(time)
          @as_of = time
          self
        end

        # @param ledger [Store::IgniterStore]
        # @return [Boolean]
        def matches?(ledger)
          @ledger = FactDescription.ledger!(ledger, "have_fact")
          @facts = @ledger.history(store: @store, key: @key, as_of: @as_of)
          @actual = @facts.empty? ? nil : @ledger.read(store: @store, key: @key, as_of: @as_of)
          @facts.any? && (!value_given? || values_match?(@expected, @actual))
        end

        # @return [Object] the key's latest value
        attr_reader :actual

        # @return [Boolean]
        def diffable?
          value_given? && @facts.to_a.any?
        end

        # @return [String]
        def description
          "have a fact at #{address}#{value_text}#{time_text}"
        end

        # @return [String]
        def failure_message
          target = "expected the ledger to have a fact at #{address}#{value_text}#{time_text}"
          if @facts.empty?
            "#{target}, but the key has no facts#{@as_of ? " by then" : ""} (#{FactDescription.other_keys(@ledger, @store)})"
          else
            "#{target}, but its latest value#{@as_of ? " then" : ""} is #{@actual.inspect} " \
              "(#{@facts.size} #{@facts.size == 1 ? "version" : "versions"})"
          end
        end

        # @return [String]
        def failure_message_when_negated
          "expected the ledger not to have a fact at #{address}#{value_text}#{time_text}, " \
            "but it has, with latest value #{@actual.inspect}"
        end

        private

        def time_text
          @as_of ? " as of #{@as_of.inspect}" : ""
        end
      end
    end
  end
end
