# frozen_string_literal: true

require_relative "../cached_points"

module Igniter
  module Store
    # The time-travel (+as_of+) half of ReadCache on the pure path: an LRU
    # bounded by +cap+ whose point and scope entries share the cap. The
    # native path's Rust class of the same name behaves the same
    # (doc/performance.md, "Native time-travel cache"). Not thread-safe on its
    # own: ReadCache calls it under its monitor.
    #
    # Keys compare as Ruby Hash keys (+eql?+), one table per kind, then store,
    # name and as_of. Values are never sent a message.
    class TravelCache
      include CachedPoints

      # An entry knows where it is filed, so an eviction drops it without
      # walking the tables and the recency Hash can hold the entry itself.
      Entry = Struct.new(:value, :cached_at, :scope, :store, :name, :as_of, :versions)
      private_constant :Entry

      # @return [Integer] most entries kept
      attr_reader :cap

      # @param cap [Integer] most entries kept (below 0 keeps none)
      # @raise [ArgumentError] cap not an Integer
      def initialize(cap)
        raise ArgumentError, "lru_cap must be an Integer, not #{cap.inspect}" unless cap.is_a?(Integer)

        @cap = cap.clamp(0, 0xFFFF_FFFF)
        clear
      end

      # @param scope [Boolean] true for a scope entry, false for a point entry
      # @param ttl [Numeric, nil] max age in seconds
      # @return [Object, nil] the value, promoted to most recently used; nil on
      #   a miss or when older than +ttl+ (the entry is then dropped)
      def get(scope, store, name, as_of, ttl)
        entry = find(scope ? @scopes : @points, store, name, as_of)
        entry && hit(entry, ttl)
      end

      # Stores an entry, or overwrites one in place (keeping its position),
      # then evicts the least recently used entries beyond the cap.
      # @return [void]
      def put(scope, store, name, as_of, value)
        table = scope ? @scopes : @points
        versions = ((table[store] ||= {})[name] ||= {})
        entry = versions[as_of]
        if entry
          entry.value = value
          entry.cached_at = now
          return
        end

        insert(versions, Entry.new(value, now, scope, store, name, as_of, versions))
        nil
      end

      # The cached point answer, else `log.latest(store, key, as_of)`, cached
      # unless nil, all under +monitor+ (the ReadCache's), so a write's
      # invalidation cannot slip between the log's answer and its caching.
      # @param monitor [Monitor]
      # @return [Object, nil]
      def fetch_point(store, key, as_of, ttl, log, monitor)
        monitor.synchronize do
          by_key = @points[store]
          versions = by_key && by_key[key]
          entry = versions && versions[as_of]
          if entry
            @lru.delete(entry)
            @lru[entry] = true
            return entry.value unless ttl && now - entry.cached_at > ttl

            remove(entry)
            versions = nil
          end
          seen = @generation
          value = log.latest(store, key, as_of)
          # A drop while the log answered (a write's): its answer may be stale.
          return value if value.nil? || seen != @generation

          if versions.nil? || versions.empty?
            by_key = (@points[store] ||= {})
            versions = (by_key[key] ||= {})
          end
          insert(versions, Entry.new(value, now, false, store, key, as_of, versions))
          value
        end
      end

      # @return [Integer] number of entries
      def size
        @lru.size
      end

      # Drops every scope entry of +store+ and its point entries of +key+
      # (every key when nil).
      # @return [Array, nil] the distinct names of the dropped scopes, least
      #   recently used first; nil when none
      def drop(store, key)
        @generation += 1
        names = drop_scopes(store) if @scopes.key?(store)
        drop_points(store, key) if @points.key?(store)
        names
      end

      # Drops every entry.
      # @return [void]
      def clear
        @generation = (@generation || 0) + 1
        @points = {}
        @scopes = {}
        # Insertion-ordered identity set of entries, least recently used first.
        @lru = {}.compare_by_identity
        nil
      end

      private

      def find(table, store, name, as_of)
        by_name = table[store]
        versions = by_name && by_name[name]
        versions && versions[as_of]
      end

      # Promotes +entry+, then drops it if it is older than +ttl+.
      def hit(entry, ttl)
        @lru.delete(entry)
        @lru[entry] = true
        return entry.value unless ttl && now - entry.cached_at > ttl

        remove(entry)
        nil
      end

      def insert(versions, entry)
        versions[entry.as_of] = entry
        @lru[entry] = true
        unfile(@lru.shift[0]) while @lru.size > @cap
      end

      def remove(entry)
        @lru.delete(entry)
        unfile(entry)
      end

      # Takes +entry+ out of its tables (not out of the recency Hash).
      def unfile(entry)
        versions = entry.versions
        return unless versions[entry.as_of].equal?(entry)

        versions.delete(entry.as_of)
        return unless versions.empty?

        table = entry.scope ? @scopes : @points
        by_name = table[entry.store] or return
        return unless by_name[entry.name].equal?(versions)

        by_name.delete(entry.name)
        table.delete(entry.store) if by_name.empty?
      end

      def drop_scopes(store)
        by_scope = @scopes.delete(store)
        doomed = {}.compare_by_identity
        by_scope.each_value { |versions| versions.each_value { |entry| doomed[entry] = true } }
        names = {}
        @lru.each_key { |entry| names[entry.name] = true if doomed.key?(entry) }
        doomed.each_key { |entry| @lru.delete(entry) }
        names.keys
      end

      def drop_points(store, key)
        drop_points_of(@lru, store, key)
      end
    end
  end
end
