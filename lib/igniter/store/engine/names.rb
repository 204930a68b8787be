# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # How the engine spells what callers name: stores are Symbols, keys
      # Strings, value fields Symbols. IgniterStore includes it (private
      # instance methods); its collaborators call the module functions, so
      # one rule holds at every entry point.
      module Names
        module_function

        # @param store [Symbol, #to_s]
        # @return [Symbol]
        # @raise [ArgumentError] "store is required" for nil
        def normalize_store(store)
          case store
          when Symbol then store
          when nil then raise ArgumentError, "store is required"
          else store.to_s.to_sym
          end
        end

        # @param key [#to_s, nil]
        # @return [String, nil]
        def normalize_key(key)
          key&.to_s
        end

        # Value keys are Symbols after Fact.build, so a String field name is
        # looked up as a Symbol.
        # @param field [Symbol, String, nil]
        # @return [Symbol, nil]
        def normalize_field(field)
          field.is_a?(String) ? field.to_sym : field
        end
      end
    end
  end
end
