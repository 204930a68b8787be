# frozen_string_literal: true

require "zlib"
require "stringio"

module Igniter
  module Store
    # Length-prefixed, CRC-checked frames (doc/format.md "Frame"):
    # `[u32 BE length][body][u32 BE CRC-32 of body]`.
    #
    # Include it for the instance methods {#encode_frame} / {#read_frame};
    # the same operations plus {.scan} and {.each_frame} are module methods.
    module WireProtocol
      # Bytes of a frame's length prefix (doc/format.md "Frame").
      FRAME_HEADER_SIZE = 4
      # Bytes of a frame's CRC-32 (doc/format.md "Frame").
      FRAME_CRC_SIZE = 4
      # Longest body a reader accepts; a bigger length prefix is damage (or
      # an attempt to make the reader allocate gigabytes).
      MAX_FRAME_LEN = 64 * 1024 * 1024

      # @param body [String]
      # @return [String] binary frame
      # @raise [ArgumentError] body longer than {MAX_FRAME_LEN}
      def encode_frame(body)
        WireProtocol.encode_frame(body)
      end

      # @param io [IO, StringIO]
      # @return [String, nil] binary body; nil for EOF, a short, corrupt or oversized frame
      def read_frame(io)
        WireProtocol.read_frame(io)
      end

      class << self
        # (see WireProtocol#encode_frame)
        def encode_frame(body)
          size = body.bytesize
          # Refused here because a reader would treat the frame, and all later
          # frames, as a damaged tail.
          raise ArgumentError, "frame body of #{size} bytes exceeds #{MAX_FRAME_LEN}" if size > MAX_FRAME_LEN

          [size, body, Zlib.crc32(body)].pack("Na*N")
        end

        # (see WireProtocol#read_frame)
        # Never raises for bad data; IO errors propagate.
        def read_frame(io)
          body = nil
          each_frame(io, remaining(io), limit: 1) { |b| body = b }
          body
        end

        # Splits a byte String into frames.
        #
        # @param bytes [String]
        # @return [Array(Array<String>, Integer, Symbol)] bodies, the length of
        #   the good prefix, and how the bytes end: `:clean`, `:torn`
        #   (incomplete frame), `:bad_crc` or `:oversized` (length > {MAX_FRAME_LEN})
        def scan(bytes)
          bodies = []
          valid, tail = each_frame(StringIO.new(bytes.b), bytes.bytesize) { |body| bodies << body }
          [bodies, valid, tail]
        end

        # Streams the frames of `io` from its current position, stopping at
        # the first damaged one.
        #
        # @param io [IO, StringIO]
        # @param available [Integer, nil] bytes left in `io`, when known: a
        #   length prefix beyond it is a torn frame, not an allocation
        # @param limit [Integer, nil] stop after this many frames
        # @yieldparam body [String] binary body
        # @return [Array(Integer, Symbol)] bytes consumed by good frames, and
        #   the tail kind (see {.scan}); `:clean` also when `limit` stopped it
        def each_frame(io, available = nil, limit: nil)
          consumed = 0
          count = 0
          loop do
            return [consumed, :clean] if limit && count >= limit

            header = io.read(FRAME_HEADER_SIZE)
            return [consumed, :clean] if header.nil? || header.empty?
            return [consumed, :torn] if header.bytesize < FRAME_HEADER_SIZE

            length = header.unpack1("N")
            return [consumed, :oversized] if length > MAX_FRAME_LEN
            if available && length + FRAME_HEADER_SIZE + FRAME_CRC_SIZE > available - consumed
              return [consumed, :torn]
            end

            body = io.read(length) || +""
            return [consumed, :torn] if body.bytesize < length

            crc = io.read(FRAME_CRC_SIZE)
            return [consumed, :torn] if crc.nil? || crc.bytesize < FRAME_CRC_SIZE
            return [consumed, :bad_crc] unless crc.unpack1("N") == Zlib.crc32(body)

            consumed += length + FRAME_HEADER_SIZE + FRAME_CRC_SIZE
            count += 1
            yield body.force_encoding(Encoding::BINARY)
          end
        end

        private

        # Bytes left in a seekable, sized stream; nil for pipes and sockets.
        def remaining(io)
          return nil unless io.is_a?(File) || io.is_a?(StringIO)

          io.size - io.pos
        rescue IOError, SystemCallError
          nil
        end
      end
    end
  end
end
