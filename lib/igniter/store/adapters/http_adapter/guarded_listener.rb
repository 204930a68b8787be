# frozen_string_literal: true

require "socket"

module Igniter
  module Store
    class HTTPAdapter
      # The listening socket puma accepts from. Puma's accept loop retries
      # a failed accept(2) at once, so a process out of descriptors (EMFILE)
      # would spin and log every attempt; this TCPServer runs the same
      # burst bookkeeping as {Transport::AcceptLoop} instead: the failure is
      # logged once, the retry waits a growing, bounded time
      # ({Transport::Backoff}), and one line says when accepting works again.
      # To puma a failed accept then looks like "nothing to accept yet".
      class GuardedListener < TCPServer
        # @return [Transport::AcceptBursts, nil] the bookkeeping of failed accepts (nil = plain accepts)
        attr_writer :bursts

        # Prune the accepted sockets once this many are tracked.
        PRUNE_AT = 64

        # @return [TCPSocket]
        # @raise [IO::WaitReadable] nothing to accept (also after a transient failure)
        def accept_nonblock(*args, **opts)
          socket = super
          @bursts&.succeeded
          track(socket)
          socket
        rescue IO::WaitReadable
          raise
        rescue *Transport::AcceptLoop::CLOSED_ERRORS
          raise
        rescue SystemCallError => e
          raise unless @bursts

          sleep(@bursts.failed(e))
          raise IO::EAGAINWaitReadable, "accept retried after #{e.class}"
        end

        # Connections accepted here that are still open: puma closes the
        # socket it was handed (keep-alive or not), so a socket's `closed?`
        # says whether its connection still counts. Puma itself reports
        # threads and a backlog, not connections.
        # @return [Integer]
        def open_connections
          tracked { |open| open.reject!(&:closed?) || open }.size
        end

        private

        def track(socket)
          tracked do |open|
            if open.size >= @prune_at.to_i
              open.reject!(&:closed?)
              @prune_at = [PRUNE_AT, open.size * 2].max
            end
            open << socket
          end
        end

        def tracked
          # Lazily: TCPServer.new does not run a Ruby initialize we could extend.
          @open_lock ||= Mutex.new
          @open_lock.synchronize { yield(@open ||= []) }
        end
      end
    end
  end
end
