# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # An in-memory store holding the facts of a ledger read at rest, so the
      # tools answer with the engine's own reads (history, `as_of`) and
      # retention, not with a second implementation of them.
      module ReplayedStore
        module_function

        # @param facts [Array<Fact>] in replay order
        # @return [IgniterStore] memory only: nothing it does reaches a file
        def build(facts)
          # Store.segmented restores a backend's facts the same way.
          IgniterStore.new.restore(facts)
        end

        # A fact as JSON-safe data: its WAL body (doc/format.md), whose
        # `symbols` member says which Strings were Symbols.
        # @param fact [Fact]
        # @return [Hash{String=>Object}]
        def plain(fact)
          JsonCanon.fact_document(fact)
        end
      end
    end
  end
end
