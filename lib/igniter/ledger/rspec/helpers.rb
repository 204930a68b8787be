# frozen_string_literal: true

module Igniter
  module Ledger
    module RSpec
      # `ledger`: a fresh in-memory ledger per example (memoized within it),
      # which {Matchers#write_fact} watches unless given another.
      module Helpers
        # @return [Store::IgniterStore]
        def ledger
          @igniter_ledger ||= Store.memory
        end
      end
    end
  end
end
