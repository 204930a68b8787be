# frozen_string_literal: true

module Igniter
  module Store
    class ChangefeedBuffer
      # State of one subscriber: its filter, handler, queue, worker thread,
      # policies, counters and status (:active, :closed or :failed).
      # +stores+ are Strings; empty means every store.
      SubscriptionRecord = Struct.new(
        :id, :stores, :handler, :queue, :thread, :overflow, :close_policy,
        :delivered_total, :overflow_dropped_total, :failed_total, :status,
        keyword_init: true
      ) do
        # @return [Boolean] whether events of +store+ reach this subscriber
        def wants?(store)
          stores.empty? || stores.include?(store)
        end
      end

      # Handle returned by {ChangefeedBuffer#subscribe}; its only job is to
      # end the subscription.
      class Subscription
        # @api private
        def initialize(buffer, record)
          @buffer = buffer
          @record = record
        end

        # @return [String] the subscriber id (16 hex characters)
        def id
          @record.id
        end

        # Stops delivery. Under the :drain close policy the worker first
        # handles everything already queued; under :discard only the event
        # in flight. Waits up to +timeout+ seconds for the worker to end
        # (not at all when called from the handler itself). Idempotent: only
        # the first call records a :subscriber_closed diagnostic.
        #
        # @param timeout [Numeric] longest wait for the worker thread
        # @return [nil]
        def close(timeout: JOIN_TIMEOUT)
          @buffer.__send__(:unsubscribe, @record)
          thread = @record.thread
          thread.join(timeout) if thread && !thread.equal?(Thread.current)
          nil
        rescue StandardError
          nil
        end
      end
    end
  end
end
