# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :relation+ — `from: {store:, key:}` (the "one" side) and
        # `to: {store:, field:}` (the "many" side, indexed by +field+).
        class RelationHandler < Base
          # Descriptor kind handled.
          KIND = :relation
          # Fields the descriptor must have.
          REQUIRED = %i[name from to].freeze
          # Warning of a relation declared with cardinality one.
          ONE_WARNING = "cardinality: :one is informational only; engine always stores as G-Set"

          private

          def accept(descriptor)
            name = descriptor[:name].to_sym
            from = descriptor[:from]
            to = descriptor[:to]
            unless from.is_a?(Hash) && dig(from, :store) && dig(from, :key) && symbolizable?(dig(from, :store))
              return Receipt.rejection("from: must be { store:, key: }", kind: KIND, name: name)
            end
            unless to.is_a?(Hash) && dig(to, :store) && dig(to, :field) && symbolizable?(dig(to, :store)) &&
                   symbolizable?(dig(to, :field))
              return Receipt.rejection("to: must be { store:, field: }", kind: KIND, name: name)
            end

            @store.register_relation(name, source: dig(to, :store).to_sym, partition: dig(to, :field).to_sym,
                                           target: dig(from, :store).to_sym)
            # "one" arrives as a String over JSON; 0.5.2 only warned for the Symbol.
            warnings = descriptor[:cardinality].to_s == "one" ? [ONE_WARNING] : []
            accepted(descriptor, warnings: warnings)
          end
        end
      end
    end
  end
end
