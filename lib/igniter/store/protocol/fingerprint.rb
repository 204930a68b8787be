# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # Dedup identity of a descriptor: SHA-256 of a typed canonical
      # encoding. Unlike 0.5.2's `inspect`-based rendering, Hash key order is
      # irrelevant at every depth, while types still count (`:a` ≠ `"a"`,
      # `1` ≠ `1.0`), so re-sending a descriptor over JSON is a new content.
      module Fingerprint
        # @param descriptor [Hash] top-level keys already Symbols
        # @return [String] lowercase hex
        def self.of(descriptor)
          Digest::SHA256.hexdigest(JSON.generate(encode(descriptor)))
        end

        # @return [Array] a JSON-safe, order-independent tagged tree
        def self.encode(obj)
          case obj
          when Hash then ["h", obj.map { |k, v| [encode(k), encode(v)] }.sort_by { |pair| JSON.generate(pair[0]) }]
          when Array then ["a", obj.map { |v| encode(v) }]
          when Symbol then ["y", obj.name]
          when String then ["s", obj]
          when Integer then ["i", obj.to_s]
          when Float then ["f", obj.to_s]
          when true, false, nil then ["l", obj.inspect]
          else ["o", obj.class.name, obj.inspect]
          end
        end
      end
    end
  end
end
