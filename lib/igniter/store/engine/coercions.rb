# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # Read-time schema migration: a per-store block `(value, schema_version)
      # -> value` applied on read paths only. Stored facts are never modified.
      module Coercions
        # Registers (replacing any earlier one) the coercion of +store_name+.
        # The block runs on every read (no memo); its errors reach the reader.
        #
        # @yieldparam value [Object] the stored value
        # @yieldparam schema_version [Integer]
        # @yieldreturn [Object] the value to expose
        # @return [self]
        def register_coercion(store_name, &block)
          @coercions[normalize_store(store_name)] = block
          self
        end

        private

        def coerce_value(store, fact)
          coercion = @coercions[store]
          return fact.value unless coercion

          coercion.call(fact.value, fact.schema_version)
        end

        # Without a coercion the very Array given is returned (a spec pins the
        # identity of cached query results). With one, facts whose value the
        # block returns unchanged (`equal?`) stay Facts; others are wrapped.
        def apply_coercions(store, facts)
          coercion = @coercions[store]
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
