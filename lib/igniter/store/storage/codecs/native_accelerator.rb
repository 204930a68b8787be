# frozen_string_literal: true

module Igniter
  module Store
    module Codecs
      # The native path's {Accelerator}: the Rust halves of the codecs
      # (Codecs::Native, Codecs::NativeCompactEncoder, same bytes and facts as
      # the Ruby code). Answers nil where only the Ruby code can do the work.
      # Bound by core/native.rb.
      module NativeAccelerator
        # @param fact [Fact, Object] anything else is framed in Ruby
        # @return [String, nil] the binary frame of a {Fact}
        def self.json_frame(fact)
          fact.is_a?(Fact) ? Native.json_frame(fact) : nil
        end

        # @param bytes [String] binary segment bytes
        # @param records [Boolean] the scan's facts as one {NativeRecords}
        #   (for a native FactLog) instead of an Array of facts
        # @return [Array] the members of a {Salvage::Scan}
        def self.salvage_json(bytes, records: false)
          records ? Native.salvage_json_records(bytes) : Native.salvage_json(bytes)
        end

        # @param bytes [String] binary segment bytes
        # @param records [Boolean] as for {.salvage_json}
        # @return [Array, nil] the members of a {Salvage::Scan}; nil for a
        #   segment holding something only the Ruby decoder reproduces exactly
        def self.salvage_compact(bytes, records: false)
          records ? Native.salvage_compact_records(bytes) : Native.salvage_compact(bytes)
        end

        # The encoder of a segment whose first fact is a {Fact}; one
        # segment's dictionary and deltas live in one place.
        # @param fact [Fact, Object] the segment's first fact
        # @param header [Hash] the segment header (`"fields"` among its keys)
        # @return [NativeCompactEncoder, nil]
        def self.compact_encoder(fact, header)
          return nil unless fact.is_a?(Fact)

          NativeCompactEncoder.new(header["fields"], MessagePack.pack(header))
        end

        # @param attributes [Hash] decoded members, already normalized and frozen
        # @return [Fact]
        def self.fact(attributes)
          Fact.from_h(attributes)
        end
      end
    end
  end
end
