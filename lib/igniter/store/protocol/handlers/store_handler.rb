# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :store+ — records the descriptor in the schema graph (metadata).
        class StoreHandler < Base
          # Descriptor kind handled.
          KIND = :store
          # Fields the descriptor must have.
          REQUIRED = %i[name key].freeze

          private

          def accept(descriptor)
            @store.schema_graph.register_store_descriptor(named(descriptor))
            accepted(descriptor)
          end
        end
      end
    end
  end
end
