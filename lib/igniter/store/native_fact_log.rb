# frozen_string_literal: true

module Igniter
  module Store
    # Keyword front of the Rust FactLog. Ruby passes keywords to a Ruby method
    # without allocating, but hands a C method a fresh Hash to parse, which
    # cost more than the Rust lookup itself; so the keywords end here and the
    # native methods take positional arguments.
    class FactLog
      # @return [Fact, nil] the last appended fact of (store, key), or the last
      #   one with transaction_time <= as_of
      def latest_for(store:, key:, as_of: nil)
        _latest_for(store, key, as_of)
      end

      alias latest _latest_for

      # Builds a fact (a falsy causation defaults to the key's latest fact's
      # id), persists it through +backend+, then appends it.
      # @return [Fact]
      def write_new(store, key, value, causation, schema_version, valid_time, term, producer, derivation, backend)
        causation ||= _latest_for(store, key, nil)&.id
        fact = Fact.build(store: store, key: key, value: value, causation: causation, schema_version: schema_version,
                          valid_time: valid_time, term: term, producer: producer, derivation: derivation)
        backend&.write_fact(fact)
        append(fact)
      end

      # Like {#write_new} for a history event: a fresh UUID key, no causation.
      # @return [Fact]
      def append_new(store, value, schema_version, valid_time, term, producer, derivation, backend)
        fact = Fact.build(store: store, key: SecureRandom.uuid, value: value, schema_version: schema_version,
                          valid_time: valid_time, term: term, producer: producer, derivation: derivation)
        backend&.write_fact(fact)
        append(fact)
      end

      # @return [Array<Fact>] facts of the store (or one key) in append order,
      #   within the inclusive since/as_of bounds
      def facts_for(store:, key: nil, since: nil, as_of: nil)
        _facts_for(store, key, since, as_of)
      end

      # @return [Array<Fact>] per key of the store, its latest fact (as of
      #   as_of) when its Hash value matches every filter pair
      def query_scope(store:, filters:, as_of: nil)
        _query_scope(store, filters, as_of)
      end
    end
  end
end
