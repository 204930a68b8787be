# frozen_string_literal: true

module Igniter
  module Store
    # Durable feed positions over a {ChangefeedBuffer} and the store whose
    # commits it carries (doc/feed_positions.md). A position names a fact:
    # "transaction_time:fact_id", the frame id of the server's SSE stream
    # and the `after:` of a push subscription. Facts live in the ledger, so
    # a position outlives the server process that sent it, where the
    # buffer's sequence numbers start again at 1 after a restart.
    #
    # "After a position" means after that fact in log (= commit = WAL)
    # order. The buffer's ring answers it while it still holds that fact;
    # otherwise (after a restart, or once the ring evicted it) the store's
    # log does. A position whose fact the ledger no longer holds (compacted
    # or pruned away, or from another ledger) is refused as
    # `:cursor_too_old`, never served from a guess.
    #
    # Answers the two calls {HTTPAdapter::SseBody} makes of its source
    # (`subscribe`, `replay`), so catch-up, live delivery and heartbeats
    # stay SseBody's own.
    class DurableFeed
      # "transaction_time:fact_id"; the time as Ruby prints a Float.
      POSITION = /\A(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?):(\S{1,200})\z/i.freeze
      # A ring sequence of one server run (0.5.2's ids; still accepted).
      SEQUENCE = /\A\d+\z/.freeze

      # One event as the SSE body frames it: +sequence+ is its position
      # (the frame id); the data is the changefeed event plus +position+
      # and +fact_document+, the whole fact as the envelope read ops send it
      # ({Protocol::FactDocument}: value, times, `symbols`), so a consumer
      # needs no second request for the value. The event's own members
      # stay 0.5.2's (whose data had no `fact`).
      Event = Struct.new(:change, :sequence) do
        # @return [Hash]
        def to_h
          data = change.to_h.merge(position: sequence)
          change.fact ? data.merge(fact_document: Protocol::FactDocument.from(change.fact)) : data
        end

        # @return [Integer, nil] the ring sequence (nil for an event read from the log)
        def ring_sequence
          change.sequence
        end
      end

      # @param record [Fact, ChangeEvent]
      # @return [String] the position of the fact (of the event)
      def self.position_of(record)
        id = record.respond_to?(:fact_id) ? record.fact_id : record.id
        "#{record.transaction_time.to_f}:#{id}"
      end

      # Reads a client's cursor text.
      # @param raw [String, nil] Last-Event-ID, `?cursor=` or `after:`
      # @return [Hash, nil] `{sequence: Integer}` (a ring sequence) or
      #   `{sequence: "tt:id"}` (a position); nil for nil or blank
      # @raise [ArgumentError] for anything else, naming the expected forms
      def self.cursor(raw)
        text = raw.to_s.strip
        return nil if text.empty?
        return { sequence: Integer(text, 10) } if text.match?(SEQUENCE)
        return { sequence: text } if text.match?(POSITION)

        raise ArgumentError, "Invalid cursor: #{text[0, 80].inspect} (expected a position \"transaction_time:fact_id\" " \
                             "as sent in the event ids, or a sequence number)"
      end

      # @param buffer [ChangefeedBuffer]
      # @param store [IgniterStore, nil] the store whose commits +buffer+
      #   receives; nil = positions are served from the ring only
      def initialize(buffer, store)
        @buffer = buffer
        @store = store
      end

      # @return [ChangefeedBuffer]
      attr_reader :buffer

      # Wakes +wake+ for each live event of +stores+ (see {ChangefeedBuffer#subscribe}).
      # @return [ChangefeedBuffer::Subscription]
      def subscribe(stores:, &wake)
        @buffer.subscribe(stores: stores, &wake)
      end

      # @return [Hash] the buffer's snapshot
      def snapshot
        @buffer.snapshot
      end

      # The events after +cursor+, in log order.
      #
      # @param cursor [Hash, nil] nil = everything the ring retains;
      #   `{sequence: Integer}` = after that ring sequence of this run;
      #   `{sequence: "tt:id"}` = after that fact
      # @param stores [Array<String>, nil]
      # @param limit [Integer, nil]
      # @return [Hash] `status` (:ok, :cursor_too_old or :cursor_unknown),
      #   `events` ({Event}s), `cursor` (feed it back), `error` when not ok,
      #   and the ring's `oldest_cursor`, `newest_cursor`, `dropped_total`
      def replay(cursor:, stores:, limit: nil)
        raw = cursor && cursor[:sequence]
        return from_ring(@buffer.replay(cursor: cursor, stores: stores, limit: limit), cursor) unless raw.is_a?(String)

        fact_id = raw[POSITION, 2] or raise ArgumentError, "Invalid cursor: #{raw.inspect}"
        ring_sequence = @buffer.sequence_of(fact_id)
        if ring_sequence
          result = @buffer.replay(cursor: { sequence: ring_sequence }, stores: stores, limit: limit)
          return from_ring(result, cursor) if result[:status] == :ok
        end
        from_log(fact_id, cursor, stores, limit)
      end

      private

      # Ring events as positions. A sequence past the newest one this run
      # has sent cannot be served (0.5.2 waited silently for it; a restart
      # is the usual cause).
      def from_ring(result, cursor)
        raw = cursor && cursor[:sequence]
        newest = result[:newest_cursor] ? result[:newest_cursor][:sequence] : 0
        if raw.is_a?(Integer) && raw > newest
          return result.merge(status: :cursor_unknown, events: [],
                              error: "Cursor #{raw} is past this feed's newest event (#{newest}): sequence numbers " \
                                     "restart with the server; resume from an event id (\"transaction_time:fact_id\")")
        end
        return result.merge(error: "Cursor #{raw} is older than the events retained") unless result[:status] == :ok

        events = result[:events].map { |event| Event.new(event, self.class.position_of(event)) }
        result.merge(events: events, cursor: events.empty? ? result[:cursor] : { sequence: events.last.sequence })
      end

      # The facts after +fact_id+ in the store's log, as events.
      def from_log(fact_id, cursor, stores, limit)
        facts = @store ? @store.fact_log_all : []
        index = facts.rindex { |fact| fact.id == fact_id }
        bounds = @buffer.replay(limit: 0).slice(:oldest_cursor, :newest_cursor, :dropped_total)
        if index.nil?
          return { status: :cursor_too_old, events: [], cursor: cursor, **bounds,
                   error: "No fact #{fact_id} in this ledger (compacted or pruned away, or never written here): " \
                          "reconnect without a cursor" }
        end

        tail = facts.drop(index + 1)
        tail = tail.select { |fact| stores.include?(fact.store.to_s) } if stores
        tail = tail.first(limit) if limit
        events = tail.map { |fact| Event.new(ChangeEvent.from_fact(fact, sequence: nil), self.class.position_of(fact)) }
        { status: :ok, events: events, cursor: events.empty? ? cursor : { sequence: events.last.sequence }, **bounds }
      end
    end
  end
end
