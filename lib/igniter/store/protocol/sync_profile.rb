# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # What a sync hub receives (doc/protocol.md "Replay and sync"). Omitted members are nil.
      SyncProfile = Struct.new(:schema_version, :kind, :generated_at, :cursor, :descriptors, :facts, :retention,
                               :compaction_receipts, :compaction_activity, :subscription_checkpoints,
                               keyword_init: true) do
        # @return [Boolean] true when built without a cursor
        def full? = cursor.nil?

        # @return [Boolean]
        def incremental? = !full?

        # @return [Integer]
        def fact_count = facts.to_a.size

        # The 0.5.2 cursor: inclusive, so resending it repeats the boundary
        # fact(s). Kept exactly for compatibility; see {#resume_cursor}.
        # @return [Hash, nil] +{kind: :timestamp, value: Float}+
        def next_cursor
          times = facts.to_a.filter_map { |f| f[:transaction_time] || f[:timestamp] }
          return nil if times.empty?

          { kind: :timestamp, value: times.max }
        end

        # An exclusive cursor after the greatest (transaction_time, fact id)
        # of this profile: resending it neither repeats nor skips facts that
        # share a timestamp.
        # @return [Hash, nil] see {ReplayCursor.after}
        def resume_cursor
          last = facts.to_a.max_by { |f| ReplayCursor.sort_key(f) }
          last && ReplayCursor.after(last)
        end

        # @return [String] JSON of all ten members
        def to_json(*args)
          to_h.to_json(*args)
        end
      end
    end
  end
end
