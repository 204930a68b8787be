# frozen_string_literal: true

require "zlib"
require_relative "window"

module Igniter
  module Store
    module Recovery
      # The salvage scanner (doc/format.md "Recovery"): walks a WAL or snapshot frame
      # by frame and, on damage, resynchronizes on the next valid frame, so a damaged
      # span costs only its own bytes. Byte for byte the algorithm of the Rust
      # scanner (`ext/ledger_core/src/salvage.rs`): it decides which bytes are facts.
      class Scanner
        # Bytes of a frame's length prefix.
        HEADER = 4
        # Bytes a frame adds to its body (length and CRC).
        OVERHEAD = 8
        # Smallest body that could decode as a fact (`{}`).
        MIN_BODY = 2
        # A resync refills its window when fewer bytes than this are left in it.
        RESYNC_STEP = 1 << 16
        # Bytes a fact body may start with (`{` or JSON whitespace).
        OPENS = [0x7B, 0x20, 0x09, 0x0A, 0x0D].freeze
        # Bytes a fact body may end with (`}` or JSON whitespace).
        CLOSES = [0x7D, 0x20, 0x09, 0x0A, 0x0D].freeze

        # `count` consecutive sound frames (kind :frames) or a damaged span (:damage).
        Segment = Struct.new(:kind, :offset, :length, :count, :reason)

        # A whole file's scan: its size, its segments in order, and whether a frame
        # with a matching CRC starts at offset 0.
        Scan = Struct.new(:size, :segments, :frame_at_zero) do
          # @return [Array<Segment>] the damaged spans
          def damage
            segments.select { |s| s.kind == :damage }
          end

          # @return [Boolean] whether any sound frame was found
          def frames?
            segments.any? { |s| s.kind == :frames }
          end
        end

        # @param window [Window]
        # @param decodes [#call] body → truthy when it decodes as a fact (resync targets)
        def initialize(window, decodes)
          @window = window
          @decodes = decodes
        end

        # Scans the whole window. The block judges each sound frame (its offset and
        # body): :keep, :undecodable (a damage span of exactly that frame) or
        # :header (the snapshot header at offset 0: neither).
        #
        # @yieldparam offset [Integer]
        # @yieldparam body [String]
        # @return [Scan]
        def scan
          size = @window.size
          out = Scan.new(size, [], false)
          pos = 0
          while pos < size
            body = frame_body(pos)
            unless body.is_a?(String)
              following = resync(pos + 1)
              out.segments << Segment.new(:damage, pos, following - pos, 0, classify(body, following, size))
              pos = following
              next
            end

            out.frame_at_zero = true if pos.zero?
            frame_size = body.bytesize + OVERHEAD
            case yield(pos, body)
            when :keep then push_frames(out.segments, pos, frame_size)
            when :undecodable then out.segments << Segment.new(:damage, pos, frame_size, 0, :undecodable)
            end
            pos += frame_size
          end
          out
        end

        # @return [Integer] the smallest offset >= +from+ where a valid frame starts
        #   (plausible length that fits, matching CRC, a body that decodes as a fact),
        #   or the size
        def resync(from)
          size = @window.size
          q = from
          while q + MIN_BODY + OVERHEAD <= size
            at, go_on = @window.candidate(q, [size - q, RESYNC_STEP].min)
            if at.nil?
              q = go_on
            elsif valid_frame_at?(at)
              return at
            else
              q = at + 1
            end
          end
          size
        end

        # The not-a-ledger rule (doc/format.md): empty, a sound frame at offset 0, a
        # valid frame anywhere, one torn first frame, or only zero bytes (a
        # preallocated WAL, or one whose first writes a crash left as zeros).
        #
        # @return [Boolean]
        def ledger?
          size = @window.size
          return true if size.zero?
          return true if torn_first_frame?(@window.bytes(0, [HEADER + 1, size].min), size)
          return true if frame_body(0).is_a?(String)
          return true if resync(1) < size

          all_zero?
        end

        private

        # The body of the sound frame at +pos+ (a String), else the failure:
        # :incomplete, :oversized, :implausible (a length below MIN_BODY: no fact
        # fits, so a run of zero bytes — empty frames whose CRC matches — is one
        # damage span) or the end offset of a complete frame whose CRC fails.
        def frame_body(pos)
          left = @window.size - pos
          return :incomplete if left < HEADER

          body_len = @window.u32(pos)
          return :oversized if body_len > WireProtocol::MAX_FRAME_LEN
          return :implausible if body_len < MIN_BODY
          return :incomplete if body_len + OVERHEAD > left

          crc_checked_body(pos, body_len) || (pos + body_len + OVERHEAD)
        end

        # The body of the frame at +at+ if its CRC matches, else nil: one slice
        # of the window, checked and then handed on (a scan reads each body once).
        def crc_checked_body(at, body_len)
          body = @window.bytes(at + HEADER, body_len)
          body if @window.u32(at + HEADER + body_len) == Zlib.crc32(body)
        end

        # The reason of a damage span pos...following that began with +failure+.
        def classify(failure, following, size)
          return :bad_crc if failure == following
          return :garbage if following < size

          case failure
          when :incomplete then :torn
          when :oversized then :oversized
          else :garbage
          end
        end

        def all_zero?
          pos = 0
          size = @window.size
          while pos < size
            n = [size - pos, Window::CHUNK].min
            return false if @window.bytes(pos, n).match?(/[^\x00]/n)

            pos += n
          end
          true
        end

        def push_frames(segments, pos, frame_size)
          last = segments.last
          if last && last.kind == :frames && last.offset + last.length == pos
            last.length += frame_size
            last.count += 1
          else
            segments << Segment.new(:frames, pos, frame_size, 1, nil)
          end
        end

        def valid_frame_at?(at)
          body_len = @window.u32(at)
          return false unless body_len.between?(MIN_BODY, WireProtocol::MAX_FRAME_LEN)
          return false if at + OVERHEAD + body_len > @window.size
          return false unless OPENS.include?(@window.byte_at(at + HEADER))
          return false unless CLOSES.include?(@window.byte_at(at + HEADER + body_len - 1))
          body = crc_checked_body(at, body_len) or return false

          @decodes.call(body) ? true : false
        end

        def torn_first_frame?(first, size)
          return first.getbyte(0) <= 3 if first.bytesize < HEADER

          body_len = first.unpack1("N")
          body_len <= WireProtocol::MAX_FRAME_LEN && body_len + OVERHEAD > size &&
            (first.bytesize == HEADER || first.getbyte(HEADER) == 0x7B)
        end
      end
    end
  end
end
