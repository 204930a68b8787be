# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :projection+ — registers projection metadata (replacing by name).
        class ProjectionHandler < Base
          KIND = :projection

          def call(descriptor)
            return Receipt.rejection("Missing required fields: name", kind: KIND) if descriptor[:name].nil?
            if descriptor[:reads].nil? && descriptor[:source].nil?
              return Receipt.rejection("Missing required fields: reads or source", kind: KIND)
            end

            accept(descriptor)
          end

          private

          def accept(descriptor)
            @store.register_projection(
              ProjectionPath.new(
                name: descriptor[:name].to_sym,
                reads: Array(descriptor[:reads] || descriptor[:source]).map(&:to_sym),
                relations: Array(descriptor[:relations]).map(&:to_sym),
                consumer_hint: (descriptor[:consumer_hint] || :protocol_client).to_sym,
                reactive: reactive?(descriptor)
              )
            )
            accepted(descriptor)
          end

          # An explicit +reactive+ wins; otherwise materialized projections are
          # reactive ("materialized" from JSON too, unlike 0.5.2).
          def reactive?(descriptor)
            return !!descriptor[:reactive] if descriptor.key?(:reactive)

            (descriptor[:mode] || :on_demand).to_s == "materialized"
          end
        end
      end
    end
  end
end
