# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # The accept loop of the op-protocol StoreServer and the envelope
      # TCPAdapter (puma accepts HTTP, with the same {AcceptBursts}): one thread per
      # connection, the connection limit, the drain, and an accept that
      # outlives a shortage of descriptors or memory.
      #
      # accept(2) failing with EMFILE/ENFILE (descriptors), ENOMEM/ENOBUFS
      # (kernel memory) or ECONNABORTED/EPROTO/ECONNRESET (a peer gone
      # before it was accepted) says "not now", not "the listener is gone":
      # the loop waits a growing, bounded time ({Backoff}) and tries again,
      # so clients are served as soon as descriptors are free. A run of such
      # failures (a burst) is logged and reported once, with one line when
      # accepting works again. Only a closed listener ends the loop.
      class AcceptLoop
        # accept(2) errors that pass (see the class comment).
        TRANSIENT_ERRORS = AcceptBursts::TRANSIENT_ERRORS
        # What accept raises on a listener that was closed (by {#stop}).
        CLOSED_ERRORS = [IOError, Errno::EBADF, Errno::EINVAL, Errno::ENOTSOCK].freeze
        # Seconds {#stop} waits for serving threads after closing their sockets.
        JOIN_TIMEOUT = 1

        # @return [Integer] bursts of failed accepts so far (one per run of failures)
        def accept_error_bursts
          @bursts.count
        end

        # @param listener [TCPServer, UNIXServer] bound and listening
        # @param name [String] prefix of the log lines ("TCPAdapter", ...)
        # @param max_connections [Integer, nil] connections served at once; nil = no limit
        # @param refuse [#call, nil] called with (socket, reason) for a socket
        #   not admitted, reason `:full` (over max_connections) or `:draining`,
        #   to tell the peer why; the loop closes the socket afterwards
        # @param on_accept_error [#call, nil] called with the first error of each burst (metrics)
        # @param logger [#warn, #info, nil] e.g. a ServerLogger; nil = silent
        # @param error_label [String] prefix of the line logged for an unexpected connection error
        # @param backoff [Backoff] waits between failed accepts
        def initialize(listener, name:, max_connections: nil, refuse: nil, on_accept_error: nil, logger: nil,
                       error_label: "#{name}: connection error", backoff: Backoff.new)
          @listener = listener
          @name = name
          @max = max_connections
          @refuse = refuse
          @logger = logger
          @error_label = error_label
          @bursts = AcceptBursts.new(name: name, logger: logger, on_error: on_accept_error, backoff: backoff)
          @slots = {}
          @lock = Mutex.new
          @changed = ConditionVariable.new
          @running = @stopped = @draining = false
          @thread = nil
        end

        # Accepts until {#stop} (or until the listener is closed), serving
        # each connection with the block on its own thread. Returns at once
        # when the loop already runs or was stopped.
        # @yieldparam slot [ConnectionSlot] the connection; its socket is
        #   closed when the block returns
        # @return [nil]
        def run(&serve)
          claimed = @lock.synchronize { !@running && !@stopped && (@running = true) }
          return nil unless claimed

          while (socket = accept_next)
            admit(socket, serve)
          end
          nil
        ensure
          if claimed
            @lock.synchronize do
              @running = false
              @changed.broadcast
            end
          end
        end

        # {#run} on a new thread.
        # @return [Thread]
        def start(&serve)
          @lock.synchronize do
            @thread ||= Thread.new { run(&serve) }.tap { |thread| thread.report_on_exception = false }
          end
        end

        # Refuses new connections from now on (handing them to `refuse` with
        # `:draining`) and waits until the open ones have ended.
        # @param timeout [Numeric] seconds to wait at most
        # @param close_idle [Boolean] also close connections as soon as they
        #   sit between requests, instead of waiting for their peers to leave
        # @return [Integer] connections still open after the wait
        def drain(timeout:, close_idle: false)
          @lock.synchronize { @draining = true }
          deadline = Clock.monotonic + timeout
          loop do
            slots = @lock.synchronize { @slots.keys }
            return 0 if slots.empty?
            return slots.size if Clock.left(deadline).zero?

            slots.each(&:close_if_idle) if close_idle
            @lock.synchronize { @changed.wait(@lock, [Clock.left(deadline), 0.02].min) unless @slots.empty? }
          end
        end

        # Stops accepting (closes the listener, which wakes the loop, also
        # from a backoff wait), closes idle connections, lets requests in
        # progress finish for up to +timeout+ seconds, closes what is left,
        # and waits for the serving threads and the loop. Idempotent.
        # @param timeout [Numeric] seconds requests in progress may take
        # @return [Integer] connections that had to be closed mid-request
        def stop(timeout:)
          @lock.synchronize do
            @stopped = @draining = true
            @changed.broadcast
          end
          SocketIO.close_quietly(@listener)
          left = drain(timeout: timeout, close_idle: true)
          pending = @lock.synchronize { @slots.dup }
          pending.each_key(&:force_close)
          Clock.join_all(pending.values.reject { |thread| thread.equal?(Thread.current) }, JOIN_TIMEOUT)
          wait_for_loop(JOIN_TIMEOUT)
          left
        end

        # @return [Integer] connections being served
        def size
          @lock.synchronize { @slots.size }
        end

        # @return [Boolean] new connections are refused ({#drain} or {#stop} ran)
        def draining?
          @lock.synchronize { @draining }
        end

        # @return [Boolean] {#run} is accepting
        def running?
          @lock.synchronize { @running }
        end

        private

        # @return [BasicSocket, nil] nil once the listener is closed
        def accept_next
          loop do
            return nil if stopped?

            begin
              socket = @listener.accept
            rescue *CLOSED_ERRORS
              return nil
            rescue SystemCallError => e
              return nil if stopped?

              accept_failed(e)
              next
            end
            @bursts.succeeded
            return socket
          end
        end

        def stopped?
          @lock.synchronize { @stopped }
        end

        # The first failure of a burst is logged and reported; every one
        # waits a little longer (up to the backoff's bound) before the retry.
        def accept_failed(error)
          pause(@bursts.failed(error))
        end

        # Sleeps, but {#stop} wakes it.
        def pause(seconds)
          @lock.synchronize { @changed.wait(@lock, seconds) unless @stopped }
        end

        def admit(socket, serve)
          slot = ConnectionSlot.new(socket)
          verdict = @lock.synchronize do
            next :draining if @draining
            next :full if @max && @slots.size >= @max

            @slots[slot] = spawn(slot, serve)
            :ok
          end
          refuse(socket, verdict) unless verdict == :ok
        rescue ThreadError => e
          # No thread for it (out of resources): like a failed accept.
          SocketIO.close_quietly(socket)
          accept_failed(e)
        end

        def spawn(slot, serve)
          Thread.new { serve_slot(slot, serve) }.tap { |thread| thread.report_on_exception = false }
        end

        def serve_slot(slot, serve)
          serve.call(slot)
        rescue IOError, SystemCallError
          nil # idle, slow or vanished peer, or a socket closed by a drain
        rescue StandardError => e
          log(:warn, "#{@error_label}: #{e.class}: #{ErrorText.first_line(e)}")
        ensure
          slot.force_close
          @lock.synchronize do
            @slots.delete(slot)
            @changed.broadcast
          end
        end

        def refuse(socket, reason)
          @refuse&.call(socket, reason)
        rescue IOError, SystemCallError
          nil
        rescue StandardError => e
          log(:warn, "#{@name}: refusing a connection: #{e.class}: #{ErrorText.first_line(e)}")
        ensure
          SocketIO.close_quietly(socket)
        end

        def wait_for_loop(timeout)
          thread = @lock.synchronize { @thread }
          return thread.join(timeout) && nil if thread && !thread.equal?(Thread.current)

          deadline = Clock.monotonic + timeout
          @lock.synchronize do
            @changed.wait(@lock, Clock.left(deadline)) while @running && Clock.left(deadline).positive?
          end
          nil
        end

        def log(level, message)
          TransportSupport.log(@logger, level, message)
        end
      end
    end
  end
end
