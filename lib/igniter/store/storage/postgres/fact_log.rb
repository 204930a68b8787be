# frozen_string_literal: true

require "securerandom"
require_relative "../../core/valid_time"

module Igniter
  module Store
    module Postgres
      # The fact log of a PostgreSQL ledger: the interface the engine calls
      # on its log (`write_new`, `append_new`, `latest`, `facts`,
      # `query_scope`, `fact_by_id`, `size`, …), answered by SQL instead of
      # from memory, plus what only a shared log needs (batches, removals by
      # id, partitions, and the commit tail that feeds the engine every fact
      # committed by any process, in commit order).
      #
      # Keys are Strings and stores Symbols on the way out, as in
      # {Igniter::Store::FactLog}; "latest" is the head (the last committed
      # fact of the key), transaction-time bounds are inclusive.
      class FactLog
        # Bounds are checked as the in-memory log checks them (a NaN bound
        # is refused, not compared; doc/contracts.md).
        include Engine::TimeBounds

        # The `Fact.build` options a {#write_batch} entry may carry.
        BUILD_OPTIONS = %i[causation schema_version valid_time term producer derivation].freeze

        # @param writer [Writer]
        # @param reader [Reader]
        # @param tail_factory [#call] `call(from_position, callback)` → {CommitTail}
        def initialize(writer, reader, tail_factory)
          @writer = writer
          @reader = reader
          @tail_factory = tail_factory
          @tail = nil
          # This thread's last commit, for {#deliver}.
          @committed = :"__igniter_pg_committed_#{object_id}"
        end

        # --- writes -------------------------------------------------------

        # Builds, commits and returns a new fact of (store, key); a falsy
        # +causation+ becomes the id of the key's head, read under its row lock.
        # @return [Fact]
        def write_new(store, key, value, causation, schema_version, valid_time, term, producer, derivation, _backend = nil)
          fact = Fact.build(store: store, key: key, value: value, causation: causation || nil, schema_version: schema_version,
                            valid_time: valid_time, term: term, producer: producer, derivation: derivation)
          commit([item(fact, fact.causation)]).first
        end

        # A history event under a fresh UUID key, without causation.
        # @return [Fact]
        def append_new(store, value, schema_version, valid_time, term, producer, derivation, _backend = nil)
          fact = Fact.build(store: store, key: SecureRandom.uuid, value: value, schema_version: schema_version,
                            valid_time: valid_time, term: term, producer: producer, derivation: derivation)
          commit([item(fact, nil)]).first
        end

        # Commits a fact built elsewhere, keeping its id, causation and times.
        # @return [Fact]
        # @raise [InvalidFactError] when its id is taken
        def append(fact)
          commit([item(fact, fact.causation, verbatim: true)]).first
        end
        alias replay append

        # Commits every fact +backend+ replays (an import), one transaction per 1,000.
        # @return [void]
        def replay_from(backend)
          backend.replay.each_slice(1_000) { |slice| commit(slice.map { |f| item(f, f.causation, verbatim: true) }) }
          nil
        end

        # Builds and commits many facts in one transaction: all or none.
        # Each entry is the keywords of `IgniterStore#write` (`store:, key:,
        # value:, ...`) or of `#append` (`history:, event:, ...`).
        # @param entries [Array<Hash>]
        # @return [Array<Fact>] in entry (= position) order
        # @raise [ArgumentError] for an entry that is neither
        def write_batch(entries)
          items = entries.map { |entry| batch_item(entry) }
          return [] if items.empty?

          commit(items)
        end

        # Removes facts by id in one transaction; heads whose fact went move
        # back to the key's last remaining fact (or disappear).
        # @return [Integer] facts removed
        def remove_facts(ids)
          @writer.remove(ids.map(&:to_s))
        end

        # --- reads --------------------------------------------------------

        # @return [Fact, nil]
        def latest(store, key, as_of)
          time_bound!(:as_of, as_of)
          @reader.latest(store_name(store), key_name(key), as_of)
        rescue InvalidEncodingError
          nil
        end

        # @return [Fact, nil]
        def latest_for(store:, key:, as_of: nil)
          latest(store, key, as_of)
        end

        # @return [Array<Fact>] commit order
        def facts(store, key, since, as_of)
          time_bound!(:since, since)
          time_bound!(:as_of, as_of)
          @reader.facts(store_name(store), key.nil? ? nil : key_name(key), since, as_of)
        rescue InvalidEncodingError
          []
        end

        # The fact of (store, key) valid at +valid_at+ as known at +as_of+
        # (doc/bitemporal.md), chosen from the key's facts up to +as_of+.
        # @return [Fact, nil]
        def latest_valid(store, key, as_of, valid_at)
          return latest(store, key, as_of) if valid_at.nil?

          ValidTime.winner(facts(store, key, nil, as_of), valid_at.to_f)
        end

        # The facts of (store, key) in effect within +valid_from..valid_to+
        # as known at +as_of+, in valid-time order (doc/bitemporal.md).
        # @return [Array<Fact>]
        def facts_valid(store, key, as_of, valid_from, valid_to)
          ValidTime.timeline(facts(store, key, nil, as_of), valid_from&.to_f, valid_to&.to_f)
        end

        # @return [Array<Fact>]
        def facts_for(store:, key: nil, since: nil, as_of: nil)
          facts(store, key, since, as_of)
        end

        # The latest fact (as of +as_of+) of each key of the store whose value
        # matches every filter pair exactly as `Engine::Filters.match?` does;
        # SQL only narrows the candidates (to heads whose body holds the JSON
        # text of each filter pair that text can decide), Ruby decides.
        # @return [Array<Fact>] keys in first-write order
        def query_scope(store:, filters:, as_of: nil)
          time_bound!(:as_of, as_of)
          candidates = @reader.latest_per_key(store_name(store), as_of, needles(filters))
          candidates.select { |fact| Engine::Filters.match?(fact.value, filters) }
        end

        # Facts of +store+ whose value has +field+ equal (`eql?`, as a Hash
        # lookup) to +value+; SQL narrows by the value's JSON text.
        # @return [Array<Fact>] commit order
        def partition(store, field, value, since, as_of)
          needle = scalar_json(value)
          @reader.store_facts_containing(store_name(store), needle, since, as_of).select do |fact|
            pv = Engine::PartitionIndex.value_of(fact, field)
            !pv.nil? && pv != false && pv.eql?(value)
          end
        end

        # @return [Array<Fact>] every live fact in commit order (paged reads)
        def all_facts
          facts = []
          @reader.each_fact { |fact| facts << fact }
          facts
        end

        # @return [Integer] live facts (a counter kept with the clock, no scan)
        def size
          @reader.count
        end

        # @return [Fact, nil]
        def fact_by_id(id)
          @reader.fact_by_id(id.to_s)
        end

        # --- the commit tail ------------------------------------------------

        # Starts delivering every fact committed from now on, by any process,
        # to +callback+ in commit order, exactly once each (facts written
        # through this log synchronously, within the write; others from a
        # background poller woken by NOTIFY). Idempotent.
        # @param on_calls [#call] gets the consumer calls of facts delivered
        #   by the background poller (made outside the tail's lock)
        # @yieldparam fact [Fact]
        # @yieldreturn [Array] consumer calls to make outside the tail's lock
        # @return [CommitTail]
        def on_commit(on_calls:, &callback)
          @tail ||= @tail_factory.call(@reader.position, callback, on_calls)
        end

        # Delivers the tail up to +fact+ (written by this thread's last
        # commit), so the engine's changefeed and consumers see it before the
        # write returns.
        # @return [Array] consumer calls
        def deliver(fact)
          committed = Thread.current[@committed] || []
          upto = committed.index { |c| c.fact.id == fact.id }
          return [] unless @tail && upto

          @tail.deliver_through(committed[upto].position, committed[0..upto].map { |c| [c.position, c.fact] })
        end

        # Stops the tail. The sessions belong to the backend.
        # @return [void]
        def close
          @tail&.stop
        end

        private

        def commit(items)
          committed = @writer.commit(items)
          Thread.current[@committed] = committed
          committed.map(&:fact)
        end

        # The id is the one `Fact.build` drew: both paths draw ids that stay
        # distinct across fork (a Puma or Sidekiq worker inherits the
        # parent's generator; the native one reseeds when the process id
        # changed, spec/igniter/store/parity/fork_ids_spec.rb).
        def item(fact, causation, verbatim: false)
          Writer::Item.new(fact, fact.id, Rows.text!("store", fact.store.name), Rows.text!("key", fact.key), causation, verbatim)
        end

        def batch_item(entry)
          kind, entry = Engine::SharedLog.batch_entry(entry)
          if kind == :append
            opts = entry.slice(:schema_version, :valid_time, :term, :producer, :derivation)
            fact = Fact.build(store: entry.fetch(:history), key: SecureRandom.uuid, value: entry[:event], **opts)
            return item(fact, nil)
          end
          raise ArgumentError, "key is required" if entry[:key].nil?

          fact = if entry.size == 3 && entry.key?(:key) && entry.key?(:value)
                   # The usual entry (store:, key:, value: only): no options to pick out.
                   Fact.build(store: entry[:store], key: entry[:key], value: entry[:value])
                 else
                   Fact.build(store: entry[:store], key: entry[:key], value: entry[:value], **entry.slice(*BUILD_OPTIONS))
                 end
          item(fact, fact.causation)
        end

        def store_name(store)
          JsonCanon.store_symbol(store).to_s
        end

        def key_name(key)
          JsonCanon.key_string(key)
        end

        # Texts that the body of every fact matching +filters+ contains: a
        # pair `"key":value` for each filter whose value is a String (or a
        # Symbol, stored as its name), true or false — written by JSON.generate,
        # which writes the pure-Ruby bodies (the Rust encoder's bytes are the
        # same, spec/igniter/store/postgres/cross_path_spec.rb). A
        # value's members appear in its body exactly so, which makes this a
        # superset of the Ruby match. Numbers get none: Ruby's `==` makes 1
        # equal 1.0, whose JSON texts differ.
        # @return [Array<String>]
        def needles(filters)
          filters.filter_map do |k, v|
            next unless k.is_a?(Symbol) || k.is_a?(String)
            next unless v.is_a?(String) || v.is_a?(Symbol) || v == true || v == false

            json = scalar_json(v) or next
            "#{JSON.generate(k.to_s)}:#{json}"
          rescue JSON::GeneratorError, EncodingError
            nil
          end
        end

        # JSON text of a scalar as a fact body or jsonb holds it, or nil when
        # SQL cannot narrow by it (nil: a missing member also equals nil in
        # Ruby; NUL: jsonb refuses it; containers and other objects).
        def scalar_json(value)
          case value
          when String then value.include?("\u0000") ? nil : JSON.generate(value)
          when Symbol then scalar_json(value.to_s)
          when Integer, true, false then JSON.generate(value)
          when Float then value.finite? ? JSON.generate(value) : nil
          end
        end
      end
    end
  end
end
