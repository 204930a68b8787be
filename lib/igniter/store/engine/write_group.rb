# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # The queue of a ledger's write groups (doc/performance.md "Group commit
      # and threads"). Writers queue their writes; the first one that finds
      # no leader leads: it takes everything queued so far and commits it in
      # one step (the block given to {#submit}), while the writers that
      # arrive meanwhile queue up for the next group. A lone writer is a
      # group of one and waits for nobody.
      #
      # The leader's commit runs with asynchronous interrupts (Thread#raise,
      # Timeout, Ctrl-C) deferred until it is done, so a group is never left
      # half made visible, and every writer of a group is woken once its
      # request is done.
      class WriteGroup
        # One queued write: the entry to build, and what came of it (the
        # fact and the consumer calls to make, or the error to raise).
        Request = Struct.new(:entry, :fact, :calls, :error, :done)

        def initialize
          @mutex = Mutex.new
          @turn = ConditionVariable.new
          @queue = []
          @leading = false
        end

        # Queues +entry+ and returns once its group was committed, by this
        # thread as the leader or by another writer.
        #
        # @param entry [Array] what the committing block needs to build the fact
        # @yieldparam batch [Array<Request>] the group, in queue order; the
        #   block sets each request's +fact+ and +calls+, or its +error+
        # @return [Request] the finished request
        def submit(entry, &commit)
          request = Request.new(entry)
          @mutex.synchronize do
            @queue << request
            until request.done
              @leading ? @turn.wait(@mutex) : lead(&commit)
            end
          end
          request
        end

        private

        # Commits the queued requests with the mutex released, so that other
        # writers can queue meanwhile; marks them done and wakes their writers.
        def lead(&commit)
          batch = @queue
          @queue = []
          @leading = true
          Thread.handle_interrupt(Object => :never) do
            @mutex.unlock
            begin
              commit.call(batch)
            rescue StandardError => e
              batch.each { |request| request.error ||= e unless request.fact }
            ensure
              @mutex.lock
              @leading = false
              batch.each { |request| request.done = true }
              @turn.broadcast
            end
          end
        end
      end

      # What IgniterStore does with write groups: when its backend commits in
      # groups (a `durability: {group:, interval:}` ledger whose backend
      # declares {Capabilities::WRITE_BATCH}), writes and appends share one
      # write(2) and one fdatasync per group instead of taking turns at the
      # write lock through each other's fdatasync. Each fact is built under
      # the write lock in queue order (causation from the facts of the group
      # before it, then from the log), the group's frames go to the backend
      # in one call, and only then are the facts appended to the log, indexed
      # and emitted. So a write still returns only once it is durable, and no
      # reader, scope or changefeed sees a fact before it is.
      module GroupedWrites
        private

        # {SharedLog#write_batch} in memory or on a backend declaring
        # {Capabilities::WRITE_BATCH}: every entry is built first (an entry
        # that cannot be built raises before anything is written), the frames
        # go to the backend in one write with one durability step, and then
        # the facts become visible in entry order; then consumers are
        # notified and derivations run for each written fact.
        # @return [Array<Fact>]
        def write_batch_at_once(entries)
          requests = entries.map { |entry| WriteGroup::Request.new(batch_request(entry)) }
          calls = []
          @write_lock.synchronize do
            latest = {}
            requests.each { |request| request.fact = build_entry(request.entry, latest) }
            @backend&.write_facts(requests.map(&:fact))
            requests.each { |request| calls.concat(publish(request)) }
          end
          @cache.notify(calls) unless calls.empty?
          requests.each { |request| @derivations.after_write(request.fact.store, request.fact) if request.entry.first == :write }
          requests.map(&:fact)
        end

        # The positional entry of a {SharedLog#write_batch} entry, with the
        # names normalized as {IgniterStore#write} and {IgniterStore#append} do.
        def batch_request(entry)
          kind, keywords = SharedLog.batch_keywords(entry)
          kind == :write ? write_request(**keywords) : append_request(**keywords)
        end

        def write_request(store:, key:, value:, schema_version: 1, causation: nil, valid_time: nil, term: nil,
                          producer: nil, derivation: nil)
          raise ArgumentError, "key is required" if key.nil?

          [:write, normalize_store(store), normalize_key(key), value, causation, schema_version, valid_time, term,
           producer, derivation, nil]
        end

        def append_request(history:, event:, schema_version: 1, valid_time: nil, term: nil, partition_key: nil,
                           producer: nil, derivation: nil)
          [:append, normalize_store(history), nil, event, nil, schema_version, valid_time, term, producer, derivation,
           normalize_field(partition_key)]
        end

        # @return [WriteGroup, nil] a write group queue when +backend+ commits in groups
        def write_group_for(backend)
          return nil unless Capabilities.of(backend).include?(Capabilities::WRITE_BATCH)

          backend.durability.is_a?(Hash) ? WriteGroup.new : nil
        end

        # Whether this write goes through the write group: not when the
        # caller already holds the write lock (a compaction's own writes),
        # since a leader waiting for that lock would wait for this thread.
        def grouped?
          @write_group && !@write_lock.mon_owned?
        end

        # Queues a write or append and waits for its group; then, like a
        # direct write, notifies consumers outside the locks.
        # @return [Fact]
        def write_grouped(entry)
          request = @write_group.submit(entry) { |batch| commit_group(batch) }
          raise request.error if request.error

          @cache.notify(request.calls) unless request.calls.empty?
          request.fact
        end

        # The leader's commit of one group, under the write lock.
        def commit_group(batch)
          @write_lock.synchronize do
            built = build_group(batch)
            begin
              @backend.write_facts(built.map(&:fact))
            rescue StandardError => e
              # Nothing of the group entered memory: each of its writers raises.
              built.each do |request|
                request.fact = nil
                request.error = e
              end
              next
            end
            built.each { |request| request.calls = publish(request) }
          end
        end

        # Builds each request's fact in queue order; a request whose fact
        # cannot be built gets its error and leaves the group.
        # @return [Array<WriteGroup::Request>] the requests with a fact
        def build_group(batch)
          latest = {}
          batch.select do |request|
            request.fact = build_entry(request.entry, latest)
            true
          rescue StandardError => e
            request.error = e
            false
          end
        end

        # @param entry [Array] the write's arguments, positional (see IgniterStore#write)
        # @param latest [Hash] the group's facts built so far, by store and key
        def build_entry(entry, latest)
          kind, store, key, value, causation, schema_version, valid_time, term, producer, derivation = entry
          if kind == :append
            return Fact.build(store: store, key: JsonCanon.new_id, value: value, schema_version: schema_version,
                              valid_time: valid_time, term: term, producer: producer, derivation: derivation)
          end

          causation ||= (latest[[store, key]] || @log.latest(store, key, nil))&.id
          fact = Fact.build(store: store, key: key, value: value, causation: causation, schema_version: schema_version,
                            valid_time: valid_time, term: term, producer: producer, derivation: derivation)
          latest[[store, fact.key]] = fact
          fact
        end

        # A durable fact of the group enters the log, its partition index
        # (appends with a partition key) and the caches, and is emitted.
        # @return [Array] pending consumer notifications
        def publish(request)
          fact = request.fact
          field = request.entry.last
          @log.append(fact)
          @partitions.add(fact.store, field, fact) if field
          settle(fact, fact.store, fact.key)
        end
      end
    end
  end
end
