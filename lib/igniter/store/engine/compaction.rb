# frozen_string_literal: true

require "securerandom"
require "set"

module Igniter
  module Store
    module Engine
      # Retention policies and their execution. A compaction drops facts of
      # one store from the live log, leaves a receipt fact in
      # `:__compaction_receipts` and, where the backend can, makes the drop
      # durable. The policies live in the schema graph.
      class Compaction
        # Meta-store of compaction receipts.
        RECEIPT_STORE = :__compaction_receipts
        # Retention strategies `set_retention` accepts.
        STRATEGIES = %i[permanent ephemeral rolling_window].freeze

        # @param schema_graph [SchemaGraph] where retention policies are registered
        # @param log [#call] answers the live fact log (the store replaces it on a rebuild)
        # @param backend [Backend, nil] made to forget dropped facts, where it can
        # @param shared_log [Boolean] the log is the backend's own (it deletes by id)
        # @param lock [Monitor] the store's write lock
        # @param write [#call] `write.call(store:, key:, value:)` commits a receipt
        # @param rebuild [#call] `rebuild.call(facts)` replaces the live log with +facts+
        def initialize(schema_graph:, log:, backend:, shared_log:, lock:, write:, rebuild:)
          @schema_graph = schema_graph
          @log = log
          @backend = backend
          @shared_log = shared_log
          @lock = lock
          @write = write
          @rebuild = rebuild
        end

        # What {IgniterStore#set_retention} does (documented there).
        # @return [void]
        def set_retention(store, strategy:, duration:)
          strategy = strategy.to_sym if strategy.is_a?(String) # e.g. from a JSON client
          unless STRATEGIES.include?(strategy)
            raise ArgumentError, "unknown retention strategy: #{strategy.inspect}. Valid: #{STRATEGIES.map(&:inspect).join(", ")}"
          end
          if strategy == :rolling_window && !(duration.is_a?(Numeric) && duration >= 0)
            raise ArgumentError, "rolling_window retention requires a non-negative duration, got #{duration.inspect}"
          end

          @schema_graph.register_retention(store, RetentionPolicy.new(strategy: strategy, duration: duration))
          nil
        end

        # What {IgniterStore#compact} does (documented there).
        # @param store [Symbol, nil] a normalized store name, or nil for every store with a policy
        # @return [Array<Hash>]
        def compact(store)
          targets = store ? [store] : @schema_graph.retention_stores
          targets.filter_map do |target|
            policy = @schema_graph.retention_for(store: target)
            next unless policy && policy.strategy != :permanent

            compact_store(target, policy)
          end
        end

        # What {IgniterStore#compaction_receipts} does (documented there).
        # @return [Array<Fact>]
        def receipts(store)
          receipts = @log.call.facts_for(store: RECEIPT_STORE)
          return receipts if store.nil?

          name = store.to_s
          receipts.select { |f| receipt_field(f, :compacted_store).to_s == name }
        end

        # What {IgniterStore#compaction_activity} does (documented there).
        # @param prunes [Array<Hash>] the exact prunes' entries ({Prune#activity})
        # @return [Array<Hash>]
        def activity(store, prunes)
          entries = receipts(store).map { |f| retention_activity(f) }
          entries.concat(prunes)
          entries.concat(segment_activity(store)) if Capabilities.of(@backend).include?(Capabilities::PURGE_RECEIPTS)
          entries.sort_by { |e| e[:occurred_at] }
        end

        private

        # Under the write lock from the read of the store's facts to the new
        # log, so no concurrent write can vanish in the swap.
        def compact_store(store, policy)
          @lock.synchronize do
            log = @log.call
            now = Process.clock_gettime(Process::CLOCK_REALTIME)
            keep, drop = partition_compaction(log.facts_for(store: store), policy, now)
            if drop.empty?
              next { store: store, strategy: policy.strategy, dropped_count: 0, kept_count: keep.size,
                     receipt_id: nil, durable: false }
            end

            receipt = write_compaction_receipt(store, drop, policy, now)
            dropped = drop.to_set(&:id)
            durable = if @shared_log # shared log: deleted in the database, in one transaction
                        log.remove_facts(dropped.to_a)
                        true
                      else
                        # Log order is kept (no re-sort by time): "latest" is the last
                        # appended fact, and a sort could reorder a key whose clock stepped back.
                        @rebuild.call(log.all_facts.reject { |f| f.store == store && dropped.include?(f.id) })
                        persist_rebuild
                      end
            { store: store, strategy: policy.strategy, dropped_count: drop.size, kept_count: keep.size,
              receipt_id: receipt.id, durable: durable }
          end
        end

        # The current fact of a key is its last appended one, as for `read`
        # (0.5.2 kept the max transaction_time, which a clock step could make
        # differ from what reads considered current).
        def partition_compaction(facts, policy, now)
          current = facts.each_with_object({}) { |f, latest| latest[f.key] = f }.values.to_set(&:id)
          keep = case policy.strategy
                 when :ephemeral then facts.select { |f| current.include?(f.id) }
                 when :rolling_window
                   cutoff = now - policy.duration.to_f
                   facts.select { |f| current.include?(f.id) || f.transaction_time >= cutoff }
                 else facts
                 end
          kept = keep.to_set(&:id)
          [keep, facts.reject { |f| kept.include?(f.id) }]
        end

        def write_compaction_receipt(store, dropped, policy, now)
          oldest = dropped.min_by(&:transaction_time)
          newest = dropped.max_by(&:transaction_time)
          @write.call(
            store: RECEIPT_STORE,
            key: "#{store}_#{SecureRandom.hex(4)}",
            value: {
              type: :compaction_receipt, compacted_store: store, strategy: policy.strategy,
              compacted_count: dropped.size, oldest_dropped: oldest.id, newest_dropped: newest.id,
              oldest_ts: oldest.transaction_time, newest_ts: newest.transaction_time, compacted_at: now
            }
          )
        end

        # @return [Boolean] true when dropped facts cannot come back on reopen
        def persist_rebuild
          caps = Capabilities.of(@backend)
          if caps.include?(Capabilities::REWRITE)
            @backend.replace_with_snapshot!(@log.call.all_facts)
            true
          elsif caps.include?(Capabilities::SNAPSHOTS)
            @backend.write_snapshot(@log.call.all_facts)
            false
          else
            false
          end
        end

        def receipt_field(fact, name)
          value = fact.value
          value.is_a?(Hash) ? value[name] : nil
        end

        def retention_activity(fact)
          v = fact.value
          { kind: :retention_compaction, executor: :store_compact, store: v[:compacted_store], status: :ok,
            reason: v[:strategy], fact_count: v[:compacted_count].to_i, receipt_id: fact.id,
            occurred_at: v[:compacted_at].to_f }
        end

        def segment_activity(store)
          @backend.purge_receipts(store: store).map do |r|
            { kind: :segment_purge, executor: :segmented_backend, store: r["store"]&.to_sym, status: :ok,
              reason: r["purge_strategy"], fact_count: r["fact_count"].to_i, receipt_id: r["segment_path"],
              occurred_at: r["purged_at"].to_f }
          end
        end
      end
    end
  end
end
