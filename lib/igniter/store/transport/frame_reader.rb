# frozen_string_literal: true

require "zlib"

module Igniter
  module Store
    module Transport
      # Reads {WireProtocol} frames from one socket with a server's limits:
      # a frame may start after at most `idle` seconds, must then arrive
      # within `timeout`, and its length header must not exceed `max_bytes`
      # (checked before anything of that size is read or allocated).
      #
      # Returns a {Result}; never raises for bad data or slow peers. IO
      # errors (reset, closed by the server) propagate.
      class FrameReader
        # kind: :frame (body set), :eof, :torn (EOF inside a frame), :bad_crc,
        # :too_large (length set), :idle_timeout or :read_timeout.
        Result = Struct.new(:kind, :body, :length)

        # Bytes of a frame's length prefix.
        HEADER = WireProtocol::FRAME_HEADER_SIZE
        # Bytes of a frame's CRC.
        CRC = WireProtocol::FRAME_CRC_SIZE

        # @param io [BasicSocket]
        # @param max_bytes [Integer] largest body accepted
        # @param timeout [Numeric, nil] seconds for a started frame; nil = no limit
        # @param per_part [Boolean] give the header, the body and the CRC
        #   `timeout` each (envelope TCP) instead of one budget for the whole
        #   frame (op protocol)
        def initialize(io, max_bytes:, timeout:, per_part: false)
          @reader = TimedReader.new(io)
          @max_bytes = max_bytes
          @timeout = timeout
          @per_part = per_part
        end

        # @param idle [Numeric, nil] seconds before the frame must start; nil = no limit
        # @return [Result]
        def read(idle:)
          started = begin
            @reader.wait_for_data(idle)
          rescue TimedReader::Timeout
            return Result.new(:idle_timeout)
          end
          return Result.new(:eof) unless started

          read_started
        rescue TimedReader::Timeout
          Result.new(:read_timeout)
        end

        private

        # At least one byte is buffered, so an EOF from here on is a torn frame.
        def read_started
          deadline = Clock.deadline(@timeout)
          header = @reader.read_exact_by(HEADER, deadline)
          return Result.new(:torn) if header.nil?

          length = header.unpack1("N")
          return Result.new(:too_large, nil, length) if length > @max_bytes

          body = @reader.read_exact_by(length, part_deadline(deadline))
          crc = body && @reader.read_exact_by(CRC, part_deadline(deadline))
          return Result.new(:torn) if crc.nil?
          return Result.new(:bad_crc) unless crc.unpack1("N") == Zlib.crc32(body)

          Result.new(:frame, body)
        end

        def part_deadline(frame_deadline)
          @per_part ? Clock.deadline(@timeout) : frame_deadline
        end
      end
    end
  end
end
