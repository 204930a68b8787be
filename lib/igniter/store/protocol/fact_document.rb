# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # A whole fact as the `history` and `fact_by_id` envelope ops answer
      # it: the members of its WAL body (doc/format.md), `symbols` included
      # when Symbol values stood in it, so `Fact.from_h` on the client builds
      # a fact equal to the server's; plus its times in ISO-8601 for people
      # and tools that do not count seconds (`transaction_time_iso`,
      # `valid_time_iso`, which `Fact.from_h` ignores).
      module FactDocument
        module_function

        # @param fact [Fact, CoercedFact]
        # @return [Hash] String keys, JSON-encodable
        def from(fact)
          doc = JsonCanon.fact_document(fact)
          doc["transaction_time_iso"] = TimeParam.iso8601(fact.transaction_time)
          doc["valid_time_iso"] = TimeParam.iso8601(fact.valid_time)
          doc
        end
      end
    end
  end
end
