# frozen_string_literal: true

require "digest"

module Igniter
  module Store
    module Engine
      # Causal proof of one key: its fact chain, the derivation rules its
      # store feeds, and a SHA-256 over the chain.
      module Lineage
        # @return [Hash] keys +subject+, +chain+, +depth+, +derived_by+, +proof_hash+.
        #   +chain+ entries carry +id, store, key, causation, value_hash (full),
        #   transaction_time, valid_time, schema_version+ in log order;
        #   +proof_hash+ is nil for an empty chain.
        def lineage(store:, key:)
          subject = { store: store, key: key }
          store = normalize_store(store)
          chain = @log.facts_for(store: store, key: normalize_key(key)).map { |fact| chain_entry(fact) }
          {
            subject: subject,
            chain: chain,
            depth: chain.size,
            derived_by: derived_by(store),
            proof_hash: chain.empty? ? nil : lineage_proof_hash(chain)
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
        def lineage_proof_hash(chain)
          Digest::SHA256.hexdigest(chain.map { |e| "#{e[:id]}:#{e[:value_hash]}:#{e[:causation]}" }.join("|"))
        end
      end
    end
  end
end
