# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Streaming body of `GET /v1/events` (Server-Sent Events).
      #
      # No gap between catch-up and live: {#open} subscribes to the buffer
      # *before* the catch-up replay, and the subscription only wakes the
      # stream up; every event (catch-up or live) is then read from the
      # buffer's ring by cursor, so each sequence is sent exactly once, in
      # order, and a burst larger than the subscriber queue loses nothing.
      # A client so slow that the ring evicts events it has not read yet is
      # disconnected; reconnecting with its Last-Event-ID then gives 409.
      class SseBody
        # Wakes a waiting {#each}: set by the subscription and by {#close}.
        SSE_SENTINEL = :sse_wakeup
        # Comment frame sent after a quiet interval, so dead peers are found.
        HEARTBEAT = ": keepalive\n\n"
        # Seconds of silence after which a comment line keeps the stream open.
        DEFAULT_HEARTBEAT_INTERVAL = 15.0
        # Events read from the ring per replay call while live.
        PAGE_SIZE = 500
        # SSE `event:` of a committed fact.
        EVENT_NAME = "fact_committed"

        # @param buffer [ChangefeedBuffer]
        # @param stores [Array<String>, nil] nil = every store
        # @param heartbeat_interval [Numeric] seconds of silence before a keepalive comment
        # @param on_close [#call, nil] called once with the body when it closes
        def initialize(buffer, stores: nil, heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL, on_close: nil)
          @buffer = buffer
          @stores = stores
          @heartbeat_interval = heartbeat_interval
          @on_close = on_close
          @lock = Mutex.new
          @wakeup = ConditionVariable.new
          @signal = nil
          @closed = false
          @pending = []
          @cursor = nil
          @sent_sequence = nil
          @subscription = nil
        end

        # Subscribes, then replays what the ring holds after +cursor+.
        # @param cursor [Hash, nil] `{sequence: n}`; nil = everything retained
        # @return [Hash] the buffer's replay result (`status` :ok or :cursor_too_old)
        def open(cursor)
          @subscription = @buffer.subscribe(stores: @stores || []) { |_event| wake(SSE_SENTINEL) }
          result = @buffer.replay(cursor: cursor, stores: @stores)
          if result[:status] == :ok
            @pending = result[:events]
            # An empty ring has never held an event: live starts at sequence 1.
            @cursor = result[:cursor] || { sequence: 0 }
          else
            close
          end
          result
        end

        # Yields one SSE frame per event (retained first, then live) until
        # {#close}, a write error, or eviction overtaking a slow reader.
        # @yieldparam chunk [String]
        def each
          return if closed?

          @pending.each { |event| yield frame(event) }
          @pending = []
          until closed?
            if wait_for_signal
              drain { |chunk| yield chunk }
            elsif !closed?
              yield HEARTBEAT
            end
          end
        rescue IOError, SystemCallError
          nil # peer gone
        ensure
          close
        end

        # Ends the stream from any thread; the subscription is released
        # before this returns. Safe before {#each} and more than once.
        def close
          first = @lock.synchronize do
            was_open = !@closed
            @closed = true
            @signal = SSE_SENTINEL
            @wakeup.broadcast
            was_open
          end
          return unless first

          @subscription&.close(timeout: 1)
          @on_close&.call(self)
          nil
        end

        # @return [Integer] ring sequence of the last event sent (0 before
        #   any; events read from the log after a restart have none)
        def sequence
          cursor, sent = @lock.synchronize { [@cursor, @sent_sequence] }
          return sent if sent
          return cursor[:sequence] if cursor.is_a?(Hash) && cursor[:sequence].is_a?(Integer)

          0
        end

        # @return [Boolean]
        def closed?
          @lock.synchronize { @closed }
        end

        private

        def wake(token)
          @lock.synchronize do
            @signal = token
            @wakeup.signal
          end
        end

        # @return [Boolean] true when woken (event or close), false after a quiet interval
        def wait_for_signal
          deadline = Transport::Clock.monotonic + @heartbeat_interval
          @lock.synchronize do
            while @signal.nil? && !@closed
              left = deadline - Transport::Clock.monotonic
              break if left <= 0

              @wakeup.wait(@lock, left)
            end
            woken = !@signal.nil?
            @signal = nil
            woken
          end
        end

        def drain
          loop do
            return if closed?

            result = @buffer.replay(cursor: @cursor, stores: @stores, limit: PAGE_SIZE)
            return close unless result[:status] == :ok

            result[:events].each { |event| yield frame(event) }
            @cursor = result[:cursor] if result[:cursor]
            return if result[:events].size < PAGE_SIZE
          end
        end

        def frame(event)
          ring = event.respond_to?(:ring_sequence) ? event.ring_sequence : nil
          @lock.synchronize { @sent_sequence = ring } if ring
          "id: #{event.sequence}\nevent: #{EVENT_NAME}\ndata: #{JSON.generate(event.to_h)}\n\n"
        end
      end
    end
  end
end
