# frozen_string_literal: true

require_relative "wire_protocol"
require_relative "../core/json_canon"
require_relative "codecs/message_pack"
require_relative "codecs/salvage"
require_relative "codecs/json_crc32"
require_relative "codecs/compact_delta"
require_relative "codecs/compact_salvage"

module Igniter
  module Store
    # Segment codecs of {SegmentedFileBackend} (doc/format.md "Segment codecs"). A codec instance
    # is stateful and serves one segment.
    module Codecs
      # Codec names accepted in `codec:` => canonical codec name.
      ALIASES = {
        json_crc32: JsonCrc32,
        compact_delta: CompactDelta,
        compact_delta_zlib: CompactDelta
      }.freeze

      class << self
        # @param name [Symbol, String] `:json_crc32`, `:compact_delta` or `:compact_delta_zlib`
        # @return [JsonCrc32, CompactDelta] a fresh instance
        # @raise [ArgumentError] "Unknown codec: :name"
        def build(name)
          klass(name).new
        end

        # @return [Class] the codec class for a name
        # @raise [ArgumentError] "Unknown codec: :name"
        def klass(name)
          key = name.respond_to?(:to_sym) ? name.to_sym : name
          ALIASES.fetch(key) { raise ArgumentError, "Unknown codec: #{name.inspect}" }
        end

        # The codec that wrote a segment, from its bytes: the first CRC-valid
        # frame (after any damage) whose body opens a JSON object is json; one
        # that opens a MessagePack map (a compact header) or holds a zlib
        # stream after its 4-byte count (a compact batch) is compact. The two
        # never look alike: a JSON body starts with `{`, a fixint in MessagePack.
        #
        # @param bytes [String] binary segment bytes
        # @return [String, nil] canonical codec name; nil when no frame says
        def detect(bytes)
          size = bytes.bytesize
          q = 0
          while q + Salvage::OVERHEAD <= size
            len = bytes.unpack1("N", offset: q)
            if len <= Salvage::MAX_LEN && q + Salvage::OVERHEAD + len <= size
              name = body_codec(bytes, q + Salvage::HEADER, len)
              return name if name && Salvage.frame_at(bytes, q).last.nil?
            end
            q += 1
          end
          nil
        end

        # @param name [String, Symbol] codec of the segment
        # @param bytes [String] the whole segment
        # @param records [Boolean] on the native path, the scan's facts as
        #   one {NativeRecords} (the records a native FactLog appends as they
        #   are, doc/performance.md "Segmented open") instead of an Array of
        #   facts; a segment only the Ruby decoder reads still gives an Array
        # @return [Salvage::Scan]
        def salvage(name, bytes, records: false)
          klass(name).salvage(bytes, records: records)
        end

        # A Fact from decoded members (the output of
        # {JsonCanon.decode_fact_body}, already normalized and frozen), as
        # the path's {Accelerator} builds it.
        # @return [Fact]
        def fact(attributes)
          Accelerator.fact(attributes)
        end

        # The bytes of `io` from its position on, for the salvage functions; a
        # StringIO at its start hands over its String without a copy.
        # @param io [IO, StringIO]
        # @return [String]
        def rest(io)
          return io.string if io.is_a?(StringIO) && io.pos.zero?

          io.read || +""
        end

        private

        def body_codec(bytes, offset, length)
          if Salvage.json_object_start?(bytes, offset, length) then JsonCrc32::NAME
          elsif Salvage.msgpack_map_start?(bytes, offset, length) ||
                (length >= 6 && Salvage.zlib_header?(bytes, offset + 4, length - 4))
            CompactDelta::NAME
          end
        end
      end
    end
  end
end
