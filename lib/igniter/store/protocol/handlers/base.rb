# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # One handler per descriptor kind: validates a descriptor and applies it to the schema graph (doc/protocol.md "Descriptors").
      module Handlers
        # Shared checks of the descriptor handlers. A handler gets the
        # descriptor with Symbol top-level keys and returns a {Receipt}.
        class Base
          # Fields the descriptor must have (none by default).
          REQUIRED = [].freeze
          # Fields the handler turns into Symbols. A present value that cannot
          # be one (Integer, Array, …) is rejected instead of raising.
          SYMBOL_FIELDS = %i[name].freeze

          # @param store [IgniterStore]
          def initialize(store)
            @store = store
          end

          # @param descriptor [Hash]
          # @return [Receipt]
          def call(descriptor)
            missing = self.class::REQUIRED.select { |field| descriptor[field].nil? }
            return Receipt.rejection("Missing required fields: #{missing.join(", ")}", kind: kind) unless missing.empty?

            invalid_symbol_field(descriptor) || accept(descriptor)
          end

          private

          # @return [Receipt, nil] a rejection naming the first field that cannot be a Symbol
          def invalid_symbol_field(descriptor)
            field = self.class::SYMBOL_FIELDS.find { |f| !symbolizable?(descriptor[f]) }
            return nil unless field

            name = descriptor[:name].respond_to?(:to_sym) ? descriptor[:name].to_sym : nil
            Receipt.rejection("#{field}: must be a Symbol or String, got #{descriptor[field].inspect}", kind: kind, name: name)
          end

          def symbolizable?(value)
            value.nil? || value.respond_to?(:to_sym)
          end

          def kind
            self.class::KIND
          end

          def accepted(descriptor, warnings: [])
            Receipt.accepted(kind: kind, name: descriptor[:name].to_sym, warnings: warnings)
          end

          # The descriptor as stored: caller's hash with a Symbol name.
          def named(descriptor)
            descriptor.merge(name: descriptor[:name].to_sym)
          end

          # nil and Symbols kept, anything else converted (Strings from JSON).
          def token(value)
            value.nil? || value.is_a?(Symbol) ? value : value.to_sym
          end

          # Reads a nested field whether the client sent Symbol or String keys
          # (0.5.2 saw `{"store" => ..}` as missing the field).
          def dig(hash, field)
            hash.key?(field) ? hash[field] : hash[field.to_s]
          end
        end
      end
    end
  end
end
