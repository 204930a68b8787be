# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # Lets the HTTP adapter's {Store::HTTPAdapter::SseBody} stream a store
      # that has no changefeed buffer: it answers the two calls SseBody makes
      # of a {Store::ChangefeedBuffer} — `subscribe` (here a thread that polls
      # the fact count and wakes the stream when it moves) and `replay` (the
      # facts after a position, read from the log) — so catch-up, live
      # delivery, heartbeats and closing are SseBody's own.
      #
      # Positions are "transaction_time:fact_id" (frame ids; a reconnecting
      # browser sends the last one back as Last-Event-ID) and facts come in
      # (transaction_time, fact id) order ({Store::Protocol::ReplayCursor}).
      # Not sent: a fact committed with an older transaction time than one
      # already sent (a clock stepping back), and, until the next write, facts
      # written between two polls while a compaction removed as many. A store
      # built with a ChangefeedBuffer has neither gap.
      class LogSource
        # Seconds between polls of a log that cannot push changes.
        DEFAULT_POLL_INTERVAL = 0.5
        # Facts sent first on a fresh stream (no Last-Event-ID): the most recent ones.
        CATCH_UP = 50

        # One fact as SseBody frames it.
        Event = Struct.new(:fact, :sequence) do
          # @return [Hash] the changefeed event's public fields and, as the
          #   server's stream sends it, the whole fact (`fact_document`)
          def to_h
            { schema_version: 1, type: Store::ChangeEvent::TYPE, store: fact.store, key: fact.key, fact_id: fact.id,
              transaction_time: fact.transaction_time, producer: fact.producer, causation: fact.causation,
              cursor: { sequence: sequence }, fact_document: Store::Protocol::FactDocument.from(fact) }
          end
        end

        # The polling thread behind one stream's subscription.
        class Poller
          # @param store [Store::IgniterStore]
          # @param interval [Numeric]
          # @param wake [Proc] called when the fact count moved
          def initialize(store, interval, &wake)
            @lock = Mutex.new
            @stopped = ConditionVariable.new
            @closed = false
            @thread = Thread.new do
              seen = store.fact_count
              until pause(interval)
                count = store.fact_count
                next if count == seen

                seen = count
                wake.call(nil)
              end
            end
            @thread.report_on_exception = false
          end

          # Stops polling; waits up to +timeout+ seconds for the thread.
          def close(timeout: 1)
            @lock.synchronize do
              @closed = true
              @stopped.broadcast
            end
            @thread.join(timeout)
            nil
          end

          private

          # @return [Boolean] true once closed
          def pause(interval)
            @lock.synchronize do
              @stopped.wait(@lock, interval) unless @closed
              @closed
            end
          end
        end

        # @param raw [String, nil] a frame id ("transaction_time:fact_id")
        # @return [Hash, nil] the cursor SseBody passes to {#replay}; nil for nil or a malformed id
        def self.cursor_from(raw)
          { sequence: raw.to_s.strip } if position(raw.to_s.strip)
        end

        # @return [Store::Protocol::ReplayCursor, nil]
        def self.position(text)
          tt, id = text.split(":", 2)
          return nil if id.nil? || id.empty?

          Store::Protocol::ReplayCursor.parse(kind: Store::Protocol::ReplayCursor::TIE_BREAK, value: Float(tt), fact_id: id)
        rescue ArgumentError, TypeError
          nil
        end

        # @param store [Store::IgniterStore]
        # @param poll_interval [Numeric]
        def initialize(store, poll_interval:)
          @store = store
          @poll_interval = poll_interval
        end

        # @param stores [Array, nil] ignored: every write wakes, {#replay} filters
        # @return [Poller] responds to `close(timeout:)`
        def subscribe(stores:, &wake)
          Poller.new(@store, @poll_interval, &wake)
        end

        # @param cursor [Hash, nil] `{sequence: "tt:id"}`; nil = a fresh stream;
        #   `{sequence: 0}` (SseBody's "nothing seen yet") = from the start
        # @param stores [Array<String>, nil]
        # @param limit [Integer, nil]
        # @return [Hash] `status: :ok, events:, cursor:` (nil when there are no events)
        def replay(cursor:, stores:, limit: nil)
          position = cursor && self.class.position(cursor[:sequence].to_s)
          facts = @store.fact_log_all(since: position&.value)
          facts = facts.select { |f| stores.include?(f.store.to_s) } if stores
          facts, = Store::Protocol::ReplayCursor.page(facts, position, nil)
          facts = facts.last(CATCH_UP) if cursor.nil?
          facts = facts.first(limit) if limit
          events = facts.map { |f| Event.new(f, "#{Html.epoch(f.transaction_time)}:#{f.id}") }
          { status: :ok, events: events, cursor: events.empty? ? cursor : { sequence: events.last.sequence } }
        end
      end
    end
  end
end
