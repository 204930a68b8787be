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

        # @return [TCPSocket]
        # @raise [IO::WaitReadable] nothing to accept (also after a transient failure)
        def accept_nonblock(*args, **opts)
          socket = super
          @bursts&.succeeded
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
      end
    end
  end
end
