# frozen_string_literal: true

module Igniter
  module Store
    # A ledger served by a {StoreServer}, read and written over the op
    # protocol without replaying it into this process: every call is one
    # open-protocol envelope (the `envelope` op, see {NetworkBackend#envelope})
    # that the server's store answers. The read methods take the same
    # arguments and return the same values as {IgniterStore}'s: facts come
    # back whole (ids, times, causation, Symbols) as {Fact}s.
    #
    # Built by {Igniter::Store.remote}. One connection; calls from several
    # threads take turns on it.
    class RemoteStore
      # Seconds to wait for a connection and for each reply.
      DEFAULT_TIMEOUT = 30

      # @return [String] "host:port" (or the socket path)
      attr_reader :address

      # @param address [String] "host:port" of the server's op-protocol listener (missing port = 7400)
      # @param token [String, nil] the server's read or write token
      # @param options [Hash] {NetworkBackend#initialize} options (`timeout:`, `tls:`, `ca_file:`, `transport:`, …)
      # @raise [SystemCallError] the server is not there (e.g. Errno::ECONNREFUSED)
      def initialize(address, token: nil, timeout: DEFAULT_TIMEOUT, **options)
        @address = address
        @client = NetworkBackend.new(address: address, token: token, timeout: timeout, **options)
      end

      # --- reads ----------------------------------------------------------

      # @param as_of [Numeric, Time, String, nil] transaction time (inclusive); a String is ISO-8601
      # @param valid_at [Numeric, Time, String, nil] valid time (doc/bitemporal.md)
      # @return [Object, nil] the key's latest value, or the one valid at +valid_at+
      #   (as the server's coercions make it)
      # @raise [ArgumentError] the server refused an argument (the message says which)
      def read(store:, key:, as_of: nil, valid_at: nil)
        value_of(call(:read, { store: store, key: key, as_of: time(as_of), valid_at: time(valid_at) }.compact))
      end

      # The envelope `time_travel` op: {#read} as of +at+.
      # @param at [Numeric, Time, String] transaction time (inclusive); a String is ISO-8601
      # @param valid_at [Numeric, Time, String, nil] valid time (doc/bitemporal.md)
      # @return [Object, nil] the value of +key+ as it was at time +at+
      # @raise [ArgumentError] the server refused an argument (the message says which)
      def time_travel(store:, key:, at:, valid_at: nil)
        value_of(call(:time_travel, { store: store, key: key, at: time(at), valid_at: time(valid_at) }.compact))
      end

      # @param key [String, nil] one key, or every key of the store
      # @param since [Numeric, Time, String, nil] inclusive lower transaction-time bound
      # @param as_of [Numeric, Time, String, nil] inclusive upper transaction-time bound
      # @param valid_from [Numeric, Time, String, nil] valid-time bounds (doc/bitemporal.md)
      # @param valid_to [Numeric, Time, String, nil]
      # @return [Array<Fact>] in append order (valid-time order with valid bounds)
      def history(store:, key: nil, since: nil, as_of: nil, valid_from: nil, valid_to: nil)
        packet = { store: store, key: key, since: time(since), as_of: time(as_of), valid_from: time(valid_from),
                   valid_to: time(valid_to) }.compact
        facts(call(:history, packet)[:facts])
      end

      # The latest fact of every key matching the server's registered access
      # path +scope+ (as {IgniterStore#query}); or, with +where:+ instead,
      # the latest `{key:, value:}` of every key whose value has those fields
      # (the envelope `query`, with `order:` and `limit:`), Symbol values
      # included as the server's store holds them.
      # @return [Array<Fact>, Array<Hash>]
      # @raise [ArgumentError] neither or both of scope and where; an unknown scope
      def query(store:, scope: nil, where: nil, order: nil, limit: nil, as_of: nil)
        raise ArgumentError, "query needs scope: or where:, not both" if scope.nil? == where.nil?

        if scope
          raise ArgumentError, "order: and limit: apply to where: queries" if order || limit

          return facts(call(:query, { store: store, scope: scope, as_of: time(as_of) }.compact)[:facts])
        end

        result = call(:query, { store: store, where: where, order: order, limit: limit, as_of: time(as_of) }.compact)
        # The fact bodies carry `symbols`; a server before them sends only items.
        return result[:items] unless result.key?(:facts)

        facts(result[:facts]).map { |fact| { key: fact.key, value: fact.value } }
      end

      # @return [Array<Hash>] `{id:, value_hash:, causation:, transaction_time:}` of each fact of the key
      def causation_chain(store:, key:)
        call(:causation_chain, { store: store, key: key })[:chain]
      end

      # @return [Hash] see {IgniterStore#lineage}
      def lineage(store:, key:)
        call(:lineage, { store: store, key: key })
      end

      # @param fact_id [#to_s, nil]
      # @return [Fact, nil] the live fact with this id
      def fact_by_id(fact_id)
        return nil if fact_id.nil? || fact_id.to_s.empty?

        result = call(:fact_by_id, { fact_id: fact_id.to_s })
        result[:found] ? Fact.from_h(result[:fact]) : nil
      end

      # @return [Hash, nil] `{id:, store:, key:, transaction_time:, valid_time:, value_hash:}`
      def fact_ref(fact_id)
        fact = fact_by_id(fact_id) or return nil
        { id: fact.id, store: fact.store, key: fact.key, transaction_time: fact.transaction_time,
          valid_time: fact.valid_time, value_hash: fact.value_hash }
      end

      # @return [Integer] live facts on the server
      def fact_count
        stats[:fact_count]
      end

      # @return [Hash] facts, keys and transaction-time span per store (the `stats` op)
      def stats
        call(:stats, {})
      end

      # --- writes (the server may refuse them: a read token, `--read-only`) --

      # @return [Fact] the fact the server committed (its causation defaults to the key's previous fact there)
      # @raise [ArgumentError] the server rejected the fact
      # @raise [NetworkBackend::NetworkError] refused (code `forbidden`, `unauthorized`)
      def write(store:, key:, value:, causation: nil, valid_time: nil, term: nil, producer: nil, derivation: nil)
        packet = { store: store, key: key, value: value, causation: causation, valid_time: time(valid_time),
                   term: term, producer: producer, derivation: derivation }.compact
        packet[:value] = value # nil is a value
        committed(call(:write, with_symbols(packet, value)))
      end

      # Records an event under a fresh key of history store +history+ (see {IgniterStore#append}).
      # @return [Fact] the fact the server committed
      # @raise [ArgumentError] the server rejected the event
      def append(history:, event:, schema_version: 1, valid_time: nil, term: nil, partition_key: nil,
                 producer: nil, derivation: nil)
        packet = { history: history, event: event, schema_version: schema_version, valid_time: time(valid_time),
                   term: term, partition_key: partition_key, producer: producer, derivation: derivation }.compact
        packet[:event] = event
        committed(call(:append, with_symbols(packet, event)))
      end

      # Facts written to +stores+ (all for []) from now on, pushed by the server;
      # with +after+ (a position, doc/feed_positions.md) first those committed after it.
      # @param after [String, nil]
      # @yieldparam fact [Fact]
      # @return [NetworkBackend::Subscription]
      def subscribe(stores: [], after: nil, &block)
        @client.subscribe(stores: stores, after: after, &block)
      end

      # Closes the connection. Idempotent.
      # @return [nil]
      def close
        @client.close
      end

      private

      def call(op, packet)
        @client.envelope(op, packet)
      rescue NetworkBackend::NetworkError => e
        raise ArgumentError, e.message if e.code == "invalid_packet"

        raise
      end

      # JSON has no Symbols: the packet says where they stand (`symbols`,
      # as a fact body does, doc/format.md), so the server stores what a
      # local write would.
      def with_symbols(packet, value)
        symbols = JsonCanon.symbol_paths(value, "value") +
                  %i[producer derivation].flat_map { |f| JsonCanon.symbol_paths(packet[f], f.to_s) }
        symbols.empty? ? packet : packet.merge(symbols: symbols)
      end

      # The fact of an accepted receipt, fetched whole (a receipt carries only its id).
      def committed(receipt)
        raise ArgumentError, "rejected: #{Array(receipt[:errors]).join("; ")}" unless receipt[:status].to_s == "accepted"

        fact_by_id(receipt[:fact_id])
      end

      # The value of a read result, its Symbols restored from `symbols`.
      def value_of(result)
        trie = FactDecode.symbol_trie(result[:symbols])
        trie ? FactDecode.apply_symbols(result[:value], trie["value"]) : result[:value]
      end

      def facts(list)
        Array(list).map { |doc| Fact.from_h(doc) }
      end

      # A Time goes as seconds; Numerics and ISO-8601 Strings as they are (the server reads both).
      def time(value)
        value.is_a?(Time) ? value.to_f : value
      end
    end
  end
end
