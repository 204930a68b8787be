# frozen_string_literal: true

require "zlib"

module Igniter
  module Store
    module Codecs
      # Splits segment bytes into CRC-valid frames and damaged spans
      # (doc/format.md "Segments: salvage"): after a damaged frame, reading
      # resumes at the next offset where a frame with a plausible length, a
      # matching CRC and a body the codec accepts starts. The Rust half
      # (`ext/ledger_core/src/segment_salvage.rs`) finds the same frames and
      # spans for the same bytes; this one is the pure path's.
      module Salvage
        # Bytes of a frame's length prefix.
        HEADER = WireProtocol::FRAME_HEADER_SIZE
        # Bytes a frame adds to its body (length and CRC).
        OVERHEAD = WireProtocol::FRAME_HEADER_SIZE + WireProtocol::FRAME_CRC_SIZE
        # Largest frame body a reader accepts.
        MAX_LEN = WireProtocol::MAX_FRAME_LEN
        # JSON whitespace bytes (may surround a fact body).
        JSON_SPACE = [0x20, 0x09, 0x0A, 0x0D].freeze
        # First bytes of a MessagePack map (fixmap, map16, map32).
        MAP_MARKERS = ((0x80..0x8F).to_a + [0xDE, 0xDF]).freeze

        # What a codec's salvage found in one segment.
        # - facts: Array<Fact> in file order
        # - frames: Array<[offset, length, fact_count]> of the kept frames
        # - spans: Array<[offset, length, reason Symbol]> of the damaged bytes
        # Together frames and spans cover the bytes exactly, in order.
        Scan = Struct.new(:facts, :frames, :spans)

        module_function

        # @param bytes [String] binary
        # @param resync [#plausible?, #accepts?] the codec's test for the next
        #   frame after damage: `plausible?(bytes, body_offset, body_length)`
        #   (cheap, before the CRC), `accepts?(body)`
        # @return [Array(Array<Array(Integer, Integer, Integer)>, Array<Array>)]
        #   frames as `[offset, length, body_offset]`, spans as
        #   `[offset, length, reason]` (not merged)
        def split(bytes, resync)
          frames = []
          spans = []
          size = bytes.bytesize
          pos = 0
          while pos < size
            len, failure = frame_at(bytes, pos)
            if failure.nil?
              frames << [pos, len + OVERHEAD, pos + HEADER]
              pos += len + OVERHEAD
              next
            end
            stop = resync_from(bytes, pos + 1, resync) || size
            spans << [pos, stop - pos, reason_at(bytes, pos, stop, failure)]
            pos = stop
          end
          [frames, spans]
        end

        # Splits +bytes+ and turns each CRC-valid frame into facts with the
        # block: an Array of facts keeps the frame, nil makes it an
        # `:undecodable` span. Frames are yielded in file order.
        #
        # @yieldparam body [String]
        # @yieldparam offset [Integer] of the frame
        # @yieldparam length [Integer] of the whole frame
        # @yieldreturn [Array<Fact>, nil]
        # @return [Scan]
        def scan(bytes, resync)
          frames, spans = split(bytes, resync)
          result = Scan.new([], [], nil)
          frames.each do |offset, length, body_at|
            facts = yield bytes.byteslice(body_at, length - OVERHEAD), offset, length
            if facts
              result.facts.concat(facts)
              result.frames << [offset, length, facts.size]
            else
              spans << [offset, length, :undecodable]
            end
          end
          result.spans = merge(spans)
          result
        end

        # Sorts spans by offset and joins neighbours that touch and share a
        # reason (a run of zero bytes is many empty frames but one span).
        # @return [Array<Array(Integer, Integer, Symbol)>]
        def merge(spans)
          spans.sort_by(&:first).each_with_object([]) do |(offset, length, reason), out|
            last = out.last
            if last && last[0] + last[1] == offset && last[2] == reason
              last[1] += length
            else
              out << [offset, length, reason]
            end
          end
        end

        # @return [Boolean] the first byte of the body that is not JSON
        #   whitespace opens an object (a necessary condition for a fact body)
        def json_object_start?(bytes, offset, length)
          stop = offset + length
          offset += 1 while offset < stop && JSON_SPACE.include?(bytes.getbyte(offset))
          offset < stop && bytes.getbyte(offset) == 0x7B
        end

        # @return [Boolean] the byte at offset opens a MessagePack map
        def msgpack_map_start?(bytes, offset, length)
          length.positive? && MAP_MARKERS.include?(bytes.getbyte(offset))
        end

        # @return [Boolean] a zlib header that inflating without a preset
        #   dictionary accepts (RFC 1950) starts at offset
        def zlib_header?(bytes, offset, length)
          return false if length < 2

          cmf = bytes.getbyte(offset)
          flg = bytes.getbyte(offset + 1)
          (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0 && (flg & 0x20).zero?
        end

        # The frame at pos: `[body_length, nil]`, or `[nil, failure]` with
        # failure `:torn`, `:oversized` or `:bad_crc`.
        def frame_at(bytes, pos)
          size = bytes.bytesize
          return [nil, :torn] if pos + HEADER > size

          len = bytes.unpack1("N", offset: pos)
          return [nil, :oversized] if len > MAX_LEN
          return [nil, :torn] if pos + OVERHEAD + len > size

          crc = bytes.unpack1("N", offset: pos + HEADER + len)
          crc == Zlib.crc32(bytes.byteslice(pos + HEADER, len)) ? [len, nil] : [nil, :bad_crc]
        end

        # The first offset at or after `from` where a frame the codec accepts starts.
        def resync_from(bytes, from, resync)
          size = bytes.bytesize
          q = from
          while q + OVERHEAD <= size
            len = bytes.unpack1("N", offset: q)
            if len <= MAX_LEN && q + OVERHEAD + len <= size && resync.plausible?(bytes, q + HEADER, len)
              body = bytes.byteslice(q + HEADER, len)
              return q if bytes.unpack1("N", offset: q + HEADER + len) == Zlib.crc32(body) && resync.accepts?(body)
            end
            q += 1
          end
          nil
        end

        # Reason of the damaged span [pos, stop) whose first frame failed.
        def reason_at(bytes, pos, stop, failure)
          return failure if stop == bytes.bytesize

          claimed = bytes.unpack1("N", offset: pos)
          if claimed > MAX_LEN then :oversized
          elsif failure == :bad_crc && pos + claimed + OVERHEAD == stop then :bad_crc
          else :garbage
          end
        end
      end
    end
  end
end
