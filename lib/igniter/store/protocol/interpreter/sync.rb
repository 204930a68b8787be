# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      class Interpreter
        # Replay and sync hub profiles (doc/protocol.md "Replay and sync").
        module Sync
          # Fact packets, oldest first.
          #
          # Without +after+/+limit+ this is 0.5.2's replay: inclusive +from+/+to+
          # bounds, append order. With them it pages: facts strictly after the
          # +after+ cursor (see {ReplayCursor}), ordered by (transaction_time,
          # fact id), at most +limit+; resume with `ReplayCursor.after(page.last)`.
          #
          # @param filter [Hash, nil] +store+ (+key+ | +partition_key+ & +partition_value+)
          # @param after [Hash, nil] a cursor Hash
          # @param limit [Integer, nil]
          # @raise [ArgumentError] for a malformed filter, cursor or limit
          # @return [Array<Hash>] fact packets
          def replay(from: nil, to: nil, filter: nil, after: nil, limit: nil)
            facts = filtered_facts(from, to, filter)
            return facts.map { |f| FactPacket.from(f) } if after.nil? && limit.nil?

            page, = ReplayCursor.page(facts, ReplayCursor.parse(after), check_limit(limit))
            page.map { |f| FactPacket.from(f) }
          end

          # Everything a hub needs to mirror this store (doc/protocol.md "Replay and sync").
          #
          # The cursor may be 0.5.2's inclusive +{kind: :timestamp, value:}+ or
          # the exclusive tie-break cursor of {SyncProfile#resume_cursor}; with
          # the latter (or a +limit+) facts come in (transaction_time, id) order.
          # With +stores+, compaction receipts and activity are limited to
          # those stores too (0.5.2 returned every store's).
          #
          # @param stores [Array, Symbol, String, nil]
          # @param limit [Integer, nil] at most this many facts
          # @return [SyncProfile]
          def sync_hub_profile(as_of: nil, cursor: nil, stores: nil, limit: nil)
            wanted = stores.nil? ? nil : Array(stores).to_set { |s| Protocol.name!(s, "stores") }
            facts = fact_window(cursor, as_of)
            facts = facts.select { |f| wanted.include?(f.store) } if wanted
            parsed = tie_break_cursor(cursor)
            facts, = ReplayCursor.page(facts, parsed, check_limit(limit)) if parsed || limit
            SyncProfile.new(
              schema_version: 1, kind: :sync_hub_profile, generated_at: Process.clock_gettime(Process::CLOCK_REALTIME),
              cursor: cursor, descriptors: metadata_snapshot, facts: facts.map { |f| FactPacket.from(f) },
              retention: @store.schema_graph.retention_snapshot,
              compaction_receipts: compaction_receipt_summaries(wanted),
              compaction_activity: sync_compaction_activity(wanted), subscription_checkpoints: {}
            )
          end

          private

          def filtered_facts(from, to, filter)
            return @store.fact_log_all(since: from, as_of: to) if filter.nil?
            raise ArgumentError, "replay: filter must be a Hash, got #{filter.inspect}" unless filter.is_a?(Hash)

            filter = Protocol.symbolize_top(filter)
            store = filter[:store] && Protocol.name!(filter[:store], "filter store")
            if store && filter.key?(:key)
              @store.history(store: store, key: filter[:key], since: from, as_of: to)
            elsif store && filter[:partition_key] && filter.key?(:partition_value)
              @store.history_partition(store: store, partition_key: Protocol.name!(filter[:partition_key], "partition_key"),
                                       partition_value: filter[:partition_value], since: from, as_of: to)
            else
              facts = @store.fact_log_all(since: from, as_of: to)
              store ? facts.select { |f| f.store == store } : facts
            end
          end

          # The 0.5.2 lower bound is cursor[:value] (Symbol keys only) for a
          # timestamp cursor; a tie-break cursor bounds inclusively here and
          # excludes the already-seen facts of its timestamp in ReplayCursor.
          def fact_window(cursor, as_of)
            from = cursor.is_a?(Hash) ? cursor[:value] : nil
            from = nil unless from.is_a?(Numeric)
            @store.fact_log_all(since: from, as_of: as_of)
          end

          def tie_break_cursor(cursor)
            return nil unless cursor.is_a?(Hash)

            kind = cursor[:kind] || cursor["kind"]
            kind.to_s == ReplayCursor::TIE_BREAK.to_s ? ReplayCursor.parse(cursor) : nil
          end

          def check_limit(limit)
            return nil if limit.nil?
            raise ArgumentError, "limit must be a non-negative Integer, got #{limit.inspect}" unless limit.is_a?(Integer) && limit >= 0

            limit
          end

          def compaction_receipt_summaries(wanted)
            receipts = @store.compaction_receipts
            summaries = receipts.map do |f|
              v = f.value.is_a?(Hash) ? f.value : {}
              { id: f.id, compacted_store: v[:compacted_store], strategy: v[:strategy],
                compacted_count: v[:compacted_count], compacted_at: v[:compacted_at] }
            end
            wanted ? summaries.select { |s| wanted.include?(s[:compacted_store]&.to_sym) } : summaries
          end

          def sync_compaction_activity(wanted)
            return compaction_activity if wanted.nil?

            envelope = compaction_activity
            entries = wanted.flat_map { |store| @store.compaction_activity(store: store) }
                            .uniq { |e| [e[:kind], e[:receipt_id]] }.sort_by { |e| e[:occurred_at] }
            envelope.merge(activity: entries, count: entries.size)
          end
        end
      end
    end
  end
end
