# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :effect+ — how a command lowers onto store operations,
        # stored under `[owner][name]` with defaults filled in.
        class EffectHandler < Base
          # Descriptor kind handled.
          KIND = :effect
          # Fields the descriptor must have.
          REQUIRED = %i[name owner store_op write_kind].freeze
          # Fields that must be Symbols or Strings.
          SYMBOL_FIELDS = %i[name owner store_op write_kind lowers_to boundary source_operation].freeze
          # Accepted `store_op:` values.
          STORE_OPS = %i[store_write store_append none].freeze
          # Accepted `write_kind:` values.
          WRITE_KINDS = %i[insert update append none].freeze
          # Store op => the target it lowers to.
          LOWERS_TO = { store_write: :store_t, store_append: :history_t, none: :none }.freeze

          private

          def accept(descriptor)
            store_op = token(descriptor[:store_op])
            write_kind = token(descriptor[:write_kind])
            unless STORE_OPS.include?(store_op)
              return Receipt.rejection("Unsupported effect store_op: #{store_op.inspect}", kind: KIND)
            end
            unless WRITE_KINDS.include?(write_kind)
              return Receipt.rejection("Unsupported effect write_kind: #{write_kind.inspect}", kind: KIND)
            end

            normalized = descriptor.merge(
              name: token(descriptor[:name]), owner: token(descriptor[:owner]), store_op: store_op,
              write_kind: write_kind, lowers_to: token(descriptor[:lowers_to]) || LOWERS_TO.fetch(store_op),
              boundary: token(descriptor[:boundary]) || :app
            )
            normalized[:source_operation] = token(descriptor[:source_operation]) if descriptor.key?(:source_operation)
            @store.schema_graph.register_effect_descriptor(normalized)
            accepted(normalized)
          end
        end
      end
    end
  end
end
