# frozen_string_literal: true

require_relative "same_facts"

module Igniter
  module Store
    module CLI
      # Causation chains of a ledger: every fact of a key names the key's
      # previous fact as its causation (`IgniterStore#write` assigns it so),
      # the first fact of a key names none. A chain breaks where two writers
      # interleaved, where a fact is missing, or where a causation names an
      # id the ledger does not hold — unless retention removed that fact
      # (a compaction, an exact prune or a segment purge), which is listed
      # apart and is no damage.
      module CausationCheck
        # One fact whose causation is not what its key's chain says.
        # problem: `:unknown` (names an id the ledger does not hold),
        # `:not_previous` (names another fact than the key's previous one),
        # `:missing` (names none, though the key has a previous fact).
        Break = Struct.new(:id, :store, :key, :causation, :expected, :problem, keyword_init: true)

        # checked: facts looked at; breaks: Array<Break>; removed: facts whose
        # causation retention removed; unchecked: stores left out (codecs that
        # keep no ids or causation).
        Result = Struct.new(:checked, :breaks, :removed, :unchecked, keyword_init: true)

        # Where the engine's retention leaves its receipts.
        COMPACTION_STORE = Engine::Compaction::RECEIPT_STORE
        # Where exact prunes leave theirs (by default), naming each removed fact.
        PRUNE_STORE = Engine::Prune::DEFAULT_RECEIPT_STORE

        module_function

        # @param facts [Array<Fact>] in the order they were written
        # @param codecs [Hash{String=>String}] codec per store
        # @param purged_stores [Array<String>] stores with segment purge receipts
        # @return [Result]
        def run(facts, codecs: {}, purged_stores: [])
          unchecked = codecs.select { |_, codec| codec == SameFacts::COMPACT_CODEC }.keys.sort
          ids = facts.to_h { |f| [f.id, true] }
          removed_ids, retained = removed(facts)
          retained |= purged_stores
          previous = {}
          result = Result.new(checked: 0, breaks: [], removed: 0, unchecked: unchecked)
          facts.each do |fact|
            store = fact.store.to_s
            next if unchecked.include?(store)

            result.checked += 1
            chain = [store, fact.key]
            expected = previous[chain]
            previous[chain] = fact.id
            next if fact.causation == expected

            problem = if fact.causation.nil? then :missing
                      elsif ids.key?(fact.causation) then :not_previous
                      elsif removed_ids.include?(fact.causation) || retained.include?(store) then :removed
                      else
                        :unknown
                      end
            next result.removed += 1 if problem == :removed

            result.breaks << Break.new(id: fact.id, store: store, key: fact.key, causation: fact.causation,
                                       expected: expected, problem: problem)
          end
          result
        end

        # @return [Array(Set<String>, Array<String>)] ids exact prunes removed,
        #   and the stores compactions removed facts from
        def removed(facts)
          ids = Set.new
          stores = []
          facts.each do |fact|
            value = fact.value
            next unless value.is_a?(Hash)

            case fact.store
            when COMPACTION_STORE then stores << value[:compacted_store].to_s
            when PRUNE_STORE then Array(value[:pruned_fact_refs]).each { |ref| ids << ref[:id] if ref.is_a?(Hash) }
            end
          end
          [ids, stores.uniq]
        end
        private_class_method :removed
      end
    end
  end
end
