# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :command+ — an application command's contract, stored under
        # `[owner][name]` with defaults filled in.
        class CommandHandler < Base
          # Descriptor kind handled.
          KIND = :command
          # Fields the descriptor must have.
          REQUIRED = %i[name owner operation].freeze
          # Fields that must be Symbols or Strings.
          SYMBOL_FIELDS = %i[name owner operation target_shape boundary mutation_intent].freeze
          # Accepted `operation:` values.
          OPERATIONS = %i[record_append record_update history_append none].freeze
          # Operation => the target shape it implies.
          TARGET_SHAPES = { record_append: :store, record_update: :store, history_append: :history, none: :none }.freeze

          private

          def accept(descriptor)
            operation = token(descriptor[:operation])
            unless OPERATIONS.include?(operation)
              return Receipt.rejection("Unsupported command operation: #{operation.inspect}", kind: KIND)
            end

            normalized = descriptor.merge(
              name: token(descriptor[:name]), owner: token(descriptor[:owner]), operation: operation,
              target_shape: token(descriptor[:target_shape]) || TARGET_SHAPES.fetch(operation),
              boundary: token(descriptor[:boundary]) || :app,
              mutation_intent: token(descriptor[:mutation_intent]) || operation
            )
            @store.schema_graph.register_command_descriptor(normalized)
            accepted(normalized)
          end
        end
      end
    end
  end
end
