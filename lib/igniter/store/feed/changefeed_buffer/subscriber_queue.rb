# frozen_string_literal: true

module Igniter
  module Store
    class ChangefeedBuffer
      # Bounded FIFO between the emitting thread and one subscriber's worker.
      # `push` never blocks: when full, the overflow policy decides which
      # event is lost (and `push` reports it), so a slow subscriber can
      # never stall writers.
      class SubscriberQueue
        # @return [Integer] capacity
        attr_reader :max_size
        # @return [Symbol] :drop_oldest or :drop_newest
        attr_reader :overflow

        # @param max_size [Integer] capacity (> 0)
        # @param overflow [Symbol] :drop_oldest (evict the head) or :drop_newest (refuse the incoming event)
        def initialize(max_size:, overflow: :drop_oldest)
          @max_size = max_size
          @overflow = overflow
          @items = []
          @closed = false
          @mutex = Mutex.new
          @ready = ConditionVariable.new
        end

        # @return [Boolean] true iff an event was dropped because the queue was full
        #   (false for a closed queue, which ignores the event)
        def push(event)
          @mutex.synchronize do
            return false if @closed

            dropped = @items.size >= @max_size
            if !dropped
              @items << event
            elsif @overflow == :drop_oldest
              @items.shift
              @items << event
            end
            @ready.signal
            dropped
          end
        end

        # Blocks until an event is queued or the queue is closed.
        # @return [ChangeEvent, nil] the head, or nil once closed and empty
        def pop
          @mutex.synchronize do
            @ready.wait(@mutex) while @items.empty? && !@closed
            @items.shift
          end
        end

        # Stops accepting events and wakes every waiting `pop`.
        # @param discard [Boolean] also drop what is still queued
        # @return [nil]
        def close(discard: false)
          @mutex.synchronize do
            @items.clear if discard
            @closed = true
            @ready.broadcast
          end
          nil
        end

        # @return [Boolean]
        def closed?
          @mutex.synchronize { @closed }
        end

        # @return [Integer] queued events (not the one being handled)
        def size
          @mutex.synchronize { @items.size }
        end
      end
    end
  end
end
