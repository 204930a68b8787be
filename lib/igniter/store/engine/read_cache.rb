# frozen_string_literal: true

require "monitor"
require_relative "../core/cached_points"

module Igniter
  module Store
    # Memo of point reads and scope queries in front of the fact log, plus the
    # registry of the consumers notified when a store changes.
    #
    # Entries hold whatever object they are given and are never sent a
    # message (the 0.5.2 specs store bare doubles); only the entry's own
    # +cached_at+ is consulted for ttl.
    #
    # Two kinds of entries:
    # - current state (+as_of+ nil): live until the next invalidation of their
    #   store; point entries are additionally bounded by +current_cap+ (oldest
    #   inserted evicted first) so a store with millions of distinct keys read
    #   once cannot grow the cache without limit;
    # - time travel (+as_of+ given): an LRU bounded by +lru_cap+ (point and
    #   scope entries share the cap); {#lru_size} counts them. They live in a
    #   TravelCache, Rust on the native path and Ruby on the pure path
    #   (doc/performance.md, "Native time-travel cache").
    #
    # Point and scope entries live in separate tables, so a store literally
    # named +:scope+ cannot be mistaken for a scope entry (a 0.5.2 weakness).
    class ReadCache
      include CachedPoints

      # Cached time-travel reads kept.
      DEFAULT_LRU_CAP = 1_000
      # Bound of current-state point entries; far above the LRU cap because
      # such entries are the hot path of `read`.
      DEFAULT_CURRENT_CAP = 100_000

      # A current-state entry knows where it is filed (and holds its +versions+
      # Hash, so an eviction drops it without walking the tables), so the bound
      # tracker can hold the entry itself (identity-hashed) instead of building
      # an Array key per access.
      Entry = Struct.new(:value, :cached_at, :kind, :store, :name, :as_of, :versions)
      private_constant :Entry
      NO_CALLS = [].freeze
      private_constant :NO_CALLS

      # @return [Integer] bound of tracked time-travel entries
      attr_reader :lru_cap
      # @return [Integer] bound of current-state point entries
      attr_reader :current_cap

      # @param lru_cap [Integer] max tracked time-travel entries
      # @param current_cap [Integer] max current-state point entries
      def initialize(lru_cap: DEFAULT_LRU_CAP, current_cap: DEFAULT_CURRENT_CAP)
        @lru_cap = lru_cap
        @current_cap = current_cap
        @monitor = Monitor.new
        @travel = TravelCache.new(lru_cap)
        @point_consumers = Hash.new { |h, k| h[k] = [] }
        @scope_consumers = Hash.new { |h, k| h[k] = [] }
        reset_entries
      end

      # Registers a point consumer, called `(store, key)` on every
      # invalidation of +store+.
      # @return [void]
      def register_consumer(store, callable)
        @monitor.synchronize do
          @touched = true
          @point_consumers[store] << callable
        end
      end

      # Registers a scope consumer, called `(store, scope)` when a cached
      # entry of that scope is invalidated by a membership-changing write.
      # @return [void]
      def register_scope_consumer(store, scope, callable)
        @monitor.synchronize do
          @touched = true
          @scope_consumers[[store, scope]] << callable
        end
      end

      # @return [Object, nil] the cached fact, nil on miss or when older than +ttl+ seconds
      def get(store:, key:, as_of: nil, ttl: nil)
        return @monitor.synchronize { @travel.get(false, store, key, as_of, ttl) } unless as_of.nil?

        fetch(@points, store, key, ttl)
      end

      # Stores (or overwrites) a point entry.
      # @param generation [Integer, nil] when given, the put is skipped if any
      #   invalidation happened since {#generation} returned this number, so a
      #   reader that raced a write cannot cache the value it read before the write
      # @return [void]
      def put(store:, key:, fact:, as_of: nil, generation: nil)
        store_entry(@points, store, key, as_of, fact, :point, generation)
      end

      # A point read through the cache in one locked section: the cached
      # answer when there is a fresh one, else the block's answer, cached
      # unless nil. The block runs under the cache's lock, so an eviction
      # (which a write does after its fact is visible) cannot slip between
      # the read and the caching of its answer. It must not call the cache.
      #
      # @yieldreturn [Object, nil] the uncached answer
      # @return [Object, nil]
      def fetch_point(store, key, as_of, ttl)
        @monitor.synchronize do
          cached = get(store: store, key: key, as_of: as_of, ttl: ttl)
          return cached unless cached.nil?

          # The generation too, not only the lock: a write whose eviction
          # finds nothing to drop takes no lock ({#evict_key}).
          seen = @generation
          value = yield
          put(store: store, key: key, fact: value, as_of: as_of, generation: seen) unless value.nil?
          value
        end
      end

      # {#fetch_point} of a time-travel read answered by +log+
      # (`log.latest(store, key, as_of)`): one call into the TravelCache,
      # which on the native path probes, asks the native log, inserts and
      # evicts in Rust without building a Ruby object per miss. It is given
      # this cache's monitor and takes it where its path needs it (the pure
      # one always; the native one guards the race with a write by a
      # generation count of its own instead).
      # @param as_of [Object] not nil
      # @return [Object, nil]
      def read_point(store, key, as_of, ttl, log)
        @touched = @travel_used = true # before the probe: see {#evict_key}
        @travel.fetch_point(store, key, as_of, ttl, log, @monitor)
      end

      # @return [Object, nil] the cached fact list of a scope
      def get_scope(store:, scope:, as_of: nil, ttl: nil)
        return @monitor.synchronize { @travel.get(true, store, scope, as_of, ttl) } unless as_of.nil?

        fetch(@scopes, store, scope, ttl)
      end

      # Stores (or overwrites) a scope entry; see {#put} for +generation+.
      # @return [void]
      def put_scope(store:, scope:, facts:, as_of: nil, generation: nil)
        store_entry(@scopes, store, scope, as_of, facts, :scope, generation)
      end

      # Drops every scope entry of +store+ and the point entries of +key+ (of
      # every key when nil), any +as_of+, then notifies consumers: every point
      # consumer of +store+, and the scope consumers of each dropped scope
      # whose +scope_changes+ entry is not +:unchanged+. Consumers run outside
      # the lock; their StandardErrors are swallowed.
      # @param scope_changes [Hash{Object => Symbol}] +:changed+, +:unchanged+ or +:unknown+
      # @return [void]
      def invalidate(store:, key: nil, scope_changes: {})
        notify(evict(store: store, key: key, scope_changes: scope_changes))
      end

      # First half of {#invalidate}: drops the entries and returns the
      # pending notifications without calling anyone, so the store can drop
      # stale entries inside its commit section and call consumers after it.
      # @return [Array<Array(#call, Array)>] callables with their arguments
      def evict(store:, key: nil, scope_changes: {})
        evict_key(store, key, scope_changes)
      end

      # {#evict} with positional arguments, for the store's commit path.
      # @return [Array<Array(#call, Array)>]
      def evict_key(store, key, scope_changes)
        # Fast path, without the monitor: nothing of +store+ is cached, the
        # time-travel cache was never filled, nobody listens. The generation
        # is bumped first, then the tables are looked at (doc/performance.md
        # "Engine write path"): a reader that read the log before the write's
        # fact was visible either cached its answer before the bump (so it is
        # seen here and dropped below, under the monitor) or holds an older
        # generation and caches nothing (put with generation, fetch_point);
        # a time-travel reader sets @travel_used before it probes, so one that
        # is not seen here probes after the fact is visible. Only writers
        # bump the generation (the store's under its write lock), and
        # `+= 1` on an Integer ivar runs no interrupt check between the read
        # and the write, so under the GVL no bump is lost.
        @generation += 1
        return NO_CALLS unless @touched
        unless @travel_used || @scopes.key?(store) || @points.key?(store) || @point_consumers.key?(store)
          return NO_CALLS
        end

        @monitor.synchronize do
          @generation += 1
          dropped_scopes = @scopes.key?(store) ? drop_scopes(store) : NO_CALLS
          drop_points(store, key) if @points.key?(store)
          travel_scopes = @travel.drop(store, key)
          dropped_scopes = (dropped_scopes + travel_scopes).uniq if travel_scopes
          consumers = @point_consumers.fetch(store, nil)
          # Nothing cached and nobody listening: the common write allocates nothing here.
          next NO_CALLS if consumers.nil? && dropped_scopes.empty?

          calls = consumers ? consumers.map { |c| [c, [store, key]] } : []
          dropped_scopes.each do |scope|
            next if scope_changes[scope] == :unchanged

            @scope_consumers.fetch([store, scope], []).each { |c| calls << [c, [store, scope]] }
          end
          calls
        end
      end

      # Calls what {#evict} returned; a failing consumer never stops the others.
      # @return [void]
      def notify(calls)
        return if calls.empty?

        calls.each do |callable, args|
          callable.call(*args)
        rescue StandardError
          nil
        end
      end

      # Drops every entry but keeps the registered consumers (0.5.2 replaced
      # the whole cache on compaction and so silently lost them).
      # @return [void]
      def clear!
        @monitor.synchronize do
          @generation += 1
          reset_entries
          @travel.clear
        end
      end

      # @return [Integer] number of tracked time-travel entries
      def lru_size
        @monitor.synchronize { @travel.size }
      end

      # A counter bumped by every invalidation and {#clear!}; pass it to
      # {#put}/{#put_scope} to skip caching a value read before a write.
      # @return [Integer]
      def generation
        @monitor.synchronize { @generation }
      end

      private

      def reset_entries
        # table => {store => {key_or_scope => {nil => Entry}}} (current state only)
        @points = {}
        @scopes = {}
        # Insertion-ordered identity set of current point entries (oldest first).
        @current = {}.compare_by_identity
        @generation ||= 0
        # Set (never reset: a reader may be about to probe) once a time-travel
        # entry may exist, so a write skips TravelCache#drop until then.
        @travel_used ||= false
        # Set (never reset) once anything was cached or a consumer registered:
        # until then a write's eviction only bumps the generation.
        @touched ||= false
      end

      def fetch(table, store, name, ttl)
        @monitor.synchronize do
          entry = table.dig(store, name, nil)
          return nil unless entry

          if ttl && now - entry.cached_at > ttl
            # Expired for this caller; dropping it keeps dead entries from piling up
            # (0.5.2 never removed them). A later reader simply misses.
            remove(table, entry)
            return nil
          end
          entry.value
        end
      end

      def store_entry(table, store, name, as_of, value, kind, generation)
        @monitor.synchronize do
          # Flags and the store's table first, the generation check after
          # ({#evict_key} bumps first and looks after, without the monitor):
          # a thread switch may fall on the check's branch, and a write that
          # runs there must then see this entry coming and drop it under the
          # monitor, which this section still holds.
          @touched = true
          if as_of.nil?
            store_table = (table[store] ||= {})
          else
            @travel_used = true
          end
          return if generation && generation != @generation
          return @travel.put(kind == :scope, store, name, as_of, value) unless as_of.nil?

          versions = (store_table[name] ||= {})
          entry = versions[as_of]
          if entry
            # Re-putting a tracked key keeps its position, as in 0.5.2.
            entry.value = value
            entry.cached_at = now
            return
          end

          entry = versions[as_of] = Entry.new(value, now, kind, store, name, as_of, versions)
          track_current(entry) if kind == :point
        end
      end

      def track_current(entry)
        @current[entry] = true
        while @current.size > @current_cap
          remove_entry(@points, @current.shift.first)
        end
      end

      def remove(table, entry)
        remove_entry(table, entry)
        @current.delete(entry)
      end

      def remove_entry(table, entry)
        versions = entry.versions
        return unless versions[entry.as_of].equal?(entry)

        versions.delete(entry.as_of)
        return unless versions.empty?

        # The versions Hash may already be unlinked (its key was invalidated).
        by_name = table[entry.store] or return
        return unless by_name[entry.name].equal?(versions)

        by_name.delete(entry.name)
        table.delete(entry.store) if by_name.empty?
      end

      def drop_scopes(store)
        by_scope = @scopes.delete(store) or return NO_CALLS
        by_scope.keys
      end

      def drop_points(store, key)
        drop_points_of(@current, store, key)
      end
    end
  end
end
