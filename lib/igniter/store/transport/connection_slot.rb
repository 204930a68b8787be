# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # One accepted connection as {AcceptLoop} tracks it: the socket and
      # whether a request is being handled. A drain closes idle slots at
      # once and lets busy ones finish; a request that arrives on a slot
      # already closing is not started.
      class ConnectionSlot
        # @return [BasicSocket]
        attr_reader :socket

        # @param socket [BasicSocket]
        def initialize(socket)
          @socket = socket
          @lock = Mutex.new
          @busy = false
          @closing = false
        end

        # Runs the block as one request: while it runs a drain waits for it.
        # @yieldreturn [Object] ignored
        # @return [Boolean] false when the slot is closing (the block did not run)
        def busy
          return false unless @lock.synchronize { !@closing && (@busy = true) }

          begin
            yield
          ensure
            @lock.synchronize { @busy = false }
          end
          true
        end

        # Marks the running request as a long wait a drain may cut (a push
        # subscriber waiting for its `close`).
        # @return [nil]
        def idle!
          @lock.synchronize { @busy = false }
          nil
        end

        # @return [Boolean] the slot was closed or is being closed
        def closing?
          @lock.synchronize { @closing }
        end

        # Closes the socket unless a request is being handled.
        # @return [Boolean] whether it was closed
        def close_if_idle
          return false unless @lock.synchronize { !@busy && (@closing = true) }

          SocketIO.close_quietly(@socket)
          true
        end

        # Closes the socket whatever it is doing; the serving thread then
        # fails on its next read or write and ends.
        # @return [nil]
        def force_close
          @lock.synchronize { @closing = true }
          SocketIO.close_quietly(@socket)
        end
      end
    end
  end
end
