# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # The replay / sync form of a fact (doc/protocol.md "Replay and sync").
      module FactPacket
        # @param fact [Fact, CoercedFact]
        # @return [Hash] Symbol keys in protocol order
        def self.from(fact)
          { schema_version: 1, kind: :fact, id: fact.id, store: fact.store, key: fact.key, value: fact.value,
            value_hash: fact.value_hash, causation: fact.causation, transaction_time: fact.transaction_time,
            valid_time: fact.valid_time, producer: fact.producer, derivation: fact.derivation }
        end
      end
    end
  end
end
