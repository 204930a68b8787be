# frozen_string_literal: true

require "securerandom"

require_relative "changefeed/subscriber_queue"
require_relative "changefeed/diagnostic_ring"
require_relative "changefeed/subscription"
require_relative "changefeed/settings"
require_relative "changefeed/alerts"
require_relative "feed/durable_feed"

module Igniter
  module Store
    # In-memory changefeed: a bounded ring of recent {ChangeEvent}s with
    # contiguous sequence numbers (for cursor replay) and asynchronous
    # delivery to subscribers, each with its own bounded queue and worker
    # thread. Nothing is durable.
    #
    # Ordering: sequence assignment, the ring append and the push onto every
    # subscriber queue happen under one lock, so each subscriber receives
    # events in sequence order even when many threads emit at once (0.5.2
    # fanned out after releasing the lock and could reorder). The pushes
    # never block, so `emit` stays prompt however slow a handler is.
    #
    # Isolation: a handler that raises (any Exception) or whose worker dies
    # is counted once as failed, removed, and never called again; the
    # writer and the other subscribers are unaffected.
    class ChangefeedBuffer
      # Events kept in the replay ring.
      DEFAULT_MAX_SIZE = 1_000
      # Events queued per subscriber before the overflow policy applies.
      DEFAULT_SUBSCRIBER_QUEUE_SIZE = 100
      # What a full subscriber queue drops: its oldest event.
      DEFAULT_OVERFLOW = :drop_oldest
      # What closing a subscription does with its queued events: deliver them.
      DEFAULT_CLOSE_POLICY = :drain
      # Diagnostic entries (failures, drops) kept.
      DEFAULT_DIAGNOSTIC_RING_SIZE = 100
      # Accepted `overflow:` values.
      VALID_OVERFLOW_POLICIES = %i[drop_oldest drop_newest].freeze
      # Accepted `close_policy:` values.
      VALID_CLOSE_POLICIES = %i[drain discard].freeze
      # Accepted keys of `alert_thresholds:`.
      VALID_THRESHOLD_KEYS = %i[total_queued overflow_dropped_total failed_total queue_pressure_ratio].freeze
      # Default bound, in seconds, on waiting for a worker thread to end.
      JOIN_TIMEOUT = 2.0

      # `subscribe` on a buffer that was shut down with {#close}.
      class ClosedError < Igniter::Store::Error; end

      # @return [Integer] events kept for replay
      attr_reader :max_size
      # @return [Integer] capacity of each subscriber queue
      attr_reader :subscriber_queue_size
      # @return [Symbol] subscriber queue overflow policy
      attr_reader :overflow
      # @return [Symbol] what closing a subscription does with queued events
      attr_reader :close_policy
      # @return [Hash{Symbol=>Numeric}] alert thresholds (Symbol keys)
      attr_reader :alert_thresholds

      # Builds a buffer from a configuration Hash and per-key overrides
      # (the server's `config.changefeed` merged with its `changefeed:` kwarg).
      # @param config [Hash, nil]
      # @param overrides [Hash, nil] win key by key
      # @return [ChangefeedBuffer]
      # @raise [ArgumentError] for an invalid setting or an unknown key
      def self.from_config(config = nil, overrides = nil)
        new(**(config || {}).merge(overrides || {}).transform_keys(&:to_sym))
      end

      # @param max_size [Integer] ring capacity; older events are evicted (dropped_total)
      # @param subscriber_queue_size [Integer] per-subscriber queue capacity
      # @param overflow [Symbol] :drop_oldest or :drop_newest when a subscriber queue is full
      # @param close_policy [Symbol] :drain (deliver what is queued) or :discard
      # @param diagnostic_ring_size [Integer] lifecycle entries kept
      # @param alert_thresholds [Hash] keys from VALID_THRESHOLD_KEYS
      # @raise [ArgumentError] naming the first invalid setting
      def initialize(max_size: DEFAULT_MAX_SIZE, subscriber_queue_size: DEFAULT_SUBSCRIBER_QUEUE_SIZE,
                     overflow: DEFAULT_OVERFLOW, close_policy: DEFAULT_CLOSE_POLICY,
                     diagnostic_ring_size: DEFAULT_DIAGNOSTIC_RING_SIZE, alert_thresholds: {})
        @alert_thresholds = Settings.validate!(
          max_size: max_size, subscriber_queue_size: subscriber_queue_size, overflow: overflow,
          close_policy: close_policy, diagnostic_ring_size: diagnostic_ring_size, alert_thresholds: alert_thresholds
        )
        @max_size = max_size
        @subscriber_queue_size = subscriber_queue_size
        @overflow = overflow
        @close_policy = close_policy
        @diagnostics = DiagnosticRing.new(diagnostic_ring_size)
        @lock = Mutex.new
        @ring = []
        @records = []
        @sequence = 0
        @emitted_total = @delivered_total = @dropped_total = @overflow_dropped_total = @failed_total = 0
        @closed = false
      end

      # Records +fact+ as the next event and queues it for every matching
      # subscriber. Never blocks on subscribers and never raises because of them.
      # @param fact [Fact]
      # @return [ChangeEvent]
      def emit(fact)
        @lock.synchronize do
          @sequence += 1
          event = ChangeEvent.from_fact(fact, sequence: @sequence)
          @emitted_total += 1
          if @ring.size >= @max_size
            @ring.shift
            @dropped_total += 1
          end
          @ring << event
          fan_out(event)
          event
        end
      end

      # Starts a subscriber: a queue and a worker thread that calls +handler+
      # with each event of +stores+, in sequence order.
      #
      # @param stores [Symbol, String, Array, nil] stores to receive; nil or [] = all
      # @yieldparam event [ChangeEvent]
      # @return [Subscription]
      # @raise [ArgumentError] without a block
      # @raise [ClosedError] after {#close}
      def subscribe(stores:, &handler)
        raise ArgumentError, "subscribe requires a block" unless handler

        record = SubscriptionRecord.new(
          id: SecureRandom.hex(8), stores: Array(stores).map(&:to_s).freeze, handler: handler,
          queue: SubscriberQueue.new(max_size: @subscriber_queue_size, overflow: @overflow),
          overflow: @overflow, close_policy: @close_policy,
          delivered_total: 0, overflow_dropped_total: 0, failed_total: 0, status: :active
        )
        @lock.synchronize do
          raise ClosedError, "changefeed is closed" if @closed

          record.thread = start_worker(record)
          @records << record
          diagnose(type: :subscriber_subscribed, subscriber_id: record.id, stores: record.stores)
        end
        Subscription.new(self, record)
      end

      # Shuts the feed down: closes every subscription under the close policy
      # and joins their worker threads. Events can still be emitted and
      # replayed afterwards; new subscriptions are refused.
      # @param timeout [Numeric] longest total wait for the workers
      # @return [Boolean] true when every worker thread has ended
      def close(timeout: JOIN_TIMEOUT)
        records = @lock.synchronize do
          @closed = true
          @records.dup
        end
        records.each { |record| unsubscribe(record) }
        deadline = monotonic + timeout
        records.all? do |record|
          thread = record.thread
          thread.equal?(Thread.current) || !thread.join([deadline - monotonic, 0].max).nil?
        end
      end

      # @return [Boolean] whether {#close} was called
      def closed?
        @lock.synchronize { @closed }
      end

      # @param store [Symbol, String, nil] count only subscribers that receive this store
      # @return [Integer] active subscribers
      def subscriber_count(store = nil)
        @lock.synchronize do
          store.nil? ? @records.size : @records.count { |record| record.wants?(store.to_s) }
        end
      end

      # Events retained in the ring after +cursor+.
      #
      # @param cursor [Hash, nil] `{sequence: n}` from a previous event or replay; nil = from the oldest
      # @param stores [Array, nil] keep only these stores
      # @param limit [Integer, nil] at most this many events
      # @return [Hash] `status` (:ok or :cursor_too_old), `events`, `cursor` (feed it back to resume),
      #   `oldest_cursor`, `newest_cursor`, `dropped_total`
      # @raise [ArgumentError] for a malformed cursor or limit
      def replay(cursor: nil, stores: nil, limit: nil)
        after = cursor.nil? ? nil : cursor_sequence(cursor)
        unless limit.nil? || (limit.is_a?(Integer) && !limit.negative?)
          raise ArgumentError, "limit must be a non-negative integer, got #{limit.inspect}"
        end

        wanted = stores.nil? || Array(stores).empty? ? nil : Array(stores).map(&:to_s)
        @lock.synchronize { replay_locked(after, wanted, limit) }
      end

      # @param fact_id [String]
      # @return [Integer, nil] the sequence of the retained event of that
      #   fact (the newest, looked up from the newest end), nil when the ring
      #   holds none ({DurableFeed} then reads the log)
      def sequence_of(fact_id)
        @lock.synchronize do
          @ring.reverse_each { |event| return event.sequence if event.fact_id == fact_id }
          nil
        end
      end

      # @return [Hash] counters, configuration, ring bounds, alerts and diagnostics
      def snapshot
        state = @lock.synchronize do
          queues = @records.map { |record| [record.id, record.queue.size] }
          {
            emitted_total: @emitted_total, delivered_total: @delivered_total, dropped_total: @dropped_total,
            overflow_dropped_total: @overflow_dropped_total, failed_total: @failed_total, buffered: @ring.size,
            max_size: @max_size, subscriber_count: @records.size, subscriber_queue_size: @subscriber_queue_size,
            overflow: @overflow, close_policy: @close_policy, total_queued: queues.sum { |_, size| size },
            oldest_sequence: @ring.first&.sequence, newest_sequence: @ring.last&.sequence, queues: queues
          }
        end
        queues = state.delete(:queues)
        state[:alerts] = Alerts.evaluate(@alert_thresholds, state, queues, @subscriber_queue_size)
        state[:diagnostics] = @diagnostics.snapshot
        state
      end

      # @return [Array<Hash>] one entry per active subscriber, in subscription order
      def subscriber_snapshot
        @lock.synchronize do
          @records.map do |record|
            { id: record.id, stores: record.stores, queue_size: record.queue.size,
              queue_max_size: @subscriber_queue_size, overflow: record.overflow, close_policy: record.close_policy,
              status: record.status, delivered_total: record.delivered_total,
              overflow_dropped_total: record.overflow_dropped_total, failed_total: record.failed_total }
          end
        end
      end

      private

      # Caller holds @lock. Queue pushes never block.
      def fan_out(event)
        store = event.store.to_s
        @records.each do |record|
          next unless record.wants?(store)
          next unless record.queue.push(event)

          @overflow_dropped_total += 1
          record.overflow_dropped_total += 1
          diagnose(type: :subscriber_overflow, subscriber_id: record.id)
        end
      end

      def start_worker(record)
        thread = Thread.new { run_worker(record) }
        thread.report_on_exception = false
        thread.name = "changefeed-#{record.id}" if thread.respond_to?(:name=)
        thread
      end

      # Delivers until the queue is closed and empty. A handler raising any
      # exception ends the subscription as failed; so does a worker that is
      # killed (the ensure notices it did not finish normally).
      def run_worker(record)
        finished = false
        while (event = record.queue.pop)
          begin
            record.handler.call(event)
          rescue Exception => e # rubocop:disable Lint/RescueException -- a dying handler must not leave a zombie subscriber
            finished = true
            subscriber_failed(record, e.class.name, safe_message(e))
            return
          end
          @lock.synchronize do
            @delivered_total += 1
            record.delivered_total += 1
          end
        end
        finished = true
      ensure
        subscriber_failed(record, "Thread", "worker thread terminated") unless finished
      end

      def subscriber_failed(record, error_class, message)
        @lock.synchronize do
          @failed_total += 1
          record.failed_total += 1
          if record.status == :active
            @records.delete_if { |r| r.equal?(record) }
            record.status = :failed
          end
          diagnose(type: :subscriber_failed, subscriber_id: record.id, stores: record.stores,
                   error_class: error_class, message: message)
        end
        record.queue.close(discard: true)
      end

      def safe_message(error)
        error.message.to_s[0, 200]
      rescue StandardError
        ""
      end

      # Ends an active subscription; false when it had already ended.
      def unsubscribe(record)
        @lock.synchronize do
          return false unless record.status == :active

          @records.delete_if { |r| r.equal?(record) }
          record.status = :closed
          diagnose(type: :subscriber_closed, subscriber_id: record.id, stores: record.stores)
        end
        record.queue.close(discard: record.close_policy == :discard)
        true
      end

      def diagnose(entry)
        @diagnostics.push(entry.merge(ts: Process.clock_gettime(Process::CLOCK_REALTIME)))
      end

      # Sequences in the ring are contiguous, so the resume point is found
      # by arithmetic rather than a scan.
      def replay_locked(after, stores, limit)
        if @ring.empty?
          return { status: :ok, events: [], cursor: nil, oldest_cursor: nil, newest_cursor: nil,
                   dropped_total: @dropped_total }
        end

        oldest = @ring.first.sequence
        newest = @ring.last.sequence
        bounds = { oldest_cursor: { sequence: oldest }, newest_cursor: { sequence: newest }, dropped_total: @dropped_total }
        if after && after < oldest - 1
          return { status: :cursor_too_old, events: [], cursor: { sequence: newest }, **bounds }
        end
        return { status: :ok, events: [], cursor: { sequence: newest }, **bounds } if after && after >= newest

        events = select_events(after.nil? ? 0 : after - oldest + 1, stores, limit)
        cursor =
          if events.any? then events.last.cursor.dup
          elsif limit&.zero? then { sequence: after || oldest - 1 } # nothing read: do not skip ahead
          else { sequence: newest }
          end
        { status: :ok, events: events, cursor: cursor, **bounds }
      end

      def select_events(start, stores, limit)
        events = []
        return events if limit&.zero?

        (start...@ring.size).each do |index|
          event = @ring[index]
          next if stores && !stores.include?(event.store.to_s)

          events << event
          break if limit && events.size >= limit
        end
        events
      end

      def cursor_sequence(cursor)
        raw = cursor.is_a?(Hash) ? cursor.fetch(:sequence) { cursor["sequence"] } : nil
        Integer(raw)
      rescue ArgumentError, TypeError
        raise ArgumentError, "cursor must be a Hash with an Integer :sequence, got #{cursor.inspect}"
      end

      def monotonic
        Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
    end
  end
end
