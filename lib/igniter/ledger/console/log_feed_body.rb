# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # SSE body that follows a store without a changefeed buffer by polling
      # its log: every +poll_interval+ it checks the fact count and, when it
      # moved, sends the facts after its position in (transaction_time, fact
      # id) order ({Store::Protocol::ReplayCursor}). Frames look like the
      # HTTP adapter's (`event: fact_committed`); ids are
      # "transaction_time:fact_id", so a reconnecting browser resumes after
      # the last fact it saw. Not sent: a fact committed with an older
      # transaction time than one already sent (a clock stepping back), and
      # facts written between two polls while a compaction removed exactly as
      # many (the count did not move) until the next write. A store built with
      # a ChangefeedBuffer has neither gap.
      class LogFeedBody
        DEFAULT_POLL_INTERVAL = 0.5
        # Facts sent first on a fresh stream (no Last-Event-ID): the most recent ones.
        CATCH_UP = 50
        EVENT_NAME = Store::HTTPAdapter::SseBody::EVENT_NAME
        HEARTBEAT = Store::HTTPAdapter::SseBody::HEARTBEAT

        # @param raw [String, nil] a frame id ("transaction_time:fact_id")
        # @return [Store::Protocol::ReplayCursor, nil] nil for nil or a malformed id
        def self.parse_id(raw)
          tt, id = raw.to_s.strip.split(":", 2)
          return nil if id.nil? || id.empty?

          Store::Protocol::ReplayCursor.parse(kind: Store::Protocol::ReplayCursor::TIE_BREAK, value: Float(tt), fact_id: id)
        rescue ArgumentError, TypeError
          nil
        end

        # @param store [Store::IgniterStore]
        # @param after [Store::Protocol::ReplayCursor, nil] resume after this position
        # @param stores [Array<String>, nil] nil = every store
        # @param heartbeat_interval [Numeric]
        # @param poll_interval [Numeric]
        # @param on_close [#call, nil] called once with the body when it closes
        def initialize(store, after:, stores:, heartbeat_interval:, poll_interval:, on_close: nil)
          @store = store
          @cursor = after
          @stores = stores&.to_set
          @heartbeat_interval = heartbeat_interval
          @poll_interval = poll_interval
          @on_close = on_close
          @lock = Mutex.new
          @wakeup = ConditionVariable.new
          @closed = false
          @pending = []
          @seen_count = nil
        end

        # Reads the catch-up: the facts after the resume position, or the
        # last {CATCH_UP} facts on a fresh stream.
        # @return [self]
        def open
          @seen_count = @store.fact_count
          facts = following(@store.fact_log_all)
          @pending = @cursor ? facts : facts.last(CATCH_UP)
          @cursor = Store::Protocol::ReplayCursor.parse(Store::Protocol::ReplayCursor.after(facts.last)) unless facts.empty?
          self
        end

        # Yields SSE frames until {#close} or the peer goes away.
        # @yieldparam chunk [String]
        def each
          @pending.each { |fact| yield frame(fact) }
          @pending = []
          quiet = 0.0
          until closed?
            pause
            facts = poll
            if facts.empty?
              quiet += @poll_interval
              next unless quiet >= @heartbeat_interval && !closed?

              yield HEARTBEAT
            else
              facts.each { |fact| yield frame(fact) }
            end
            quiet = 0.0
          end
        rescue IOError, SystemCallError
          nil # peer gone
        ensure
          close
        end

        # Ends the stream from any thread; safe more than once.
        def close
          first = @lock.synchronize do
            was_open = !@closed
            @closed = true
            @wakeup.broadcast
            was_open
          end
          @on_close&.call(self) if first
          nil
        end

        # @return [Boolean]
        def closed?
          @lock.synchronize { @closed }
        end

        private

        def pause
          @lock.synchronize { @wakeup.wait(@lock, @poll_interval) unless @closed }
        end

        def poll
          count = @store.fact_count
          return [] if count == @seen_count

          @seen_count = count
          facts = following(@store.fact_log_all(since: @cursor&.value))
          @cursor = Store::Protocol::ReplayCursor.parse(Store::Protocol::ReplayCursor.after(facts.last)) unless facts.empty?
          facts
        end

        # The facts after the cursor (all without one) of the wanted stores, in replay order.
        def following(facts)
          facts = facts.select { |f| @stores.include?(f.store.to_s) } if @stores
          Store::Protocol::ReplayCursor.page(facts, @cursor, nil).first
        end

        def frame(fact)
          data = { schema_version: 1, type: EVENT_NAME, store: fact.store, key: fact.key, fact_id: fact.id,
                   transaction_time: fact.transaction_time, producer: fact.producer, causation: fact.causation,
                   cursor: Store::Protocol::ReplayCursor.after(fact) }
          "id: #{Html.epoch(fact.transaction_time)}:#{fact.id}\nevent: #{EVENT_NAME}\ndata: #{JSON.generate(data)}\n\n"
        end
      end
    end
  end
end
