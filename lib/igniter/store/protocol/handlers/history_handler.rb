# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :history+ — records the descriptor in the schema graph (metadata).
        class HistoryHandler < Base
          # Descriptor kind handled.
          KIND = :history
          # Fields the descriptor must have.
          REQUIRED = %i[name key].freeze

          private

          def accept(descriptor)
            @store.schema_graph.register_history_descriptor(named(descriptor))
            accepted(descriptor)
          end
        end
      end
    end
  end
end
