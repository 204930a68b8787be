# frozen_string_literal: true

require "io/wait"

module Igniter
  module Store
    # Buffered reads from a socket (plain or TLS) with deadlines, so a
    # silent or trickling peer (slowloris) cannot hold a server thread
    # forever. Used by the frame reader of the op server and the TCPAdapter.
    class TimedReader
      # No byte within the allowed time.
      class Timeout < IOError; end

      # Bytes read per call.
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
      # @param timeout [Numeric, nil] nil = no limit
      # @return [Boolean] false on EOF
      # @raise [Timeout]
      def wait_for_data(timeout)
        return true if buffered?

        fill(Transport::Clock.deadline(timeout))
      end

      # Reads exactly +count+ bytes before +deadline+ (several reads may share one budget).
      # @param count [Integer]
      # @param deadline [Float, nil] from {Transport::Clock.deadline}; nil = no limit
      # @return [String, nil] exactly +count+ bytes; nil when EOF comes first
      # @raise [Timeout]
      def read_exact_by(count, deadline)
        while @buffer.bytesize < count
          return nil unless fill(deadline)
        end
        @buffer.slice!(0, count)
      end

      private

      # @return [Boolean] false on EOF
      def fill(limit)
        loop do
          chunk = @io.read_nonblock(CHUNK, exception: false)
          case chunk
          when nil then return false
          when :wait_readable then wait_readable(limit)
          when :wait_writable then wait_writable(limit) # TLS renegotiation
          else
            @buffer << chunk
            return true
          end
        end
      rescue OpenSSL::SSL::SSLError
        false # a TLS peer gone without close_notify is gone all the same
      end

      # A TLS socket waits on its TCP socket; {#fill} always reads what TLS
      # has decrypted already before it comes here.
      def wait_readable(limit)
        return @io.to_io.wait_readable if limit.nil?

        left = limit - Transport::Clock.monotonic
        raise Timeout, "read timed out" if left <= 0 || !@io.to_io.wait_readable(left)
      end

      def wait_writable(limit)
        left = limit && limit - Transport::Clock.monotonic
        raise Timeout, "read timed out" if (left && left <= 0) || !@io.to_io.wait_writable(left)
      end
    end
  end
end
