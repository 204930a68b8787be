# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :subscription+ — metadata only: no live subscription (and no
        # changefeed) is created; clients subscribe through a server.
        class SubscriptionHandler < Base
          # Descriptor kind handled.
          KIND = :subscription
          # Fields the descriptor must have.
          REQUIRED = %i[name source].freeze

          private

          def accept(descriptor)
            @store.schema_graph.register_subscription_descriptor(named(descriptor))
            accepted(descriptor)
          end
        end
      end
    end
  end
end
