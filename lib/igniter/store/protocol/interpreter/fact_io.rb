# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      class Interpreter
        # Protocol-level fact reads and writes (doc/protocol.md "Fact reads and writes").
        module FactIO
          # Packet fields the engine assigns itself; a client sending them is told.
          ENGINE_ASSIGNED = %i[id value_hash transaction_time at].freeze

          # @return [Receipt] kind +:receipt+, echoing +key+ as given
          def write(store:, key:, value:, causation: nil, valid_time: nil, term: nil, producer: nil, derivation: nil)
            store = Protocol.name!(store, "store")
            fact = @store.write(store: store, key: key, value: value, causation: causation, valid_time: valid_time,
                                term: term, producer: producer, derivation: derivation)
            Receipt.write_accepted(store: store, key: key, fact: fact)
          end

          # Appends an event under a generated key; +key+ is metadata only.
          # @return [Receipt] kind +:append_receipt+
          def append(history:, event:, key: nil, partition_key: nil, schema_version: 1, valid_time: nil, term: nil,
                     producer: nil, derivation: nil)
            history = Protocol.name!(history, "history")
            fact = @store.append(history: history, event: event, schema_version: schema_version,
                                 valid_time: valid_time, term: term, partition_key: partition_key && Protocol.name!(partition_key, "partition_key"),
                                 producer: producer, derivation: derivation)
            Receipt.append_accepted(history: history, fact: fact, requested_key: key)
          end

          # Writes a +kind: :fact+ packet (doc/protocol.md "Fact reads and writes"). Fields the engine
          # assigns (id, value_hash, transaction_time, at) and a fact
          # schema_version other than 1 are ignored, with a warning.
          # @param packet [Hash]
          # @return [Receipt] write receipt or rejection (kind +:fact+)
          def write_fact(packet)
            return Receipt.rejection("write_fact: packet must be a Hash, got #{packet.class}", kind: :fact) unless packet.is_a?(Hash)

            packet = Protocol.symbolize_top(packet)
            kind = packet[:kind].respond_to?(:to_sym) ? packet[:kind].to_sym : packet[:kind]
            return Receipt.rejection("write_fact: expected kind: :fact, got #{kind.inspect}", kind: :fact) unless kind == :fact

            %i[store key value].each do |field|
              return Receipt.rejection("write_fact: missing #{field}:", kind: :fact) unless packet[field]
            end

            unless packet[:store].is_a?(Symbol) || packet[:store].is_a?(String)
              return Receipt.rejection("write_fact: store must be a Symbol or String, got #{packet[:store].inspect}", kind: :fact)
            end

            store = packet[:store].to_sym
            fact = @store.write(store: store, key: packet[:key].to_s, value: packet[:value],
                                causation: packet[:causation], valid_time: packet[:valid_time], term: packet[:term],
                                producer: packet[:producer], derivation: packet[:derivation])
            Receipt.write_accepted(store: store, key: packet[:key], fact: fact, warnings: ignored_fields(packet))
          end

          # @param valid_at [Numeric, nil] valid time (doc/bitemporal.md)
          # @return [Object, nil] the (coerced) latest value with tt <= as_of,
          #   or the value valid at +valid_at+ as known at +as_of+
          def read(store:, key:, as_of: nil, valid_at: nil)
            @store.read(store: Protocol.name!(store, "store"), key: key, as_of: as_of, valid_at: valid_at)
          end

          # The latest (last appended) value of every key of +store+, filtered,
          # ordered and limited (doc/protocol.md "Fact reads and writes"). Keys whose value is not a Hash
          # never match a +where+; +order+ puts missing values last.
          # @return [Array<Hash>] +{key:, value:}+
          # @raise [ArgumentError] for a non-Hash +where+, a negative +limit+ or
          #   +order+ values that cannot be compared with each other
          def query(store:, where: {}, order: nil, limit: nil, as_of: nil)
            query_facts(store: store, where: where, order: order, limit: limit, as_of: as_of).map { |f| { key: f.key, value: f.value } }
          end

          # The facts behind {#query}, whole (the envelope `query` sends them
          # along as fact bodies, so a remote client gets Symbols back).
          # @return [Array<Fact, CoercedFact>]
          # @raise [ArgumentError] as {#query}
          def query_facts(store:, where: {}, order: nil, limit: nil, as_of: nil)
            raise ArgumentError, "query: where must be a Hash, got #{where.inspect}" unless where.is_a?(Hash)
            raise ArgumentError, "query: limit must be >= 0, got #{limit.inspect}" if limit && limit.to_i.negative?

            latest = @store.history(store: Protocol.name!(store, "store"), as_of: as_of).each_with_object({}) { |f, h| h[f.key] = f }
            rows = latest.values
            where.each do |field, expected|
              field = Protocol.name!(field, "where field")
              rows = rows.select { |f| f.value.is_a?(Hash) && f.value[field] == expected }
            end
            rows = order_rows(rows, Protocol.name!(order, "order")) if order
            limit ? rows.first(limit.to_i) : rows
          end

          # @return [Array] values of the source records related to +from+
          # @raise [ArgumentError] "No relation registered: <name>"
          def resolve(relation_name, from:, as_of: nil)
            @store.resolve(relation_name, from: from, as_of: as_of)
          end

          # Like {#resolve}, keeping the source keys.
          # @return [Array<Hash>] +{key:, value:}+; [] when nothing is indexed
          def resolve_items(relation_name, from:, as_of: nil)
            rule = @store.schema_graph.relation_for(name: relation_name)
            raise ArgumentError, "No relation registered: #{relation_name.inspect}" unless rule

            entry = @store.read(store: :"__rel_#{relation_name}", key: from.to_s, as_of: as_of)
            return [] unless entry

            entry[:keys].filter_map do |key|
              value = @store.read(store: rule.source, key: key, as_of: as_of)
              { key: key, value: value } unless value.nil?
            end
          end

          # @return [Array<Hash>] see {IgniterStore#causation_chain}
          def causation_chain(store:, key:)
            @store.causation_chain(store: Protocol.name!(store, "store"), key: key)
          end

          # @return [Hash] see {IgniterStore#lineage}
          def lineage(store:, key:)
            @store.lineage(store: Protocol.name!(store, "store"), key: key)
          end

          # The envelope `history` op (not named `history`: the interpreter
          # has no doc-only store methods, see the calling conventions).
          # @param key [String, nil] one key, or every key of the store
          # @param valid_from [Numeric, nil] valid-time bounds (doc/bitemporal.md)
          # @param valid_to [Numeric, nil]
          # @return [Array<Fact, CoercedFact>] see {IgniterStore#history}
          def fact_history(store:, key: nil, since: nil, as_of: nil, valid_from: nil, valid_to: nil)
            @store.history(store: Protocol.name!(store, "store"), key: key, since: since, as_of: as_of,
                           valid_from: valid_from, valid_to: valid_to)
          end

          # @return [Fact, nil] the live fact with this id (see {IgniterStore#fact_by_id})
          # @raise [ArgumentError] for an id that is not a String
          def fact_by_id(fact_id)
            raise ArgumentError, "fact_by_id: fact_id must be a string, got #{fact_id.inspect[0, 60]}" unless fact_id.is_a?(String)

            @store.fact_by_id(fact_id)
          end

          # The facts of a registered access path (see {IgniterStore#query}).
          # @return [Array<Fact, CoercedFact>]
          # @raise [ArgumentError] when +store+ has no path named +scope+
          def scope_query(store:, scope:, as_of: nil)
            @store.query(store: Protocol.name!(store, "store"), scope: Protocol.name!(scope, "scope"), as_of: as_of)
          end

          # The envelope `stats` op: what the ledger holds per store ({Census}), its first and last
          # transaction times also in ISO-8601.
          # @return [Hash] `fact_count`, `store_count`, `key_count`, `stores`
          def ledger_stats
            census = Census.of(@store.fact_log_all)
            census.merge(stores: census[:stores].map do |entry|
              entry.merge(first_transaction_time_iso: TimeParam.iso8601(entry[:first_transaction_time]),
                          last_transaction_time_iso: TimeParam.iso8601(entry[:last_transaction_time]))
            end)
          end

          # @return [Hash, nil] reference of a live fact, without its value
          def fact_ref(fact_id)
            @store.fact_ref(fact_id)
          end

          private

          def ignored_fields(packet)
            ignored = ENGINE_ASSIGNED.select { |f| packet.key?(f) }
            ignored << :schema_version if packet.key?(:schema_version) && packet[:schema_version] != 1
            return [] if ignored.empty?

            ["write_fact: ignored #{ignored.join(", ")} (assigned by the engine; fact schema_version is 1)"]
          end

          def order_rows(rows, field)
            present, missing = rows.partition { |f| f.value.is_a?(Hash) && !f.value[field].nil? }
            present.sort_by { |f| f.value[field] } + missing
          rescue ArgumentError, NoMethodError
            raise ArgumentError, "query: cannot order by #{field.inspect}: its values are not comparable with each other"
          end
        end
      end
    end
  end
end
