# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # The order in which an open serves facts (doc/format.md "Replay"):
      # stably sorted by transaction_time, ties in file order. The backends
      # keep the same rule privately (FileBackend, SegmentedFileBackend).
      module ReplayOrder
        module_function

        # @param facts [Array<Fact>] in file order
        # @return [Array<Fact>]
        def sorted(facts)
          return facts if facts.each_cons(2).all? { |a, b| a.transaction_time <= b.transaction_time }

          facts.each_with_index.sort_by { |fact, i| [fact.transaction_time, i] }.map!(&:first)
        end
      end
    end
  end
end
