# frozen_string_literal: true

require "io/wait"

module Igniter
  module Store
    # Buffered reads from a socket with deadlines, so a silent or trickling
    # peer (slowloris) cannot hold a server thread forever. Used by the
    # TCPAdapter frame reader and the built-in HTTP server.
    class TimedReader
      # No byte within the allowed time.
      class Timeout < IOError; end
      # A line longer than the caller's limit.
      class LineTooLong < IOError; end

      CHUNK = 16 * 1024

      # @param io [IO] a socket
      def initialize(io)
        @io = io
        @buffer = +"".b
      end

      # @return [Boolean] bytes are buffered already
      def buffered?
        !@buffer.empty?
      end

      # Waits up to +timeout+ seconds for the first byte.
      # @return [Boolean] false on EOF
      # @raise [Timeout]
      def wait_for_data(timeout)
        return true if buffered?

        fill(deadline(timeout))
      end

      # @param count [Integer]
      # @param timeout [Numeric] for the whole read
      # @return [String, nil] exactly +count+ bytes; nil when EOF comes first
      # @raise [Timeout]
      def read_exact(count, timeout)
        limit = deadline(timeout)
        while @buffer.bytesize < count
          return nil unless fill(limit)
        end
        @buffer.slice!(0, count)
      end

      # @param max [Integer] longest accepted line, terminator included
      # @param timeout [Numeric]
      # @return [String, nil] the line without CRLF/LF; nil on EOF
      # @raise [Timeout, LineTooLong]
      def read_line(max, timeout)
        limit = deadline(timeout)
        loop do
          index = @buffer.index("\n")
          if index
            raise LineTooLong, "line exceeds #{max} bytes" if index + 1 > max

            return @buffer.slice!(0, index + 1).chomp
          end
          raise LineTooLong, "line exceeds #{max} bytes" if @buffer.bytesize > max
          return nil unless fill(limit)
        end
      end

      private

      def deadline(timeout)
        Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      end

      # @return [Boolean] false on EOF
      def fill(limit)
        loop do
          chunk = @io.read_nonblock(CHUNK, exception: false)
          case chunk
          when nil then return false
          when :wait_readable
            left = limit - Process.clock_gettime(Process::CLOCK_MONOTONIC)
            raise Timeout, "read timed out" if left <= 0 || !@io.wait_readable(left)
          else
            @buffer << chunk
            return true
          end
        end
      end
    end
  end
end
