# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Decodes a Fact object received over the op protocol, checking the
      # member types first: `Fact.from_h` is lenient (it exists to read old
      # WALs) and would turn `"transaction_time": "abc"` into 0.0 or a Hash
      # key into its inspect String. Symbol-keyed Hash in, frozen {Fact} out.
      module WireFact
        # A value hash: 64 lowercase hex digits.
        HEX64 = /\A[0-9a-f]{64}\z/.freeze

        module_function

        # @param raw [Object] the request's `fact` member
        # @return [Fact]
        # @raise [InvalidFactError] naming the first bad member
        def decode(raw)
          raise InvalidFactError, "expected a fact object, got #{json_type(raw)}" unless raw.is_a?(Hash)

          check(raw, :id, "a non-empty string") { |v| v.nil? || (v.is_a?(String) && !v.empty?) }
          check(raw, :store, "a non-empty string") { |v| v.is_a?(String) && !v.empty? }
          check(raw, :key, "a string or an integer") { |v| v.is_a?(String) || v.is_a?(Integer) }
          check(raw, :value_hash, "64 lowercase hex digits") { |v| v.nil? || (v.is_a?(String) && v.match?(HEX64)) }
          check(raw, :causation, "a string") { |v| v.nil? || v.is_a?(String) }
          %i[transaction_time timestamp valid_time term].each do |name|
            check(raw, name, "a number") { |v| v.nil? || v.is_a?(Numeric) }
          end
          check(raw, :schema_version, "an integer") { |v| v.nil? || v.is_a?(Integer) }
          Fact.from_h(raw)
        rescue KeyError, ArgumentError, TypeError, NoMethodError, JSON::GeneratorError, EncodingError => e
          raise InvalidFactError, "invalid fact: #{Transport::ErrorText.first_line(e)}"
        end

        def check(raw, name, expected)
          value = raw[name]
          return if yield(value)

          raise InvalidFactError, "invalid fact: #{name} must be #{expected}, got #{json_type(value)}"
        end

        # @return [String] the JSON type name of +value+, for error messages
        def json_type(value)
          case value
          when nil then "null"
          when Hash then "an object"
          when Array then "an array"
          when String then value.empty? ? "an empty string" : "a string"
          when true, false then "a boolean"
          else "a number"
          end
        end
      end
    end
  end
end
