# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # The matchers, included in every example group by rspec.rb.
      module Matchers
        # @param store [Symbol, String] store name
        # @param key [String, Symbol]
        # @param ledger [Store::IgniterStore, nil] default: the example's `ledger` (see {Helpers})
        # @return [WriteFact] a block matcher
        def write_fact(store:, key:, ledger: nil)
          WriteFact.new(ledger || (respond_to?(:ledger) ? self.ledger : nil), store: store, key: key)
        end

        # @return [HaveFact]
        def have_fact(store:, key:)
          HaveFact.new(store: store, key: key)
        end

        # @return [HaveHistory]
        def have_history(store:, key:)
          HaveHistory.new(store: store, key: key)
        end
      end
    end
  end
end
