# frozen_string_literal: true

require "securerandom"

module Igniter
  module Store
    # Legacy synchronous fan-out (0.5.2 keeps it loaded; the server uses
    # {ChangefeedBuffer} instead). Handlers run in the caller's thread, in
    # subscription order, for the stores they named (no wildcard).
    class SubscriptionRegistry
      # One registration: +stores+ are Strings.
      SubscriptionRecord = Struct.new(:id, :stores, :handler, keyword_init: true)

      def initialize
        @records = []
        @mutex = Mutex.new
      end

      # @param stores [Symbol, String, Array] stores whose facts reach +handler+
      # @yieldparam fact [Fact]
      # @return [SubscriptionRecord]
      # @raise [ArgumentError] without a block (0.5.2 accepted a nil handler
      #   and only dropped it at the first fan-out)
      def subscribe(stores:, &handler)
        raise ArgumentError, "subscribe requires a block" unless handler

        record = SubscriptionRecord.new(id: SecureRandom.hex(8), stores: Array(stores).map(&:to_s), handler: handler)
        @mutex.synchronize { @records << record }
        record
      end

      # Removes +record+ (by identity). nil and unknown records are ignored.
      # @return [nil]
      def unsubscribe(record)
        return nil if record.nil?

        @mutex.synchronize { @records.delete_if { |r| r.equal?(record) } }
        nil
      end

      # Calls every handler subscribed to `fact.store`. A handler raising a
      # StandardError is removed after this round; the others still run.
      # Handlers run outside the lock, so they may (un)subscribe.
      # @param fact [Fact]
      # @return [nil]
      def fan_out(fact)
        store = fact.store.to_s
        targets = @mutex.synchronize { @records.select { |r| r.stores.include?(store) } }
        failed = targets.reject do |record|
          record.handler.call(fact)
          true
        rescue StandardError
          false
        end
        failed.each { |record| unsubscribe(record) }
        nil
      end

      # @return [Integer] handlers subscribed to exactly +store+
      def subscriber_count(store)
        name = store.to_s
        @mutex.synchronize { @records.count { |r| r.stores.include?(name) } }
      end
    end
  end
end
