# frozen_string_literal: true

require "securerandom"
require "set"
require_relative "names"

module Igniter
  module Store
    module Engine
      # Exact removal of facts by id (e.g. an erasure request), leaving a
      # receipt with compact references (no payloads) behind. Owns the set
      # of stores its receipts went to (read back by {#activity}).
      class Prune
        # Meta-store of exact-prune receipts.
        DEFAULT_RECEIPT_STORE = :__fact_prune_receipts

        # @param log [#call] answers the live fact log (the store replaces it on a rebuild)
        # @param backend [Backend, nil] rewritten after a prune, so pruned facts stay gone
        # @param shared_log [Boolean] the log is the backend's own (it deletes by id)
        # @param lock [Monitor] the store's write lock
        # @param fact_ref [#call] `fact_ref.call(id)`: the live fact's reference Hash, or nil
        # @param write [#call] `write.call(store:, key:, value:)` commits the receipt
        # @param rebuild [#call] `rebuild.call(facts)` replaces the live log with +facts+
        def initialize(log:, backend:, shared_log:, lock:, fact_ref:, write:, rebuild:)
          @log = log
          @backend = backend
          @shared_log = shared_log
          @lock = lock
          @fact_ref = fact_ref
          @write = write
          @rebuild = rebuild
          @receipt_stores = Set[DEFAULT_RECEIPT_STORE]
        end

        # What {IgniterStore#prune_fact_ids} does (documented there).
        # @return [Hash]
        def prune(fact_ids:, reason:, metadata:, receipt_store:)
          if @backend && !@shared_log && !Capabilities.of(@backend).include?(Capabilities::REWRITE) # shared log: deletes by id
            return { status: :unsupported, reason: :backend_does_not_support_exact_prune,
                     backend: @backend.class.name }
          end

          ids = Array(fact_ids).map(&:to_s).uniq
          @lock.synchronize do
            refs = []
            missing = []
            ids.each { |id| (ref = @fact_ref.call(id)) ? refs << ref : missing << id }
            receipt = write_receipt(receipt_store, ids.size, refs, missing, reason, metadata)
            remove(refs.to_set { |ref| ref[:id] }) unless refs.empty?
            { status: :ok, receipt_id: receipt.id, pruned_count: refs.size, missing_count: missing.size,
              pruned_fact_refs: refs, missing_ids: missing }
          end
        end

        # Prune receipts as compaction-activity entries, per receipt store in log order.
        # @param store [Symbol, String, nil] only prunes that removed a fact of this store
        # @return [Array<Hash>] +kind: :exact_prune, executor, store, status,
        #   reason, fact_count, receipt_id, occurred_at+
        def activity(store)
          name = store&.to_s
          log = @log.call
          @receipt_stores.flat_map { |receipt_store| log.facts_for(store: receipt_store) }.filter_map do |fact|
            v = fact.value
            next unless v.is_a?(Hash)
            # A custom receipt store may hold other facts; the default one is ours alone.
            next unless fact.store == DEFAULT_RECEIPT_STORE || v[:type].to_s == "fact_prune_receipt"
            next if name && v[:pruned_fact_refs].to_a.none? { |ref| ref[:store].to_s == name }

            { kind: :exact_prune, executor: :fact_prune, store: nil, status: :ok, reason: v[:reason],
              fact_count: v[:pruned_count].to_i, receipt_id: fact.id, occurred_at: v[:pruned_at].to_f }
          end
        end

        private

        def remove(doomed)
          if @shared_log # shared log: deleted in the database, in one transaction
            @log.call.remove_facts(doomed.to_a)
          else
            @rebuild.call(@log.call.all_facts.reject { |f| doomed.include?(f.id.to_s) })
            @backend&.replace_with_snapshot!(@log.call.all_facts)
          end
        end

        def write_receipt(receipt_store, requested, refs, missing, reason, metadata)
          @receipt_stores << Names.normalize_store(receipt_store)
          @write.call(
            store: receipt_store,
            key: SecureRandom.hex(8),
            value: {
              type: :fact_prune_receipt, reason: reason, requested_count: requested,
              pruned_count: refs.size, missing_count: missing.size, pruned_fact_refs: refs,
              missing_ids: missing, metadata: metadata,
              pruned_at: Process.clock_gettime(Process::CLOCK_REALTIME)
            }
          )
        end
      end
    end
  end
end
