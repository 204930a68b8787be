# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # `expect { ... }.to write_fact(store: :tasks, key: "t1").with_value(...)`:
      # the block wrote at least one fact to that key (with a value matching
      # the expected one: equal, or an RSpec matcher such as `hash_including`).
      class WriteFact < KeyMatcher
        include ValueExpectation

        # @param ledger [Store::IgniterStore, nil] the ledger watched (nil until {#matches?}: an error)
        # @param store [Symbol, String]
        # @param key [String, Symbol]
        def initialize(ledger, store:, key:)
          super(store: store, key: key)
          @ledger = ledger
        end

        # @param ledger [Store::IgniterStore] watch this ledger instead
        # @return [self]
        def in(ledger)
          @ledger = ledger
          self
        end

        # @return [Boolean]
        def supports_block_expectations?
          true
        end

        # @return [Boolean] a value is not a block: `expect(x).to write_fact` is a mistake
        def supports_value_expectations?
          false
        end

        # @param block [Proc]
        # @return [Boolean]
        # @raise [ArgumentError] for anything but a block, or without a ledger
        def matches?(block)
          unless block.is_a?(Proc)
            raise ArgumentError, "write_fact is a block matcher: write `expect { ... }.to write_fact(...)`, got #{block.class}"
          end

          ledger = FactDescription.ledger!(@ledger, "write_fact")
          before = ledger.history(store: @store, key: @key).to_set(&:id)
          count = ledger.fact_count
          block.call
          after = ledger.history(store: @store, key: @key)
          @written = after.reject { |fact| before.include?(fact.id) }
          written_ids = @written.to_set(&:id)
          @elsewhere = ledger.fact_log_all.last([ledger.fact_count - count, 0].max).reject { |f| written_ids.include?(f.id) }
          @written.any? && (!value_given? || @written.any? { |fact| values_match?(@expected, fact.value) })
        end

        # @param block [Proc]
        # @return [Boolean]
        def does_not_match?(block)
          !matches?(block)
        end

        # @return [Boolean] with a value, RSpec shows a diff of expected and written
        def diffable?
          value_given? && @written.to_a.any?
        end

        # @return [Object] the last value written to the key by the block
        def actual
          @written.to_a.last&.value
        end

        # @return [String]
        def description
          "write a fact to #{address}#{value_text}"
        end

        # @return [String]
        def failure_message
          target = "expected the block to write a fact to #{address}#{value_text}"
          return "#{target}, but it wrote #{@written.size == 1 ? "one" : @written.size} with " \
                 "#{@written.size == 1 ? "value" : "values"} #{@written.map { |f| f.value.inspect }.join(", ")}" if @written.any?

          "#{target}, but it wrote none to that key#{elsewhere_text}"
        end

        # @return [String]
        def failure_message_when_negated
          "expected the block not to write a fact to #{address}#{value_text}, " \
            "but it wrote #{@written.map { |f| f.value.inspect }.join(", ")}"
        end

        private

        def elsewhere_text
          return "" if @elsewhere.empty?

          written = @elsewhere.first(5).map { |f| FactDescription.address(f.store, f.key) }.join(", ")
          " (it wrote to #{written}#{@elsewhere.size > 5 ? ", …" : ""})"
        end
      end
    end
  end
end
