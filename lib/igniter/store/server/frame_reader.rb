# frozen_string_literal: true

require "zlib"
require "io/wait"

module Igniter
  module Store
    module Server
      # Reads one op-protocol frame from a socket with the server's limits:
      # a frame may start after at most `idle_timeout` seconds, must then
      # arrive completely within `read_timeout`, and its length header must
      # not exceed `max_bytes` (checked before anything is allocated).
      #
      # Returns a {Result}; never raises for bad data or slow peers. IO
      # errors (reset, closed by the server) propagate.
      class FrameReader
        # kind: :frame (body set), :eof, :torn (EOF inside a frame), :bad_crc, :too_large (length set),
        # :idle_timeout or :read_timeout.
        Result = Struct.new(:kind, :body, :length)

        HEADER = WireProtocol::FRAME_HEADER_SIZE
        CRC = WireProtocol::FRAME_CRC_SIZE
        # Bytes requested per read, so a large announced length is never
        # allocated before the peer actually sends it.
        CHUNK = 64 * 1024

        # @param max_bytes [Integer] largest body accepted
        # @param read_timeout [Numeric, nil] seconds for a started frame; nil = no limit
        # @param idle_timeout [Numeric, nil] seconds before a frame must start; nil = no limit
        def initialize(max_bytes:, read_timeout:, idle_timeout:)
          @max_bytes = max_bytes
          @read_timeout = read_timeout
          @idle_timeout = idle_timeout
        end

        # @param io [BasicSocket]
        # @param idle [Boolean] apply the idle timeout (off in subscription mode)
        # @return [Result]
        def read(io, idle: true)
          return Result.new(:idle_timeout) unless wait(io, idle ? @idle_timeout : nil)

          deadline = @read_timeout && (monotonic + @read_timeout)
          header = read_exact(io, HEADER, deadline, first: true)
          return header if header.is_a?(Result)

          length = header.unpack1("N")
          return Result.new(:too_large, nil, length) if length > @max_bytes

          rest = read_exact(io, length + CRC, deadline)
          return rest if rest.is_a?(Result)

          body = rest.byteslice(0, length)
          return Result.new(:bad_crc) unless rest.byteslice(length, CRC).unpack1("N") == Zlib.crc32(body)

          Result.new(:frame, body)
        end

        private

        # A clean EOF before the first byte is :eof; an EOF inside a frame is
        # a torn frame.
        def read_exact(io, size, deadline, first: false)
          buf = String.new(encoding: Encoding::BINARY)
          while buf.bytesize < size
            return Result.new(:read_timeout) unless wait(io, deadline && [deadline - monotonic, 0].max)

            chunk = io.read_nonblock([size - buf.bytesize, CHUNK].min, exception: false)
            case chunk
            when :wait_readable then next
            when nil then return Result.new(first && buf.empty? ? :eof : :torn)
            else buf << chunk
            end
          end
          buf
        end

        def wait(io, timeout)
          return true if timeout.nil? && io.wait_readable
          return true if timeout && io.wait_readable(timeout)

          false
        end

        def monotonic
          Process.clock_gettime(Process::CLOCK_MONOTONIC)
        end
      end
    end
  end
end
