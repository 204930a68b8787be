# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      module Handlers
        # +kind: :projection+ — registers projection metadata (replacing by name).
        class ProjectionHandler < Base
          # Descriptor kind handled.
          KIND = :projection
          # Fields that must be Symbols or Strings.
          SYMBOL_FIELDS = %i[name consumer_hint].freeze

          # Validates a projection descriptor (name, reads or source, Symbol-like fields) and
          # registers it.
          # @param descriptor [Hash] symbolized
          # @return [Receipt] accepted, or a rejection naming the field
          def call(descriptor)
            return Receipt.rejection("Missing required fields: name", kind: KIND) if descriptor[:name].nil?
            if descriptor[:reads].nil? && descriptor[:source].nil?
              return Receipt.rejection("Missing required fields: reads or source", kind: KIND)
            end

            invalid_symbol_field(descriptor) || invalid_names(descriptor) || accept(descriptor)
          end

          private

          # reads (or source) and relations are lists of store / relation names.
          def invalid_names(descriptor)
            field = descriptor[:reads].nil? ? :source : :reads
            [field, :relations].each do |f|
              next if Array(descriptor[f]).all? { |v| v.respond_to?(:to_sym) }

              return Receipt.rejection("#{f}: must be Symbols or Strings, got #{descriptor[f].inspect}", kind: KIND,
                                                                                                    name: descriptor[:name].to_sym)
            end
            nil
          end

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
