# frozen_string_literal: true

module Igniter
  module Store
    # Thread-safe bounded FIFO of the server's recent structured events;
    # the oldest entry is dropped when a push exceeds the capacity.
    class EventRing
      # @return [Integer] capacity
      attr_reader :max_size

      # @param max_size [Integer] entries kept (at least 1)
      # @raise [ArgumentError] for a non-positive or non-Integer size
      def initialize(max_size)
        unless max_size.is_a?(Integer) && max_size.positive?
          raise ArgumentError, "EventRing max_size must be a positive Integer, got #{max_size.inspect}"
        end

        @max_size = max_size
        @events = []
        @lock = Mutex.new
      end

      # @param event [Object]
      # @return [self]
      def push(event)
        @lock.synchronize do
          @events << event
          @events.shift while @events.size > @max_size
        end
        self
      end

      # @return [Array] a copy, oldest first
      def to_a
        @lock.synchronize { @events.dup }
      end

      # @return [Integer]
      def size
        @lock.synchronize { @events.size }
      end
    end
  end
end
