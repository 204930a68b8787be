# frozen_string_literal: true

require_relative "names"

module Igniter
  module Store
    module Engine
      # Read-time schema migration: a per-store block `(value, schema_version)
      # -> value` applied on read paths only. Stored facts are never modified.
      # Owns the registered blocks, one per store.
      class Coercions
        def initialize
          @blocks = {}
        end

        # What {IgniterStore#register_coercion} does (documented there).
        # @return [void]
        def register(store_name, block)
          @blocks[Names.normalize_store(store_name)] = block
          nil
        end

        # @param store [Symbol] normalized store of +fact+
        # @return [Object] the fact's value as the store's coercion exposes it
        def value(store, fact)
          coercion = @blocks[store]
          return fact.value unless coercion

          coercion.call(fact.value, fact.schema_version)
        end

        # Without a coercion the very Array given is returned (a spec pins the
        # identity of cached query results). With one, facts whose value the
        # block returns unchanged (`equal?`) stay Facts; others are wrapped.
        # @param store [Symbol] normalized store of +facts+
        # @param facts [Array<Fact>]
        # @return [Array<Fact, CoercedFact>]
        def apply(store, facts)
          coercion = @blocks[store]
          return facts unless coercion

          facts.map do |fact|
            original = fact.value
            coerced = coercion.call(original, fact.schema_version)
            coerced.equal?(original) ? fact : CoercedFact.new(fact, coerced)
          end
        end
      end
    end
  end
end
