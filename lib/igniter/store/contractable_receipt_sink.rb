# frozen_string_literal: true

module Igniter
  module Store
    # Durable sink for "contractable" observation and event receipts (emitted
    # by igniter-embed). Implements the duck-typed store-adapter protocol
    # `record_observation(receipt)` / `record_event(receipt)` over either an
    # {IgniterStore} or a client object answering the same calls
    # (`write`, `append`, `read`, and `history`/`history_partition` or `replay`).
    class ContractableReceiptSink
      # Fields an observation receipt must have.
      REQUIRED_OBSERVATION_FIELDS = %i[observation_id receipt_kind].freeze
      # Fields an event receipt must have.
      REQUIRED_EVENT_FIELDS = %i[event_id receipt_kind observation_id].freeze
      # Fields of an observation receipt kept in the ledger.
      OBSERVATION_FIELDS = %i[observation_id name role stage status sampled async started_at finished_at
                              duration_ms redaction].freeze
      # Fields of an event receipt kept in the ledger.
      EVENT_FIELDS = %i[event_id observation_id event severity summary occurred_at].freeze

      attr_reader :store, :client, :observations_store, :events_store, :producer

      # Registers the observation store and event history descriptors on the
      # target (when it answers `register_descriptor`; errors propagate).
      #
      # @param store [IgniterStore, nil]
      # @param client [Object, nil] used instead of +store+ when both are given
      # @raise [ArgumentError] when neither is given
      def initialize(store: nil, client: nil, observations_store: :contractable_observations,
                     events_store: :contractable_events,
                     producer: { type: :embed, name: :contractable_receipt_sink })
        raise ArgumentError, "ContractableReceiptSink requires store: or client:" if store.nil? && client.nil?

        @store = store
        @client = client
        @observations_store = observations_store.to_sym
        @events_store = events_store.to_sym
        @producer = producer
        # Event ids this sink appended, so a retry through a client that can
        # only replay (no cheap history lookup) is still not appended twice.
        @appended_events = {}
        @appended_lock = Mutex.new
        register_descriptors
      end

      # Records (or re-records, as a new version) an observation receipt.
      # @param receipt [Hash] Symbol-keyed, +receipt_kind: :contractable_observation+
      # @raise [ArgumentError] missing fields or wrong receipt kind
      # @return [Object] the target's write result (a Fact for IgniterStore)
      def record_observation(receipt)
        validate!(receipt, REQUIRED_OBSERVATION_FIELDS, :contractable_observation)
        target.write(store: observations_store, key: receipt[:observation_id].to_s, value: receipt, producer: producer)
      end

      # Appends an event receipt to the events history. A retry of an event
      # already recorded for the same observation (same +event_id+) returns
      # the recorded fact instead of appending a duplicate, when the target is
      # an in-process store (+history_partition+/+history+). A replay-only
      # client is not asked first (a full replay round trip per event, and
      # transports that only answer +append+ must keep working); instead the
      # sink remembers the last 10,000 events it appended, so a retry through
      # the same sink is still answered without a second append.
      # @param receipt [Hash] Symbol-keyed, +receipt_kind: :contractable_event+
      # @raise [ArgumentError] missing fields or wrong receipt kind
      # @return [Object] the target's append result (a Fact for IgniterStore)
      def record_event(receipt)
        validate!(receipt, REQUIRED_EVENT_FIELDS, :contractable_event)
        @appended_lock.synchronize do
          memo_key = [receipt[:observation_id].to_s, receipt[:event_id]]
          return @appended_events[memo_key] if @appended_events.key?(memo_key)

          existing = recorded_event(receipt)
          return existing if existing

          result = target.append(history: events_store, event: receipt, partition_key: :observation_id,
                                 producer: producer)
          remember_event(memo_key, result)
        end
      end

      # @param observation_id [String, Symbol]
      # @return [Hash, nil] the latest receipt of the observation
      def observation(observation_id)
        result = target.read(store: observations_store, key: observation_id.to_s)
        if result.respond_to?(:value) && result.respond_to?(:found?)
          result.value
        elsif result.is_a?(Hash) && result.key?(:value) && !result.key?(:receipt_kind)
          # A read-result envelope; a receipt itself always carries :receipt_kind.
          result[:value]
        else
          result
        end
      end

      # @return [Array<Hash>] event receipts of the observation, in commit order
      def events_for(observation_id)
        id = observation_id.to_s
        if target.respond_to?(:history_partition)
          target.history_partition(store: events_store, partition_key: :observation_id, partition_value: id)
                .map { |f| fact_value(f) }
        else
          event_values.select { |v| v[:observation_id] == id }
        end
      end

      # Latest receipt per observation, ordered by the time of that latest write.
      # @param status [Object, nil] keep only receipts whose +:status+ equals it
      # @param limit [Integer, nil]
      # @return [Array<Hash>]
      def observations(status: nil, limit: nil)
        latest = {}
        history_facts(observations_store).each { |f| latest[fact_key(f)] = f }
        values = latest.values.sort_by { |f| fact_time(f) }.map { |f| fact_value(f) }
        values = values.select { |v| v[:status] == status } if status
        limit ? values.take(limit) : values
      end

      # @param limit [Integer, nil]
      # @return [Array<Hash>] event receipts with +severity: :error+, in commit order
      def error_events(limit: nil)
        values = event_values.select { |v| v[:severity] == :error }
        limit ? values.take(limit) : values
      end

      private

      def target
        client || store
      end

      def register_descriptors
        return unless target.respond_to?(:register_descriptor)

        target.register_descriptor(kind: :store, name: observations_store, key: :observation_id,
                                   fields: OBSERVATION_FIELDS, producer: { system: :igniter_embed })
        target.register_descriptor(kind: :history, name: events_store, key: :event_id,
                                   partition_key: :observation_id, fields: EVENT_FIELDS)
      end

      def validate!(receipt, required, kind)
        raise ArgumentError, "contractable receipt must be a Hash, got #{receipt.class}" unless receipt.is_a?(Hash)

        missing = required.select { |field| receipt[field].nil? }
        raise ArgumentError, "contractable receipt missing required fields: #{missing.join(", ")}" if missing.any?
        return if receipt[:receipt_kind] == kind

        raise ArgumentError, "expected receipt_kind #{kind.inspect}, got #{receipt[:receipt_kind].inspect}"
      end

      # The fact already holding this event id, when the target can tell.
      APPENDED_EVENTS_CAP = 10_000

      def remember_event(memo_key, result)
        @appended_events.shift if @appended_events.size >= APPENDED_EVENTS_CAP
        @appended_events[memo_key] = result
      end

      def recorded_event(receipt)
        return nil unless target.respond_to?(:history_partition) || target.respond_to?(:history)

        candidates = if target.respond_to?(:history_partition)
                       target.history_partition(store: events_store, partition_key: :observation_id,
                                                partition_value: receipt[:observation_id].to_s)
                     else
                       target.history(store: events_store)
                     end
        candidates.find { |f| fact_value(f)[:event_id] == receipt[:event_id] }
      end

      def event_values
        history_facts(events_store).map { |f| fact_value(f) }
      end

      def history_facts(store_name)
        return target.history(store: store_name) if target.respond_to?(:history)

        result = target.replay(store: store_name)
        if result.respond_to?(:facts) then result.facts
        elsif result.is_a?(Hash) then Array(result[:facts])
        else Array(result)
        end
      end

      def fact_key(fact) = fact.is_a?(Hash) ? fact[:key] : fact.key
      def fact_value(fact) = fact.is_a?(Hash) ? fact[:value] : fact.value

      def fact_time(fact)
        fact.is_a?(Hash) ? (fact[:transaction_time] || fact[:timestamp] || 0) : fact.transaction_time
      end
    end
  end
end
