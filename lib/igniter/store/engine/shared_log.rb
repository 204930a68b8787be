# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # The engine over a backend that serves its own fact log, shared with
      # other processes (a backend whose `capabilities` include `:fact_log`,
      # e.g. {PostgresBackend}). Then:
      #
      # - every read goes to that log (SQL): the read cache, the scope index
      #   and the partition index never answer, since another process may
      #   have committed since they were filled;
      # - the changefeed and the consumers are fed by the log's commit tail,
      #   which delivers every fact committed by any process, in commit
      #   order, once (a local write is delivered before it returns);
      # - compaction and prune delete facts in the log instead of rebuilding
      #   memory and rewriting a file.
      #
      # The branches live at the marked `shared log` lines of IgniterStore,
      # Compaction and Prune.
      module SharedLog
        # Commits many writes and appends in one step and returns their facts
        # in entry order. On a shared log it is one database transaction:
        # all facts or none, consecutive positions. In memory and on a backend
        # declaring `:write_batch` (a FileBackend), every entry is built
        # first, so an invalid one raises before anything is written; then
        # all frames go out in one write with one durability step (one
        # fdatasync under `:fsync`), and only then do the facts become
        # visible (a crash can keep a prefix of the frames). On other
        # backends the entries are written one by one under the write lock.
        #
        # Derivations and scatters run after the commit for each written
        # (not appended) fact, as after {IgniterStore#write}.
        #
        # @param entries [Array<Hash>] keywords of {IgniterStore#write}
        #   (`store:, key:, value:, ...`) or {IgniterStore#append} (`history:, event:, ...`)
        # @return [Array<Fact>]
        # @raise [ArgumentError] for an entry that is neither; nothing is written then on a shared log
        def write_batch(entries)
          entries = entries.to_a
          unless @shared_log
            return write_batch_at_once(entries) if @backend.nil? || Capabilities.of(@backend).include?(Capabilities::WRITE_BATCH)

            return @write_lock.synchronize { entries.map { |entry| write_entry(entry) } }
          end

          calls = nil
          facts = @write_lock.synchronize do
            facts = @log.write_batch(entries)
            calls = facts.empty? ? [] : @log.deliver(facts.last)
            facts
          end
          @cache.notify(calls)
          facts.zip(entries).each do |fact, entry|
            next if SharedLog.batch_entry(entry).first == :append

            @derivations.after_write(fact.store, fact)
          end
          facts
        end

        # What a {#write_batch} entry is, its keys made Symbols.
        # @param entry [Hash]
        # @return [Array(Symbol, Hash)] +:append+ or +:write+, and the entry
        # @raise [ArgumentError] for an entry that is neither
        def self.batch_entry(entry)
          entry = entry.transform_keys(&:to_sym)
          return [:append, entry] if entry.key?(:history)
          return [:write, entry] if entry.key?(:store)

          raise ArgumentError, "a batch entry needs store:/key:/value: (a write) or history:/event: (an append), " \
                               "got #{entry.keys.inspect}"
        end

        # A {#write_batch} entry as the keywords of {IgniterStore#write} or
        # {IgniterStore#append} (an append's unknown keys are dropped).
        # @param entry [Hash]
        # @return [Array(Symbol, Hash)] +:write+ or +:append+, and the keywords
        # @raise [ArgumentError] for an entry that is neither
        def self.batch_keywords(entry)
          kind, entry = batch_entry(entry)
          return [kind, entry] if kind == :write

          [kind, entry.slice(:schema_version, :valid_time, :term, :partition_key, :producer, :derivation)
                      .merge(history: entry[:history], event: entry[:event])]
        end

        # @return [Boolean] true when reads are served by the backend's shared log
        def shared_log?
          @shared_log
        end

        private

        # @return [Object, nil] the backend's own log, when it declares one
        def shared_log_of(backend)
          Capabilities.of(backend).include?(Capabilities::FACT_LOG) ? backend.fact_log : nil
        end

        # Subscribes the engine to the log's commit tail (once); called when
        # there is something to feed: a changefeed or a registered consumer.
        def follow_commits
          return unless @shared_log

          @log.on_commit(on_calls: @cache.method(:notify)) { |fact| settle_shared(fact) }
        end

        # What `settle` does after a commit, for a fact from the tail: cached
        # entries dropped (they only serve consumer bookkeeping here),
        # changefeed emitted; consumer calls returned for after the locks.
        def settle_shared(fact)
          calls = @cache.evict(store: fact.store, key: fact.key, scope_changes: {})
          @changefeed&.emit(fact)
          calls
        end

        def write_entry(entry)
          kind, keywords = SharedLog.batch_keywords(entry)
          kind == :write ? write(**keywords) : append(**keywords)
        end
      end
    end
  end
end
