# frozen_string_literal: true

require "securerandom"

module Igniter
  module Store
    module Engine
      # Exact removal of facts by id (e.g. an erasure request), leaving a
      # receipt with compact references (no payloads) behind.
      module Prune
        # Meta-store of exact-prune receipts.
        DEFAULT_RECEIPT_STORE = :__fact_prune_receipts

        # Removes the facts with these ids from the live log and every index.
        #
        # The receipt is written (and persisted) first, then the log is
        # rebuilt without the facts, then the backend's snapshot replaces its
        # log so the facts cannot come back on reopen. Unknown ids are
        # reported, not an error; when none of the ids is live only the
        # receipt is written (nothing to rebuild).
        #
        # @param fact_ids [Enumerable<#to_s>, #to_s]
        # @param reason [Object] recorded in the receipt
        # @param metadata [Hash] recorded in the receipt
        # @param receipt_store [Symbol] store of the receipt fact
        # @return [Hash] +status: :ok, receipt_id, pruned_count, missing_count,
        #   pruned_fact_refs, missing_ids+; or +status: :unsupported, reason:
        #   :backend_does_not_support_exact_prune, backend:+ (class name) for a
        #   backend that cannot rewrite its log (nothing is changed then)
        def prune_fact_ids(fact_ids:, reason:, metadata: {}, receipt_store: DEFAULT_RECEIPT_STORE)
          if @backend && !@shared_log && !Capabilities.of(@backend).include?(Capabilities::REWRITE) # shared log: deletes by id
            return { status: :unsupported, reason: :backend_does_not_support_exact_prune,
                     backend: @backend.class.name }
          end

          ids = Array(fact_ids).map(&:to_s).uniq
          @write_lock.synchronize do
            refs, missing = ids.partition { |id| fact_by_id(id) }
            refs.map! { |id| fact_ref(id) }
            receipt = write_prune_receipt(receipt_store, ids.size, refs, missing, reason, metadata)
            unless refs.empty?
              doomed = refs.to_set { |ref| ref[:id] }
              if @shared_log # shared log: deleted in the database, in one transaction
                @log.remove_facts(doomed.to_a)
              else
                rebuild_log!(@log.all_facts.reject { |f| doomed.include?(f.id.to_s) })
                @backend&.replace_with_snapshot!(@log.all_facts)
              end
            end
            { status: :ok, receipt_id: receipt.id, pruned_count: refs.size, missing_count: missing.size,
              pruned_fact_refs: refs, missing_ids: missing }
          end
        end

        private

        def write_prune_receipt(receipt_store, requested, refs, missing, reason, metadata)
          @prune_receipt_stores << normalize_store(receipt_store)
          write(
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
