# frozen_string_literal: true

require "set"

module Igniter
  module Store
    # Counts of what a ledger holds, per store: facts, distinct keys and the
    # transaction-time span. Used by the web console's store list and the
    # MCP `stats` tool; takes facts or fact packets (Hashes), so a remote
    # ledger's replay pages can be counted the same way.
    class Census
      # Stores the engine writes for itself (compaction and prune receipts,
      # relation indexes) start with this prefix.
      INTERNAL_PREFIX = "__"

      # @param facts [Enumerable<Fact, Hash>] every fact of the ledger
      # @return [Hash] see {#to_h}
      def self.of(facts)
        census = new
        facts.each { |fact| census.add(fact) }
        census.to_h
      end

      def initialize
        @stores = {}
        @fact_count = 0
      end

      # Counts one fact (or fact packet).
      # @param fact [Fact, Hash]
      # @return [self]
      def add(fact)
        store, key, tt = fact.is_a?(Hash) ? [fact[:store], fact[:key], fact[:transaction_time]] : [fact.store, fact.key, fact.transaction_time]
        entry = (@stores[store.to_s] ||= { facts: 0, keys: Set.new, first: nil, last: nil })
        entry[:facts] += 1
        entry[:keys] << key.to_s
        tt = tt.to_f
        entry[:first] = tt if entry[:first].nil? || tt < entry[:first]
        entry[:last] = tt if entry[:last].nil? || tt > entry[:last]
        @fact_count += 1
        self
      end

      # @return [Hash] `fact_count`, `store_count`, `key_count` and `stores`:
      #   `{store:, facts:, keys:, first_transaction_time:, last_transaction_time:, internal:}`
      #   sorted by store name
      def to_h
        stores = @stores.sort.map do |name, entry|
          { store: name, facts: entry[:facts], keys: entry[:keys].size, first_transaction_time: entry[:first],
            last_transaction_time: entry[:last], internal: name.start_with?(INTERNAL_PREFIX) }
        end
        { fact_count: @fact_count, store_count: stores.size, key_count: stores.sum { |s| s[:keys] }, stores: stores }
      end
    end
  end
end
