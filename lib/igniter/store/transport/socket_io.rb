# frozen_string_literal: true

require "socket"
require "io/wait"

module Igniter
  module Store
    module Transport
      # Socket chores every server and client repeats: closing without
      # caring whether the peer is gone, naming the peer, TCP_NODELAY, and
      # writes that a peer which stops reading cannot block forever.
      module SocketIO
        # The peer did not take the data in time (an IOError, so it ends a
        # connection like any broken socket).
        class WriteTimeout < IOError; end

        module_function

        # Closes +io+ (nil, already closed or broken is fine).
        # @param io [IO, nil]
        # @return [nil]
        def close_quietly(io)
          io&.close
          nil
        rescue IOError, SystemCallError
          nil
        end

        # @param socket [BasicSocket]
        # @return [String] peer IP, or "unknown" (unix peers, closed sockets)
        def peer_ip(socket)
          addr = socket.to_io.remote_address
          addr.ip? ? addr.ip_address : "unknown"
        rescue StandardError
          "unknown"
        end

        # Sets TCP_NODELAY where it applies (request/response traffic of
        # small frames); a unix or closed socket is left as it is.
        # @param socket [BasicSocket]
        # @return [nil]
        def nodelay(socket)
          socket.to_io.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
          nil
        rescue SystemCallError, IOError, NoMethodError
          nil
        end

        # Writes all of +data+ or raises.
        # @param io [IO]
        # @param data [String]
        # @param timeout [Numeric, nil] nil = a plain blocking write
        # @param per_wait [Boolean] false: +timeout+ bounds the whole write;
        #   true: it bounds each wait for the peer to read (a slow but
        #   progressing peer may take longer overall)
        # @return [nil]
        # @raise [WriteTimeout] on timeout; SystemCallError when the peer is gone
        def write_all(io, data, timeout, per_wait: false)
          if timeout.nil?
            io.write(data)
            return nil
          end

          rest = data.b
          deadline = Clock.monotonic + timeout
          until rest.empty?
            written = io.write_nonblock(rest, exception: false)
            case written
            when :wait_writable, :wait_readable # (a TLS socket may need to read first)
              wait_for(io, written, per_wait ? timeout : deadline - Clock.monotonic, per_wait)
            else rest = rest.byteslice(written..)
            end
          end
          nil
        end

        # @api private
        def wait_for(io, readiness, left, per_wait)
          raw = io.to_io # a TLS socket waits on its TCP socket
          ready = (per_wait || left.positive?) &&
                  (readiness == :wait_readable ? raw.wait_readable(left) : raw.wait_writable(left))
          return if ready

          raise WriteTimeout, per_wait ? "peer did not read for #{left}s" : "write timed out"
        end
      end
    end
  end
end
