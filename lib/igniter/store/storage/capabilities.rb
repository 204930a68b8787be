# frozen_string_literal: true

require "set"

module Igniter
  module Store
    # The optional operations a storage backend declares it supports, beyond
    # the ones every backend has (`write_fact`, `replay`, `close`). The engine
    # and the servers read a backend's {Backend#capabilities} instead of
    # asking it whether it responds to a method (doc/contracts.md).
    module Capabilities
      # `write_snapshot(facts)`: a checkpoint the next open replays from.
      SNAPSHOTS = :snapshots
      # `replace_with_snapshot!(facts)`: the whole log rewritten to +facts+
      # (exact prune, compaction that survives a reopen).
      REWRITE = :rewrite
      # `recovery`: the report of what opening found and repaired.
      RECOVERY = :recovery
      # `storage_stats(store: nil)`: sizes and counts of what is on disk.
      STORAGE_STATS = :storage_stats
      # `segment_manifest(store: nil)`: the segment list per store.
      SEGMENT_MANIFEST = :segment_manifest
      # `purge_receipts(...)`: receipts of segments removed by retention.
      PURGE_RECEIPTS = :purge_receipts
      # `fact_log`: the backend serves reads itself (a log shared by processes).
      FACT_LOG = :fact_log
      # `sync_stats`: a histogram of the fdatasync durations of its data file.
      SYNC_STATS = :sync_stats
      # `write_facts(facts)`: many facts' frames in one write and one
      # durability step (all or none); the engine's write groups use it.
      WRITE_BATCH = :write_batch

      # Every name a backend may declare.
      ALL = Set[SNAPSHOTS, REWRITE, RECOVERY, STORAGE_STATS, SEGMENT_MANIFEST, PURGE_RECEIPTS, FACT_LOG,
                SYNC_STATS, WRITE_BATCH].freeze
      # The method each capability promises (what a lint checks is there).
      OPERATIONS = { SNAPSHOTS => :write_snapshot, REWRITE => :replace_with_snapshot!, RECOVERY => :recovery,
                     STORAGE_STATS => :storage_stats, SEGMENT_MANIFEST => :segment_manifest,
                     PURGE_RECEIPTS => :purge_receipts, FACT_LOG => :fact_log, SYNC_STATS => :sync_stats,
                     WRITE_BATCH => :write_facts }.freeze
      # What a backend with only the required operations declares.
      NONE = Set[].freeze

      module_function

      # @param names [Array<Symbol>] members of {ALL}
      # @return [Set<Symbol>] a frozen set of +names+
      # @raise [ArgumentError] a name that is not a capability
      def declare(*names)
        unknown = names.reject { |name| ALL.include?(name) }
        raise ArgumentError, "unknown backend capabilities #{unknown.inspect} (known: #{ALL.to_a.inspect})" unless unknown.empty?

        Set.new(names).freeze
      end

      # @param backend [Backend, nil] nil stands for "memory only"
      # @return [Set<Symbol>] what +backend+ declares; {NONE} for nil
      def of(backend)
        backend.nil? ? NONE : backend.capabilities
      end
    end
  end
end
