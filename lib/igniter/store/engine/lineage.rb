# frozen_string_literal: true

require "digest"

module Igniter
  module Store
    module Engine
      # Causal proof of one key: its fact chain, the derivation rules its
      # store feeds, and a SHA-256 over the chain. Holds no state; it reads
      # the live log and the schema graph it is given.
      class Lineage
        # @param log [#call] answers the live fact log (the store replaces it on a rebuild)
        # @param schema_graph [SchemaGraph] the registered derivation rules
        def initialize(log:, schema_graph:)
          @log = log
          @schema_graph = schema_graph
        end

        # What {IgniterStore#lineage} does (documented there).
        # @param subject [Hash] +store, key+ as the caller named them
        # @param store [Symbol] normalized
        # @param key [String, nil] normalized
        # @return [Hash]
        def of(subject, store, key)
          chain = @log.call.facts_for(store: store, key: key).map { |fact| chain_entry(fact) }
          {
            subject: subject,
            chain: chain,
            depth: chain.size,
            derived_by: derived_by(store),
            proof_hash: chain.empty? ? nil : proof_hash(chain)
          }
        end

        private

        def chain_entry(fact)
          { id: fact.id, store: fact.store, key: fact.key, causation: fact.causation,
            value_hash: fact.value_hash, transaction_time: fact.transaction_time,
            valid_time: fact.valid_time, schema_version: fact.schema_version }
        end

        def derived_by(store)
          @schema_graph.derivations_for_store(store: store).map do |rule|
            { target_store: rule.target_store,
              target_key: rule.target_key.respond_to?(:call) ? :callable : rule.target_key,
              source_filters: rule.source_filters }
          end
        end

        # "id:value_hash:causation" per fact, "|"-joined; stable for a chain,
        # changes with every fact added, differs per key because ids differ.
        def proof_hash(chain)
          Digest::SHA256.hexdigest(chain.map { |e| "#{e[:id]}:#{e[:value_hash]}:#{e[:causation]}" }.join("|"))
        end
      end
    end
  end
end
