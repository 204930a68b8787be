# frozen_string_literal: true

require "securerandom"
require "set"
require "monitor"
require_relative "../storage/backend"

require_relative "names"
require_relative "scope_index"
require_relative "partition_index"
require_relative "coercions"
require_relative "derivations"
require_relative "compaction"
require_relative "prune"
require_relative "lineage"
require_relative "time_bounds"
require_relative "shared_log"
require_relative "write_group"

module Igniter
  module Store
    # The store engine: writes facts through the fact log (and a backend when
    # given), answers point reads, time travel, scope queries and histories,
    # keeps the read cache and the scope/partition indexes consistent, and
    # runs reactive rules (derivations, scatters, relations), retention and
    # exact prunes.
    #
    # Store names are normalized to Symbols and keys to Strings at every
    # entry point, so `write(key: :k)` and `read(key: "k")` address the same
    # fact, cache entry and index member.
    #
    # Writers are serialized by one reentrant lock around the commit
    # (previous-fact lookup, persistence, log append, index maintenance,
    # cache eviction, changefeed emission) and around log rebuilds, so
    # causation chains stay linear and a write racing a compaction or prune
    # cannot vanish. Consumers, derivations and scatters run after the commit,
    # outside the lock. Readers take no store-wide lock.
    #
    # The parts with state of their own are collaborators, each given only
    # what it needs (doc/contracts.md "Engine collaborators"): indexes,
    # read cache, coercions, derivations, compaction, prune and lineage.
    class IgniterStore
      include Engine::Names
      include Engine::TimeBounds
      include Engine::SharedLog
      include Engine::GroupedWrites

      # @return [SchemaGraph] registered paths, rules and policies
      attr_reader :schema_graph
      # @return [#emit, nil] the changefeed given to the constructor
      attr_reader :changefeed
      # @return [#write_fact, nil] the persistence backend given to the constructor
      #   (read by the web console for its recovery report); nil = memory only
      attr_reader :backend

      # Opens (or creates) a store persisted in a {FileBackend} WAL at +path+
      # and replays it. If opening fails after the backend took the ledger lock,
      # the backend is closed again, so the lock is not left behind.
      #
      # @param recovery [Symbol] `:salvage` (default), `:strict` or `:truncate` (see {FileBackend#initialize})
      # @param read_only [Boolean] a read-only store: shares the lock with other
      #   readers, writes nothing; its writes raise {ReadOnlyLedgerError}
      # @return [IgniterStore]
      def self.open(path, lru_cap: ReadCache::DEFAULT_LRU_CAP, recovery: :salvage, read_only: false)
        backend = FileBackend.new(path, recovery: recovery, read_only: read_only)
        begin
          store = new(backend: backend, lru_cap: lru_cap)
          store.replay_from(backend)
          store
        rescue Exception # rubocop:disable Lint/RescueException -- release the lock on any failure, then re-raise
          backend.close
          raise
        end
      end

      # An empty store. Nothing is read from +backend+; it only receives
      # `write_fact` calls (and snapshot calls when it supports them).
      #
      # @param backend [Backend, nil] persistence; nil keeps facts in memory only
      # @param lru_cap [Integer] bound of cached time-travel reads
      # @param changefeed [#emit, nil] receives every written/appended fact
      # @raise [ArgumentError] +backend+ does not keep the backend contract
      #   (no `write_fact` or no declared `capabilities`; doc/contracts.md)
      def initialize(backend: nil, lru_cap: ReadCache::DEFAULT_LRU_CAP, changefeed: nil)
        @backend = Backend.check!(backend)
        @lru_cap = lru_cap
        @changefeed = changefeed
        # shared log: a backend that serves its own log (Engine::SharedLog) replaces the in-memory one.
        @log = shared_log_of(backend)
        @shared_log = !@log.nil?
        @log ||= FactLog.new
        @cache = ReadCache.new(lru_cap: lru_cap)
        @schema_graph = SchemaGraph.new
        # The two Hashes keep 0.5.2's shape, because sibling igniter packages
        # (the durable-model playground's inspector) read them:
        # `[store, scope] => Set<key>` and `[store, partition_key] =>
        # {value => [Fact]}`. The index objects own and maintain them.
        @scope_index = {}
        @partition_index = {}
        @scopes = Engine::ScopeIndex.new(@scope_index)
        @partitions = Engine::PartitionIndex.new(@partition_index)
        # nil until a coercion is registered: reads then test one ivar, call nothing.
        @coercions = nil
        @write_lock = Monitor.new
        @write_group = write_group_for(backend)
        build_collaborators
        # Re-applies protocol descriptors registered before a reopen (sidecar file, not facts).
        @descriptor_journal = Protocol::DescriptorJournal.attach(self, backend)
        follow_commits if @changefeed # shared log
      end

      # --- registration ---------------------------------------------------

      # Registers an access path and its consumers: scope paths get scope
      # consumers (`(store, scope)`), point paths point consumers (`(store, key)`).
      # @param path [AccessPath]
      # @return [self]
      def register_path(path)
        @schema_graph.register(path)
        store = path.store.nil? ? nil : normalize_store(path.store)
        follow_commits unless path.consumers.to_a.empty? # shared log
        path.consumers.to_a.each do |consumer|
          if path.scope
            @cache.register_scope_consumer(store, path.scope, consumer)
          else
            @cache.register_consumer(store, consumer)
          end
        end
        self
      end

      # Registers projection metadata (no execution).
      # @return [self]
      def register_projection(projection_path)
        @schema_graph.register_projection(projection_path)
        self
      end

      # Registers (replacing any earlier one) the coercion of +store_name+:
      # read-time schema migration, applied on read paths only (stored facts
      # are never modified). The block runs on every read (no memo); its
      # errors reach the reader.
      #
      # @yieldparam value [Object] the stored value
      # @yieldparam schema_version [Integer]
      # @yieldreturn [Object] the value to expose
      # @return [self]
      def register_coercion(store_name, &block)
        (@coercions ||= Engine::Coercions.new).register(store_name, block)
        self
      end

      # --- reactive rules (Engine::Derivations) ----------------------------

      # Registers a gather rule: after each write to +source_store+,
      # `rule.call(facts)` gets the latest fact of every key of the store
      # that matches +source_filters+; a truthy result is written to
      # +target_store+ under +target_key+ (or `target_key.call(facts)`).
      # @return [self]
      def register_derivation(source_store:, target_store:, target_key:, rule:, source_filters: {})
        @derivations.register_derivation(source_store: source_store, target_store: target_store,
                                         target_key: target_key, rule: rule, source_filters: source_filters)
        self
      end

      # Registers a scatter rule: after each write to +source_store+ whose
      # value has a truthy +partition_by+ field, `rule.call(partition_value,
      # existing_target_value, source_fact)`; a truthy result is written to
      # +target_store+ under `partition_value.to_s`.
      # @return [self]
      def register_scatter(source_store:, partition_by:, target_store:, rule:)
        @derivations.register_scatter(source_store: source_store, partition_by: partition_by,
                                      target_store: target_store, rule: rule)
        self
      end

      # Declares a 1-N relation: source keys grouped by their +partition+
      # field, indexed in store `:"__rel_<name>"` as `{keys:, count:,
      # partition_key:}`. The index only grows (a G-set, as in 0.5.2).
      # Re-registering a name replaces the earlier index rule instead of
      # adding a second one.
      # @return [self]
      def register_relation(name, source:, partition:, target:)
        @derivations.register_relation(name, source: source, partition: partition, target: target)
        self
      end

      # Current values of every source key related to +from+, one per key in
      # first-indexed order. With +as_of+ both the index and each source
      # value are read at that time.
      # @raise [ArgumentError] for an unknown relation
      # @return [Array<Object>] values ([] when nothing is indexed)
      def resolve(relation_name, from:, as_of: nil)
        @derivations.resolve(relation_name, from: from, as_of: as_of)
      end

      # --- retention and prune (Engine::Compaction, Engine::Prune) ---------

      # Declares the retention policy of +store+ (replacing an earlier one).
      # @param strategy [Symbol, String] +:permanent+ (never compacted), +:ephemeral+
      #   (keep the latest fact per key) or +:rolling_window+ (also keep facts
      #   younger than +duration+ seconds)
      # @param duration [Numeric, nil] required for +:rolling_window+
      # @raise [ArgumentError] for an unknown strategy or a rolling window
      #   without a non-negative duration (0.5.2 accepted both and then
      #   silently never dropped, or used a zero window)
      # @return [self]
      def set_retention(store, strategy:, duration: nil)
        @compaction.set_retention(store, strategy: strategy, duration: duration)
        self
      end

      # Applies the retention policy of +store+, or of every store with a
      # policy. Stores without a policy or with +:permanent+ give no report.
      # @return [Array<Hash>] per store: +store, strategy, dropped_count,
      #   kept_count, receipt_id, durable+
      def compact(store = nil)
        @compaction.compact(store ? normalize_store(store) : nil)
      end

      # @param store [Symbol, String, nil] only receipts of this compacted
      #   store; compared by name, so it also matches receipts whose Symbol
      #   became a String through a WAL round trip
      # @return [Array<Fact>] receipt facts in log order
      def compaction_receipts(store: nil)
        @compaction.receipts(store)
      end

      # Every compaction-like event, oldest first: retention compactions,
      # exact prunes (with +store:+ only those that removed a fact of that
      # store) and, when the backend reports them, segment purges.
      # @return [Array<Hash>] a new mutable Array of +kind, executor, store,
      #   status, reason, fact_count, receipt_id, occurred_at+
      def compaction_activity(store: nil)
        @compaction.activity(store, @prune.activity(store))
      end

      # Removes the facts with these ids from the live log and every index.
      #
      # The receipt is written (and persisted) first, then the log is
      # rebuilt without the facts, then the backend's snapshot replaces its
      # log so the facts cannot come back on reopen. Unknown ids are
      # reported, not an error; when none of the ids is live only the
      # receipt is written (nothing to rebuild).
      #
      # @param fact_ids [Enumerable<#to_s>, #to_s]
      # @param reason [Object] recorded in the receipt
      # @param metadata [Hash] recorded in the receipt
      # @param receipt_store [Symbol] store of the receipt fact
      # @return [Hash] +status: :ok, receipt_id, pruned_count, missing_count,
      #   pruned_fact_refs, missing_ids+; or +status: :unsupported, reason:
      #   :backend_does_not_support_exact_prune, backend:+ (class name) for a
      #   backend that cannot rewrite its log (nothing is changed then)
      def prune_fact_ids(fact_ids:, reason:, metadata: {}, receipt_store: Engine::Prune::DEFAULT_RECEIPT_STORE)
        @prune.prune(fact_ids: fact_ids, reason: reason, metadata: metadata, receipt_store: receipt_store)
      end

      # --- writes ---------------------------------------------------------

      # Records a new current value of +key+ in +store+.
      #
      # The fact's causation defaults to the id of the key's previous fact.
      # The fact is persisted before it enters memory, so a backend error
      # leaves both unchanged. Then point consumers, and the consumers of
      # scopes whose membership may have changed, are called; then
      # derivation and scatter rules of +store+ run (their errors propagate,
      # the source fact stays committed).
      #
      # @return [Fact] the stored fact
      # @raise [ArgumentError] "store is required", "key is required"
      def write(store:, key:, value:, schema_version: 1, causation: nil, valid_time: nil, term: nil,
                producer: nil, derivation: nil)
        # Inline checks: the already-normalized common case calls nothing.
        store = normalize_store(store) unless store.is_a?(Symbol)
        # nil would be stored as "" (Fact keys are Strings), silently merging with the empty key.
        raise ArgumentError, "key is required" if key.nil?

        key = normalize_key(key) unless key.is_a?(String)
        # A group-commit ledger: writers share a write and an fdatasync
        # (Engine::GroupedWrites#grouped?, inlined: a memory store tests one ivar).
        if @write_group && !@write_lock.mon_owned?
          fact = write_grouped([:write, store, key, value, causation, schema_version, valid_time, term, producer,
                                derivation, nil])
          @derivations.after_write(store, fact)
          return fact
        end

        # mon_enter/ensure rather than synchronize's block: the same lock,
        # without a block called back from C (doc/performance.md "Engine write path").
        @write_lock.mon_enter
        begin
          # One log call builds the fact (causation defaulting to the key's
          # previous fact), persists it through the backend, then appends it.
          fact = @log.write_new(store, key, value, causation, schema_version, valid_time, term,
                                producer, derivation, @backend)
          # The fact's key (UTF-8), not the caller's: index members and cache
          # entries are keyed by what the log stores.
          calls = settle(fact, store, fact.key)
        ensure
          @write_lock.mon_exit
        end
        @cache.notify(calls) unless calls.empty?
        @derivations.after_write(store, fact) if @schema_graph.reactive?
        fact
      end

      # Records an event in history store +history+ under a fresh UUID key,
      # without causation. Unlike 0.5.2 it keeps scope queries and the read
      # cache of +history+ current (and notifies its consumers); like 0.5.2
      # it runs no derivations or scatters.
      #
      # @param partition_key [Symbol, nil] extends a built {#history_partition}
      #   index of that field with this event
      # @return [Fact]
      def append(history:, event:, schema_version: 1, valid_time: nil, term: nil, partition_key: nil,
                 producer: nil, derivation: nil)
        store = history.is_a?(Symbol) ? history : normalize_store(history)
        field = partition_key.nil? ? nil : normalize_field(partition_key)
        if @write_group && !@write_lock.mon_owned? # grouped?, inlined as in #write
          return write_grouped([:append, store, nil, event, nil, schema_version, valid_time, term, producer, derivation,
                                field])
        end

        @write_lock.mon_enter # as in #write
        begin
          fact = @log.append_new(store, event, schema_version, valid_time, term, producer, derivation, @backend)
          @partitions.add(store, field, fact) if field
          calls = settle(fact, store, fact.key)
        ensure
          @write_lock.mon_exit
        end
        @cache.notify(calls) unless calls.empty?
        fact
      end

      # --- reads ----------------------------------------------------------

      # Reads a key: its latest value, or as of a transaction time (what the
      # ledger knew then), or valid at a valid time (what was true then), or
      # both: "what did we know at +as_of+ about what was true at +valid_at+".
      # The valid-time rules are in doc/bitemporal.md.
      #
      # @param as_of [Float, Time, nil] transaction time (inclusive); nil = now
      # @param valid_at [Float, Time, nil] valid time; nil = the key's latest fact
      # @param ttl [Numeric, nil] max age in seconds of a cached answer (reads
      #   with +valid_at+ are indexed lookups and never cached)
      # @return [Object, nil] the (coerced) value of the key's latest fact, or
      #   of the fact valid at +valid_at+ (nil when none was)
      # @raise [ArgumentError] as_of/valid_at not a Numeric/Time, ttl not a non-negative Numeric
      def read(store:, key:, as_of: nil, valid_at: nil, ttl: nil)
        # Inline checks: the already-normalized common case calls nothing.
        store = normalize_store(store) unless store.is_a?(Symbol)
        key = normalize_key(key) unless key.is_a?(String)
        ttl!(ttl) unless ttl.nil?
        unless valid_at.nil?
          fact = fact_valid_at(store: store, key: key, as_of: as_of, valid_at: valid_at)
          return fact && fact.value
        end
        if as_of.nil?
          # The log's latest fact is an indexed lookup and always current, so
          # a current-state read skips the cache: a cached answer could only
          # be the same fact, reached at a higher cost.
          fact = @log.latest(store, key, nil) or return nil
          return @coercions ? @coercions.value(store, fact) : fact.value
        end

        # A Float (the common bound) is checked inline: time_bound! costs more
        # method calls than the cached read itself.
        time_bound!(:as_of, as_of) unless as_of.is_a?(Float) && !as_of.nan?

        fact = if @shared_log # never cached: another process may commit at or before as_of
                 @log.latest(store, key, as_of)
               else
                 @cache.read_point(store, key, as_of, ttl, @log)
               end
        fact && (@coercions ? @coercions.value(store, fact) : fact.value)
      end

      # @param at [Float, Time] transaction time (what the ledger knew then)
      # @param valid_at [Float, Time, nil] valid time (what was true then)
      # @return [Object, nil] the value of +key+ as it was at time +at+
      def time_travel(store:, key:, at:, valid_at: nil)
        read(store: store, key: key, as_of: at, valid_at: valid_at)
      end

      # The fact behind `read(store:, key:, as_of:, valid_at:)`: the fact of
      # the key with the greatest valid time at or before +valid_at+ among
      # the facts recorded by +as_of+ (doc/bitemporal.md).
      #
      # @param as_of [Float, Time, nil] transaction time (inclusive); nil = now
      # @param valid_at [Float, Time] valid time
      # @return [Fact, CoercedFact, nil]
      # @raise [ArgumentError] as_of/valid_at not a Numeric/Time
      def fact_valid_at(store:, key:, valid_at:, as_of: nil)
        store = normalize_store(store) unless store.is_a?(Symbol)
        key = normalize_key(key) unless key.is_a?(String)
        time_bound!(:as_of, as_of)
        raise ArgumentError, "valid_at is required (seconds since the epoch or a Time)" if valid_at.nil?

        time_bound!(:valid_at, valid_at)
        fact = @log.latest_valid(store, key, as_of, valid_at) or return nil
        @coercions ? @coercions.apply(store, [fact]).first : fact
      end

      # The latest fact of every key of +store+ that matches the filters of
      # the registered path named +scope+.
      #
      # Answers are cached per scope until the next write to the store (or
      # for the ttl); a cached answer is the very same, frozen Array.
      #
      # @param ttl [Numeric, nil] overrides the path's +cache_ttl+
      # @raise [ArgumentError] when no path of +store+ has this +scope+
      # @return [Array<Fact, CoercedFact>] frozen; order unspecified
      def query(store:, scope:, as_of: nil, ttl: nil)
        store = normalize_store(store)
        time_bound!(:as_of, as_of)
        ttl!(ttl)
        path = @schema_graph.path_for(store: store, scope: scope)
        raise ArgumentError, "No registered path for store=#{store.inspect} scope=#{scope.inspect}" unless path

        # shared log: answers are recorded (for scope consumers) but never served.
        cached = @shared_log ? nil : @cache.get_scope(store: store, scope: scope, as_of: as_of, ttl: ttl || path.cache_ttl)
        return coerced(store, cached).freeze if cached

        generation = @cache.generation
        facts = scope_facts(store, scope, path.filters || {}, as_of).freeze
        @cache.put_scope(store: store, scope: scope, facts: facts, as_of: as_of, generation: generation)
        coerced(store, facts).freeze
      end

      # A key's (or a store's) facts in append order; with +valid_from+ or
      # +valid_to+, a key's valid-time history instead: the facts in effect
      # at some valid time within the bounds, as known at +as_of+, in
      # valid-time order (doc/bitemporal.md).
      #
      # @param key [String, nil] one key, or every key of the store when nil
      # @param since [Float, nil] inclusive lower transaction-time bound
      # @param as_of [Float, nil] inclusive upper transaction-time bound
      # @param valid_from [Float, Time, nil] inclusive lower valid-time bound
      # @param valid_to [Float, Time, nil] inclusive upper valid-time bound
      # @return [Array<Fact, CoercedFact>] in append order (valid-time order
      #   with valid bounds)
      # @raise [ArgumentError] a bound not a Numeric/Time; valid bounds
      #   without a key or together with +since+
      def history(store:, key: nil, since: nil, as_of: nil, valid_from: nil, valid_to: nil)
        store = normalize_store(store) unless store.is_a?(Symbol)
        key = normalize_key(key) unless key.is_a?(String)
        time_bound!(:since, since) unless since.nil?
        time_bound!(:as_of, as_of) unless as_of.nil?
        unless valid_from.nil? && valid_to.nil?
          return valid_history(store, key, since, as_of, valid_from, valid_to)
        end

        facts = @log.facts(store, key, since, as_of)
        @coercions ? @coercions.apply(store, facts) : facts
      end

      # Facts of +store+ whose value has +partition_key+ equal to
      # +partition_value+, from an index built on first use. After that the
      # index grows only through `append(..., partition_key:)` (0.5.2 rule).
      # @return [Array<Fact, CoercedFact>] in append order
      def history_partition(store:, partition_key:, partition_value:, since: nil, as_of: nil)
        store = normalize_store(store)
        time_bound!(:since, since)
        time_bound!(:as_of, as_of)
        field = normalize_field(partition_key)
        # shared log: the log filters the store's facts itself (no index to keep across processes).
        return coerced(store, @log.partition(store, field, partition_value, since, as_of)) if @shared_log

        unless @partitions.built?(store, field)
          # Under the write lock so an append cannot land both in the scan and in the index.
          @write_lock.synchronize { @partitions.build(store, field, @log.facts_for(store: store)) }
        end
        slice = @partitions.slice(store, field, partition_value)
        slice.select! { |f| f.transaction_time >= since } if since
        slice.select! { |f| f.transaction_time <= as_of } if as_of
        coerced(store, slice)
      end

      # @return [Array<Hash>] +id, value_hash+ (first 12 hex), +causation,
      #   transaction_time+ of each fact of the key, in log order
      def causation_chain(store:, key:)
        history(store: store, key: key).map do |fact|
          { id: fact.id, value_hash: fact.value_hash[0, 12], causation: fact.causation,
            transaction_time: fact.transaction_time }
        end
      end

      # Causal proof of one key: its fact chain, the derivation rules its
      # store feeds, and a SHA-256 over the chain.
      # @return [Hash] keys +subject+, +chain+, +depth+, +derived_by+, +proof_hash+.
      #   +chain+ entries carry +id, store, key, causation, value_hash (full),
      #   transaction_time, valid_time, schema_version+ in log order;
      #   +proof_hash+ is nil for an empty chain.
      def lineage(store:, key:)
        @lineage.of({ store: store, key: key }, normalize_store(store), normalize_key(key))
      end

      # @param fact_id [#to_s, nil]
      # @return [Fact, nil] the live fact with this id, exactly as stored (never coerced)
      def fact_by_id(fact_id)
        return nil if fact_id.nil?

        id = fact_id.to_s
        return nil if id.empty?

        @log.fact_by_id(id)
      end

      # @return [Hash, nil] +id, store, key, transaction_time, valid_time,
      #   value_hash+ of a live fact, without its value
      def fact_ref(fact_id)
        fact = fact_by_id(fact_id)
        return nil unless fact

        { id: fact.id, store: fact.store, key: fact.key, transaction_time: fact.transaction_time,
          valid_time: fact.valid_time, value_hash: fact.value_hash }
      end

      # @return [Array<Fact>] every live fact in append order, within the
      #   inclusive +since+/+as_of+ bounds
      def fact_log_all(since: nil, as_of: nil)
        time_bound!(:since, since)
        time_bound!(:as_of, as_of)
        facts = @log.all_facts
        facts.select! { |f| f.transaction_time >= since } if since
        facts.select! { |f| f.transaction_time <= as_of } if as_of
        facts
      end

      # @return [Integer] live facts (source, derived and receipts)
      def fact_count
        @log.size
      end

      # --- persistence ----------------------------------------------------

      # Writes a snapshot of the live log when the backend supports it, so
      # the next open replays from it.
      # @return [self]
      def checkpoint
        @backend.write_snapshot(@log.all_facts) if Capabilities.of(@backend).include?(Capabilities::SNAPSHOTS)
        self
      end

      # Closes the backend, if any.
      def close
        @backend&.close
      end

      # @return [Hash, nil] the backend's storage statistics, if it has any
      def storage_stats(store: nil)
        return nil unless Capabilities.of(@backend).include?(Capabilities::STORAGE_STATS)

        @backend.storage_stats(store: store)
      end

      # @return [Object, nil] the backend's segment manifest, if it has one
      def segment_manifest(store: nil)
        return nil unless Capabilities.of(@backend).include?(Capabilities::SEGMENT_MANIFEST)

        @backend.segment_manifest(store: store)
      end

      # @return [Protocol::Interpreter] the open-protocol surface of this store
      def protocol
        @protocol ||= Protocol::Interpreter.new(self)
      end

      # Registers an open-protocol descriptor packet.
      def register_descriptor(packet)
        protocol.register(packet)
      end

      # Loads facts that are already persisted (a backend's replay, a file
      # read at rest) into the log, in the given order, without persisting,
      # emitting, invalidating or deriving: how a store is rebuilt on open.
      # @param facts [Enumerable<Fact>] built facts, oldest first
      # @return [self]
      def restore(facts)
        facts.each { |fact| replay(fact) }
        self
      end

      # Loads every fact +backend+ replays, as {#restore} does. The log takes
      # them in bulk (the native log straight from the decoded WAL records),
      # unless a subclass redefined {#replay}: then each fact goes through it,
      # as in 0.5.2 (doc/contracts.md).
      # @param backend [Backend]
      # @return [nil]
      def replay_from(backend)
        if self.class.replay_redefined?
          restore(backend.replay)
        elsif backend.respond_to?(:replay_into)
          # A segmented backend hands a native log its decoded records (SegmentedFileBackend#replay_into).
          backend.replay_into(@log)
        else
          @log.replay_from(backend)
        end
        nil
      end

      class << self
        # Notes a subclass defining its own #replay (read by {.replay_redefined?}).
        # @return [void]
        def method_added(name)
          @replay_redefined = true if name == :replay && !equal?(IgniterStore)
          super
        end

        # @return [Boolean] true when this class, or a superclass below
        #   IgniterStore, defines its own #replay(fact)
        def replay_redefined?
          klass = self
          until klass.equal?(IgniterStore)
            return true if klass.instance_variable_defined?(:@replay_redefined)

            klass = klass.superclass
          end
          false
        end
      end

      protected

      # Adds an already-built fact (from a backend replay) to the log without
      # persisting, emitting, invalidating or deriving.
      # @return [Fact]
      def replay(fact)
        @log.replay(fact)
        fact
      end

      private

      # The collaborators with state of their own (doc/contracts.md "Engine
      # collaborators"). They reach the live log through a reader, because
      # {#rebuild_log!} replaces it, and write receipts and derived facts
      # through {#write}, as a caller would.
      def build_collaborators
        live_log = -> { @log }
        write = ->(**entry) { write(**entry) }
        rebuild = method(:rebuild_log!)
        @derivations = Engine::Derivations.new(schema_graph: @schema_graph, log: live_log, write: write,
                                               read: ->(**query) { read(**query) })
        @compaction = Engine::Compaction.new(schema_graph: @schema_graph, log: live_log, backend: @backend,
                                             shared_log: @shared_log, lock: @write_lock, write: write, rebuild: rebuild)
        @prune = Engine::Prune.new(log: live_log, backend: @backend, shared_log: @shared_log, lock: @write_lock,
                                   fact_ref: method(:fact_ref), write: write, rebuild: rebuild)
        @lineage = Engine::Lineage.new(log: live_log, schema_graph: @schema_graph)
      end

      # @return [Array<Fact, CoercedFact>] +facts+ itself without a coercion
      #   for +store+ (cached query answers keep their identity)
      def coerced(store, facts)
        @coercions ? @coercions.apply(store, facts) : facts
      end

      # {#history} with valid-time bounds (arguments normalized, tt bounds checked).
      def valid_history(store, key, since, as_of, valid_from, valid_to)
        raise ArgumentError, "history with valid_from/valid_to needs a key" if key.nil?
        unless since.nil?
          raise ArgumentError, "history takes since (transaction time) or valid_from/valid_to (valid time), not both"
        end

        time_bound!(:valid_from, valid_from)
        time_bound!(:valid_to, valid_to)
        coerced(store, @log.facts_valid(store, key, as_of, valid_from, valid_to))
      end

      # Commits a fact built elsewhere ({#ingest_fact}); the caller holds the
      # write lock. Persist first so a backend failure leaves memory
      # untouched, then make the fact visible, then bring indexes and cache
      # in line and emit. (write/append do the same in one log call.)
      # @return [Array] pending consumer notifications
      def commit(fact)
        @backend&.write_fact(fact) unless @shared_log # a shared log persists in `append`
        @log.append(fact)
        settle(fact, fact.store, fact.key)
      end

      NO_SCOPE_CHANGES = {}.freeze
      private_constant :NO_SCOPE_CHANGES

      # After a fact entered the log (write lock held): scope indexes, cache
      # eviction, changefeed. A store without registered paths skips the
      # scope work entirely.
      # @return [Array] pending consumer notifications
      def settle(fact, store, key)
        return @log.deliver(fact) if @shared_log # the commit tail settles, in commit order

        changes = if @schema_graph.paths?(store)
                    @scopes.update(store, key, fact.value, @schema_graph.paths_for(store))
                  else
                    NO_SCOPE_CHANGES
                  end
        calls = @cache.evict_key(store, key, changes)
        @changefeed&.emit(fact)
        calls
      end

      def scope_facts(store, scope, filters, as_of)
        # Time travel reads the log as of then; a scope-less (point) path has
        # no maintained index, so it is always answered by a scan; so is every
        # query on a shared log, whose index could miss another process's write.
        return @log.query_scope(store: store, filters: filters, as_of: as_of) if as_of || scope.nil? || @shared_log

        keys = @scopes.keys(store, scope)
        return latest_of(store, keys) if keys

        # Cold: scan and build under the write lock, so no write can slip
        # between the scan and the index creation and be missing from it.
        @write_lock.synchronize do
          keys = @scopes.keys(store, scope)
          next latest_of(store, keys) if keys

          facts = @log.query_scope(store: store, filters: filters)
          @scopes.build(store, scope, facts.map(&:key))
          facts
        end
      end

      def latest_of(store, keys)
        keys.filter_map { |key| @log.latest_for(store: store, key: key) }
      end

      # Replaces the live log with exactly +facts+ (in this order) and drops
      # everything derived from the old one. Registered consumers are kept.
      # Does not touch the backend.
      def rebuild_log!(facts)
        @write_lock.synchronize do
          log = FactLog.new
          facts.each { |fact| log.replay(fact) }
          @log = log
          @scopes.clear
          @partitions.clear
          @cache.clear!
        end
        nil
      end
    end
  end
end

require_relative "fact_ingest"
