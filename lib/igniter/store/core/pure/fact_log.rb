# frozen_string_literal: true

require "monitor"
require_relative "../json_canon"
require_relative "../valid_time"

module Igniter
  module Store
      # In-memory append-only log (doc/facts.md "The fact log"). "Latest" always means last
      # appended; transaction times only bound `as_of` / `since` (inclusive).
      #
      # Every method is safe across threads and returns fresh Arrays. Writers
      # take the lock; a current read of one key ({#latest} without a bound,
      # {#facts} of a key without bounds) does not: it is two Hash lookups and
      # one Array read, each a single C call that the GVL keeps whole, over
      # indexes that only ever grow (a writer publishes a key's series before
      # its first fact, and a fact only by its `<<`), so it sees the log as of
      # before or after any concurrent append, as a locked read would.
      class FactLog
        # Facts in append order, with a flag that stays true while their
        # transaction times never decrease; while it holds, time bounds are
        # found by binary search, afterwards by a linear scan.
        class Series
          # @return [Array<Fact>]
          attr_reader :facts

          def initialize
            @facts = []
            @monotonic = true
          end

          # Appends +fact+; a time below the last one ends the binary-search order.
          def push(fact)
            last = @facts.last
            @monotonic = false if last && fact.transaction_time < last.transaction_time
            @facts << fact
          end

          # @return [Fact, nil] last fact with tt <= as_of (any, if as_of is nil)
          def latest(as_of)
            return @facts.last if as_of.nil?
            return @facts.reverse_each.find { |f| f.transaction_time <= as_of } unless @monotonic

            upper = @facts.bsearch_index { |f| f.transaction_time > as_of } || @facts.size
            upper.zero? ? nil : @facts[upper - 1]
          end

          # @return [Array<Fact>] new Array of the facts with since <= tt <= as_of
          def between(since, as_of)
            return @facts.dup if since.nil? && as_of.nil?

            unless @monotonic
              return @facts.select do |f|
                (since.nil? || f.transaction_time >= since) && (as_of.nil? || f.transaction_time <= as_of)
              end
            end

            lower = since ? (@facts.bsearch_index { |f| f.transaction_time >= since } || @facts.size) : 0
            upper = as_of ? (@facts.bsearch_index { |f| f.transaction_time > as_of } || @facts.size) : @facts.size
            lower < upper ? @facts[lower...upper] : []
          end
        end
        private_constant :Series

        # One store's facts, plus its key series in first-appearance order.
        StoreIndex = Struct.new(:all, :keys)
        private_constant :StoreIndex

        def initialize
          @lock = Monitor.new
          @facts = []
          @by_id = {}
          @stores = {} # Symbol => StoreIndex
        end

        # Appends a fact to every index. No validation, no dedup.
        #
        # @param fact [Fact]
        # @return [Fact] the same fact
        def append(fact)
          store = fact.store.to_sym
          key = JsonCanon.key_string(fact.key)
          @lock.synchronize do
            index = (@stores[store] ||= StoreIndex.new(Series.new, {}))
            add(fact, index, index.keys[key] ||= Series.new)
          end
          fact
        end

        # Appends every fact +backend+ replays, in its order.
        # @param backend [#replay]
        # @return [void]
        def replay_from(backend)
          facts = backend.replay
          # One lock for the whole replay (the backend read outside it), and
          # {#append}'s indexing inline: no call or lock per fact.
          @lock.synchronize do
            stores = @stores
            facts.each do |fact|
              index = (stores[fact.store.to_sym] ||= StoreIndex.new(Series.new, {}))
              add(fact, index, index.keys[JsonCanon.key_string(fact.key)] ||= Series.new)
            end
          end
          nil
        end

        # Same as {#append}; the name documents use during restore.
        #
        # @param fact [Fact]
        # @return [Fact]
        def replay(fact)
          append(fact)
        end

        # Builds a new fact of (store, key), persists it through +backend+
        # (when given) and only then appends it, so a backend error leaves the
        # log unchanged. A falsy +causation+ defaults to the id of the key's
        # latest fact. The caller serializes writers.
        #
        # @param backend [#write_fact, nil]
        # @return [Fact] the appended fact
        # @raise [ArgumentError, InvalidFactError] what {Fact.build} raises;
        #   and whatever +backend+ raises
        def write_new(store, key, value, causation, schema_version, valid_time, term, producer, derivation, backend)
          # Writers are serialized by the caller, so the key's series found for
          # the causation is still the one to append to after the build.
          series = current_series(store, key)
          causation ||= series&.facts&.last&.id
          # Fact.build without its keywords (the same call underneath).
          fact = JsonCanon.build_fact(Fact, store, key, value, causation, valid_time, term, schema_version, producer,
                                      derivation)
          backend&.write_fact(fact)
          index = series && @stores[fact.store]
          return append(fact) unless index

          @lock.synchronize { add(fact, index, series) }
          fact
        end

        # Like {#write_new} for a history event: a fresh UUID key, no causation.
        # @return [Fact]
        def append_new(store, value, schema_version, valid_time, term, producer, derivation, backend)
          fact = JsonCanon.build_fact(Fact, store, JsonCanon.new_id, value, nil, valid_time, term, schema_version,
                                      producer, derivation, true)
          backend&.write_fact(fact)
          # {#append} without its conversions: the store is a stored name and
          # the key a fresh id, UTF-8.
          @lock.synchronize do
            index = (@stores[fact.store] ||= StoreIndex.new(Series.new, {}))
            add(fact, index, index.keys[fact.key] ||= Series.new)
          end
          fact
        end

        # @param store [Symbol, String]
        # @param key [#to_s]
        # @param as_of [#to_f, nil] inclusive transaction-time bound
        # @return [Fact, nil] the last appended fact of (store, key) with tt <= as_of
        def latest_for(store:, key:, as_of: nil)
          latest(store, key, as_of)
        end

        # Positional form of {#latest_for}, for the engine's hot paths.
        # @return [Fact, nil]
        def latest(store, key, as_of)
          return current_series(store, key)&.facts&.last if as_of.nil?

          as_of = bound(:as_of, as_of)
          @lock.synchronize { series(store, key)&.latest(as_of) }
        end

        # The fact of (store, key) valid at +valid_at+ as known at +as_of+
        # (doc/bitemporal.md); a nil +valid_at+ is {#latest}. A scan of the
        # key's facts: the native log answers from its valid-time index.
        # @return [Fact, nil]
        def latest_valid(store, key, as_of, valid_at)
          as_of = bound(:as_of, as_of)
          valid_at = bound(:valid_at, valid_at)
          return latest(store, key, as_of) if valid_at.nil?

          ValidTime.winner(facts(store, key, nil, as_of), valid_at)
        end

        # The facts of (store, key) in effect at some valid time within
        # +valid_from..valid_to+ (inclusive, nil = unbounded) as known at
        # +as_of+, in valid-time order (doc/bitemporal.md).
        # @return [Array<Fact>]
        def facts_valid(store, key, as_of, valid_from, valid_to)
          as_of = bound(:as_of, as_of)
          valid_from = bound(:valid_from, valid_from)
          valid_to = bound(:valid_to, valid_to)
          ValidTime.timeline(facts(store, key, nil, as_of), valid_from, valid_to)
        end

        # @param store [Symbol, String]
        # @param key [#to_s, nil] nil = every fact of the store
        # @param since [#to_f, nil] inclusive lower tt bound
        # @param as_of [#to_f, nil] inclusive upper tt bound
        # @return [Array<Fact>] new Array, append order
        def facts_for(store:, key: nil, since: nil, as_of: nil)
          facts(store, key, since, as_of)
        end

        # Positional form of {#facts_for}, for the engine's hot paths.
        # @return [Array<Fact>]
        def facts(store, key, since, as_of)
          if since.nil? && as_of.nil? && !key.nil?
            series = current_series(store, key)
            return series ? series.facts.dup : []
          end

          since = bound(:since, since)
          as_of = bound(:as_of, as_of)
          @lock.synchronize do
            found = key.nil? ? @stores[store.to_sym]&.all : series(store, key)
            found ? found.between(since, as_of) : []
          end
        end

        # The latest fact (as of `as_of`) of each key of the store, kept when
        # its value is a Hash matching every filter pair (`value[k] == v`).
        #
        # @param store [Symbol, String]
        # @param filters [Hash]
        # @param as_of [#to_f, nil]
        # @return [Array<Fact>] new Array, keys in first-appearance order
        def query_scope(store:, filters:, as_of: nil)
          as_of = bound(:as_of, as_of)
          latest = @lock.synchronize do
            index = @stores[store.to_sym]
            index ? index.keys.each_value.filter_map { |s| s.latest(as_of) } : []
          end
          # Outside the lock: `==` of filter values is caller code.
          latest.select { |fact| matches?(fact.value, filters) }
        end

        # @return [Array<Fact>] new Array of every fact, append order
        def all_facts
          @lock.synchronize { @facts.dup }
        end

        # @return [Integer] appended plus replayed facts
        def size
          @lock.synchronize { @facts.size }
        end

        # @param id [String]
        # @return [Fact, nil] the last appended fact with this id (compared as a
        #   Hash key: an id in an incompatible encoding finds nothing)
        def fact_by_id(id)
          @lock.synchronize { @by_id[id] }
        end

        private

        # A time bound as a Float; NaN bounds nothing meaningfully (every
        # comparison with it is false), so it is refused.
        def bound(name, time)
          return nil if time.nil?

          float = time.to_f
          raise ArgumentError, "#{name} must be a number, not NaN" if float.nan?

          float
        end

        # Adds +fact+ to the log, its store's index and its key's +series+
        # (the lock held).
        def add(fact, index, series)
          @facts << fact
          @by_id[fact.id] = fact
          index.all.push(fact)
          series.push(fact)
        end

        # {#series} without the lock (see the class comment): a Symbol store
        # and a UTF-8 (or ASCII) String key, as the engine passes them, are
        # looked up as they are; anything else, or a miss, goes through the
        # conversions of {#series}. A hit needs no conversion: a String Hash
        # key matches only a String of the same bytes in the same encoding
        # or of ASCII text in any ASCII-compatible one, which converts to it.
        def current_series(store, key)
          if store.is_a?(Symbol) && key.is_a?(String)
            found = @stores[store]&.keys&.[](key)
            return found if found || key.encoding == Encoding::UTF_8
          end
          series(store, key)
        end

        # Never inserts: a lookup of a missing key must not grow the log.
        def series(store, key)
          @stores[store.to_sym]&.keys&.[](JsonCanon.key_string(key))
        rescue InvalidEncodingError
          nil # no stored key has an untranscodable encoding
        end

        def matches?(value, filters)
          value.is_a?(Hash) && filters.all? { |k, v| value[k] == v }
        end
      end
  end
end
