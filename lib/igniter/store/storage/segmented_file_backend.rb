# frozen_string_literal: true

require "json"
require "fileutils"
require_relative "wire_protocol"
require_relative "../core/json_canon"
require_relative "codecs"
require_relative "../core/errors"
require_relative "sync_timing"
require_relative "recovery_mode"
require_relative "backend"
require_relative "segmented/layout"
require_relative "segmented/atomic_file"
require_relative "segmented/manifest_index"
require_relative "segmented/quarantine"
require_relative "segmented/lock"
require_relative "segmented/inventory"
require_relative "segmented/salvage_plan"
require_relative "segmented/recovery"
require_relative "segmented/recovery_report"
require_relative "segmented/reading"
require_relative "segmented/appending"
require_relative "segmented/retention"
require_relative "segmented/reporting"

module Igniter
  module Store
    # Facts in per-store, per-time-bucket segment files with manifest
    # sidecars (doc/format.md "Segmented storage"). Layout:
    # `<root>/wal/store=<store>/date=<bucket>/segment-NNNNNN.wal` plus
    # `.manifest.json` (sealed), `.purged.json` and `.quarantine.json` receipts,
    # a `.quarantine/` sidecar per damaged segment, and `<root>/ledger.lock`.
    #
    # One live segment per store, appended through a plain Ruby IO held in
    # `@segments[store][:file]`; a segment is sealed (manifest written
    # atomically) on rotation, {#checkpoint!} and {#close}, and at the next
    # open if the process died first. Recovery never deletes a byte and never
    # drops a valid fact (doc/format.md "Segments: salvage"); one writer holds
    # the ledger at a time.
    class SegmentedFileBackend
      include WireProtocol
      include Backend
      include Segmented::Recovery
      include Segmented::RecoveryReport
      include Segmented::Reading
      include Segmented::Appending
      include Segmented::Retention
      include Segmented::Reporting

      # Appended to a segment's name to name its manifest.
      MANIFEST_SUFFIX = Segmented::ManifestIndex::MANIFEST_SUFFIX
      # Appended to a segment's name to name its purge receipt.
      PURGED_SUFFIX = Segmented::ManifestIndex::PURGED_SUFFIX
      # Appended to a segment's name to name its whole-segment damage receipt.
      QUARANTINE_SUFFIX = Segmented::ManifestIndex::QUARANTINE_SUFFIX
      # Segment size at which the next write rotates.
      DEFAULT_MAX_BYTES = 64 * 1024 * 1024
      # Codec of a store without one configured.
      DEFAULT_CODEC = :json_crc32
      # Version reported in `storage_stats` and `segment_manifest`.
      SCHEMA_VERSION = 1
      # Accepted `durability:` values.
      DURABILITY_POLICIES = %i[flush fsync].freeze
      # What this backend declares (doc/contracts.md).
      CAPABILITIES = Capabilities.declare(Capabilities::RECOVERY, Capabilities::STORAGE_STATS,
                                          Capabilities::SEGMENT_MANIFEST, Capabilities::PURGE_RECEIPTS,
                                          Capabilities::SYNC_STATS)

      # A sealed segment that serves fewer facts than its manifest says (the
      # error class named in its `.quarantine.json` receipt).
      class CorruptSegmentError < StandardError; end

      # @return [String] as given (only `to_s`)
      attr_reader :root_dir

      # @return [Set<Symbol>] {CAPABILITIES}: recovery, storage stats,
      #   segment manifest, purge receipts (no snapshots: segments are the log)
      def capabilities
        CAPABILITIES
      end
      # @return [Symbol] `:flush` or `:fsync`
      attr_reader :durability
      # @return [Symbol] `:salvage`, `:strict` or `:truncate`
      attr_reader :recovery_mode

      # @param root_dir [#to_s]
      # @param max_bytes [Integer] a segment at or past this size is rotated before the next write
      # @param time_bucket [Symbol] `:day` (default), `:hour` or `:none`
      # @param codec [Symbol, String, Hash] one codec, or `{store => codec}`
      # @param retention [Hash] `{store => {strategy:, duration:}}`
      # @param flush [Symbol, Hash] `:batch`, `:on_write` or `{every_n: N}`: when
      #   buffered compact facts are written out
      # @param durability [Symbol] `:flush` (default: frames handed to the OS
      #   as 0.5.2 did, no fsync) or `:fsync` (fdatasync after every write that
      #   reaches a segment; manifests, receipts and directories fsynced)
      # @param recovery [Symbol] what opening and replaying do with damage:
      #   `:salvage` (default: serve every valid fact, quarantine the rest),
      #   `:truncate` (serve each damaged segment's prefix, quarantine the
      #   rest) or `:strict` (raise {CorruptLedgerError}, change nothing)
      # @param read_only [Boolean] share the lock with other readers, never
      #   write (no sealing, no quarantine, no receipts); writes raise
      #   {ReadOnlyLedgerError}
      # @raise [ArgumentError] unknown durability policy or recovery mode
      # @raise [LedgerLockedError] another writer (or, for a writer, a
      #   read-only open) holds the ledger
      # @raise [NotALedgerError] read-only open of a directory that does not exist
      # @raise [CorruptLedgerError] `recovery: :strict` and an orphaned segment is damaged
      def initialize(root_dir, max_bytes: DEFAULT_MAX_BYTES, time_bucket: :day, codec: DEFAULT_CODEC,
                     retention: {}, flush: :batch, durability: :flush, recovery: :salvage, read_only: false)
        unless DURABILITY_POLICIES.include?(durability)
          raise ArgumentError, "unknown durability policy: #{durability.inspect} (expected :flush or :fsync)"
        end

        @recovery_mode = RecoveryMode.check(recovery)
        @read_only = read_only ? true : false
        @root_dir = root_dir.to_s
        @wal_dir = File.join(@root_dir, "wal")
        @max_bytes = max_bytes
        @time_bucket = time_bucket
        @codec_config = codec
        @flush = flush
        @durability = durability
        @sync_timing = Storage::SyncTiming.new
        @mutex = Mutex.new
        @segments = {}
        @store_names = {}
        @bucket = nil
        @bucket_span = nil
        @retention = {}
        @recovery_files = {}
        @removed_empty = []
        retention.each { |store, policy| set_retention(store, **policy) }
        open_ledger
      end

      # What recovery found so far: startup recovery of orphaned segments and
      # every damaged segment a replay read. Per file, the shape of
      # FileBackend#recovery (`original_bytes`, `valid_bytes`,
      # `truncated_bytes`, `tail`, `mode`, `quarantined` spans
      # `{file:, offset:, length:, reason:, quarantine_path:}` — nil paths on a
      # read-only open — `salvaged_frames`, `damaged_spans`) plus `state`
      # (`:orphan`/`:sealed`), `codec`, `fact_count` (served) and
      # `expected_facts` (the manifest's).
      #
      # @return [Hash] deep-frozen: `mode`, `read_only`, `files` (path =>
      #   report), `quarantined` (every span), `removed_empty` (empty orphans
      #   removed), `unrecognized` (paths left alone)
      def recovery
        @mutex.synchronize { recovery_report }
      end

      # @return [Boolean] opened with `read_only: true`
      def read_only?
        @read_only
      end

      # Appends a fact to its store's live segment (opening or rotating it first).
      #
      # @param fact [Fact]
      # @return [nil]
      # @raise [InvalidStoreNameError] a store name that is not one directory name
      # @raise [ArgumentError] "Unknown codec: ..." (before any file is created)
      # @raise [ReadOnlyLedgerError] opened with `read_only: true`
      # @raise [LedgerLockedError] after {#close}, another writer took the ledger
      # @raise [SystemCallError, IOError] the disk refused the write (message
      #   names the segment); nothing of the fact was kept
      def write_fact(fact)
        store = store_dir_name(fact.store)
        @mutex.synchronize do
          writable!
          seg = @segments[store]
          if seg && rotate?(seg)
            seal(seg)
            @segments.delete(store)
            seg = nil
          end
          seg ||= (@segments[store] = open_segment(store))
          append(seg, fact)
          seg[:count] += 1
          ts = fact.transaction_time.to_f
          seg[:min_ts] = ts if seg[:min_ts].nil? || ts < seg[:min_ts]
          seg[:max_ts] = ts if seg[:max_ts].nil? || ts > seg[:max_ts]
        end
        nil
      end

      # Facts of every segment (sealed, live, and the buffered facts of a live
      # compact segment), stably sorted by transaction_time. `since:`/`as_of:`
      # skip whole sealed segments by their manifest times; facts are not
      # filtered one by one. Damaged segments are salvaged under the recovery
      # mode (see {#recovery}); a damaged sealed segment gets a quarantine
      # receipt.
      #
      # @param store [Symbol, String, nil]
      # @param since [Float, nil]
      # @param as_of [Float, nil]
      # @return [Array<Fact>]
      # @raise [CorruptLedgerError] `recovery: :strict` and a segment is damaged
      def replay(store: nil, since: nil, as_of: nil)
        facts = []
        replay_parts(store, since, as_of, false) { |part| facts.concat(part) }
        tt_sorted(facts)
      end

      # Loads every fact {#replay} returns into +log+, in the same order, as
      # `log.replay_from(self)` would. An empty native FactLog takes each
      # segment's decoded records as they are (doc/performance.md "Segmented
      # open"): no Ruby object is built for a fact until it is read. When a
      # segment is one only the Ruby decoder reads, or live segments hold
      # facts, the log gets {#replay}'s facts instead.
      #
      # @param log [FactLog]
      # @return [nil]
      # @raise [CorruptLedgerError] `recovery: :strict` and a segment is damaged
      def replay_into(log)
        return log.replay_from(self) unless log.respond_to?(:append_records) && log.size.zero?

        parts = []
        replay_parts(nil, nil, nil, true) { |part| parts << part }
        if parts.any?(Array)
          tt_sorted(parts.flat_map { |part| part.is_a?(Array) ? part : part.facts }).each { |fact| log.replay(fact) }
        else
          ordered = true
          parts.each_index do |i|
            in_order = log.append_records(parts[i])
            parts[i] = nil # its records are the log's now
            ordered &&= in_order
          end
          log.records_appended(ordered)
        end
        nil
      end

      # Seals every live segment and opens a fresh (empty) one per store.
      # @return [nil]
      # @raise [ReadOnlyLedgerError] opened with `read_only: true`
      # @raise [SystemCallError, IOError] a seal failed (the segment stays live)
      def checkpoint!
        @mutex.synchronize do
          writable! unless @segments.empty?
          @segments.keys.each do |store|
            seal(@segments[store])
            @segments[store] = open_segment(store)
          end
        end
        nil
      end

      # Seals every live segment and releases the ledger lock. Not terminal: a
      # later write takes the lock again and opens a new segment. A segment
      # whose seal fails stays live (and the lock held) for another try. In a
      # forked child it only closes the child's descriptors: the segments and
      # the lock are the parent's.
      # @return [nil]
      # @raise [SystemCallError, IOError] the first seal that failed
      def close
        @mutex.synchronize do
          return close_inherited unless @lock.owned_here?

          failures = []
          @segments.keys.each do |store|
            seg = @segments[store]
            seal(seg)
            @segments.delete(store)
          rescue SystemCallError, IOError => e
            failures << e
          end
          @lock.release if @segments.empty?
          raise failures.first unless failures.empty?
        end
        nil
      end

      # @return [Integer] segment files on disk (sealed, live and orphaned)
      def segment_count
        Segmented::Layout.segments(File.join(@wal_dir, "store=*", "date=*", Segmented::Layout::SEGMENT_GLOB)).size
      end

      # @return [Array<String>] store directories under `wal/`, sorted
      def stored_store_names
        Dir.glob(File.join(@wal_dir, "store=*")).sort.map { |dir| File.basename(dir).delete_prefix("store=") }
      end

      # @param store [Symbol, String]
      # @param strategy [Symbol, String] `:permanent`, `:ephemeral`, `:rolling_window`
      # @param duration [Numeric, nil] window in seconds for `:rolling_window`
      # @return [Hash] `{strategy:, duration:}`
      def set_retention(store, strategy:, duration: nil)
        name = Segmented::Layout.store_name!(store)
        @mutex.synchronize { @retention[name] = { strategy: strategy.to_sym, duration: duration } }
      end

      # Deletes sealed segments that their store's retention policy selects.
      #
      # @param store [Symbol, String, nil] one store, else every store with a policy
      # @return [Array<Hash>] purge receipts (String keys)
      # @raise [ReadOnlyLedgerError] opened with `read_only: true`
      def purge!(store: nil)
        @mutex.synchronize do
          writable!
          targets = store ? [Segmented::Layout.store_name!(store)] : @retention.keys
          targets.flat_map do |name|
            policy = @retention[name]
            policy ? purge_store(name, policy) : []
          end
        end
      end

      # @param store [Symbol, String, nil]
      # @param since [Float, nil] keep receipts purged at or after
      # @param until_ [Float, nil] keep receipts purged at or before
      # @param limit [Integer, nil]
      # @return [Array<Hash>] by `purged_at`, ascending
      def purge_receipts(store: nil, since: nil, until_: nil, limit: nil)
        receipts = read_receipts(store, PURGED_SUFFIX)
        receipts = receipts.each_with_index.sort_by { |r, i| [r["purged_at"].to_f, i] }.map!(&:first)
        receipts.select! { |r| r["purged_at"].to_f >= since } if since
        receipts.select! { |r| r["purged_at"].to_f <= until_ } if until_
        limit ? receipts.first(limit) : receipts
      end

      # @param store [Symbol, String, nil]
      # @return [Array<Hash>] in path order
      def quarantine_receipts(store: nil)
        read_receipts(store, QUARANTINE_SUFFIX)
      end

      # @param store [Symbol, String, nil]
      # @return [Hash] {#storage_stats} plus a `"segments"` Array per store
      def segment_manifest(store: nil)
        @mutex.synchronize { storage_view(store, true) }
      end

      # How long the segments' fdatasync/fsync calls took (none unless
      # `durability: :fsync`), for the server's
      # `igniter_ledger_storage_fsync_duration_seconds`.
      # @return [Hash{Symbol=>Object}] see {Storage::SyncTiming#to_h}
      def sync_stats
        @sync_timing.to_h
      end

      # @param store [Symbol, String, nil] exactly this store (zeros when unknown)
      # @return [Hash] `schema_version`, `generated_at`, `stores` (String keys)
      def storage_stats(store: nil)
        @mutex.synchronize { storage_view(store, false) }
      end

      # What a crash would lose now, per store with a live segment.
      # @return [Hash] `policy`, `sync`, `stores`
      def durability_snapshot
        @mutex.synchronize do
          stores = @segments.to_h do |store, seg|
            buffered = seg[:codec].buffered_count
            [store, { "codec" => seg[:codec].name, "buffered_count" => buffered,
                      "facts_on_disk" => seg[:count] - buffered,
                      "durability" => buffered.positive? ? "buffered" : "flushed" }]
          end
          { "policy" => flush_policy_name, "sync" => @durability.to_s, "stores" => stores }
        end
      end

      private

      # Takes the lock, recovers orphans, reads the sidecars and lists what
      # the directory holds that is not the ledger's.
      def open_ledger
        if @read_only
          unless File.directory?(@root_dir)
            raise NotALedgerError.new("#{@root_dir} is not a segmented igniter-ledger directory: it does not exist",
                                      path: @root_dir)
          end
          @lock = Segmented::Lock.shared(@root_dir)
        else
          FileUtils.mkdir_p(@wal_dir)
          @lock = Segmented::Lock.exclusive(@root_dir)
        end
        begin
          recover_orphans
          @index = Segmented::ManifestIndex.new(@wal_dir)
          @unrecognized = Segmented::Inventory.unrecognized(@root_dir).freeze
        rescue Exception # rubocop:disable Lint/RescueException
          @lock.release
          raise
        end
      end

      # Before anything that writes: refuses read-only opens and a forked
      # child's inherited lock, and takes the lock again after {#close}.
      def writable!
        raise ReadOnlyLedgerError, "#{@root_dir} is open read-only; writes are refused" if @read_only

        if @lock.held?
          return if @lock.owned_here?

          raise LedgerLockedError.new("#{@lock.path} is held by the parent process (pid #{@lock.owner}); " \
                                      "a forked child must open the ledger itself", path: @lock.path,
                                                                                   pid: @lock.owner)
        end
        @lock = Segmented::Lock.exclusive(@root_dir)
        recover_orphans
        @index.reload
      end

      # A forked child's close: drop the inherited descriptors, write nothing.
      def close_inherited
        @segments.each_value { |seg| seg[:file].close unless seg[:file].closed? }
        @segments.clear
        @lock.release
        nil
      end

      # May this backend write to the directory now (quarantine, receipts, cuts)?
      def writable?
        !@read_only && @lock.exclusive? && @lock.owned_here?
      end

      def sync?
        @durability == :fsync
      end

      def realtime
        Process.clock_gettime(Process::CLOCK_REALTIME)
      end

      def codec_name_for(store)
        case @codec_config
        when Symbol, String then @codec_config
        when Hash then @codec_config.fetch(store.to_sym) { @codec_config.fetch(store, DEFAULT_CODEC) }
        else DEFAULT_CODEC
        end
      end

      def rotate?(seg)
        seg[:bucket] != current_bucket || seg[:bytes] >= @max_bytes
      end

      # The validated directory name of a store, remembered per store object:
      # the checks cost more than a write's frame encoding.
      def store_dir_name(store)
        @store_names[store] || (@store_names[store] = Segmented::Layout.store_name!(store))
      end

      # The bucket of now, recomputed only when the clock leaves the UTC day
      # (or hour) it was computed in; strftime on every write costs more than
      # encoding the fact. Unix time has no leap seconds, so UTC days and hours
      # are whole multiples of 86_400 and 3_600 seconds; slot and name both
      # come from the same whole second.
      def current_bucket
        now = Time.now.to_i
        return @bucket if @bucket && (@bucket_span.nil? || now / @bucket_span == @bucket_slot)

        @bucket_span = { hour: 3_600, none: nil }.fetch(@time_bucket, 86_400)
        @bucket_slot = @bucket_span && now / @bucket_span
        @bucket = Segmented::Layout.bucket(@time_bucket, Time.at(now).utc)
      end

      # A new segment numbered past every file of its directory, receipts
      # included, so a segment id is never given out twice.
      def open_segment(store)
        codec = Codecs.build(codec_name_for(store)) # raises before any file exists
        bucket = current_bucket
        dir = File.join(@wal_dir, "store=#{store}", "date=#{bucket}")
        FileUtils.mkdir_p(dir)
        @index.add_store(store)
        recover_orphans(File.join(dir, Segmented::Layout::SEGMENT_GLOB))
        number = (Dir.children(dir).map { |f| Segmented::Layout.segment_number(f) }.max || 0) + 1
        path = File.join(dir, Segmented::Layout.segment_file(number))
        file = File.open(path, "ab")
        file.sync = true
        Segmented::AtomicFile.fsync_dir(dir) if sync?
        codec.start_segment(file, store: store)
        seg = { path: path, file: file, store: store, bucket: bucket, number: number,
                codec_name: codec_name_for(store), codec: codec, count: 0, min_ts: nil, max_ts: nil, bytes: 0 }
        seg[:facts_since_flush] = 0 if @flush.is_a?(Hash)
        seg
      end

      def flush_policy_name
        case @flush
        when Hash then "every_n:#{@flush[:every_n]}"
        else @flush.to_s
        end
      end

      # Writes the pending batch, closes the file, then deletes it (empty) or
      # writes its manifest. A file closed under us (crash simulation) raises
      # before anything is written. A manifest that cannot be written leaves
      # the closed segment an orphan: it is dropped from the live ones and
      # recovered like a crashed one.
      def seal(seg)
        flush_for_seal(seg)
        seg[:file].close
        if seg[:count].zero?
          File.delete(seg[:path]) if File.exist?(seg[:path])
          return
        end
        manifest = manifest_doc(seg[:store], seg[:bucket], seg[:number], seg[:codec].name, seg[:count],
                                File.size(seg[:path]), seg[:min_ts], seg[:max_ts])
        begin
          write_manifest(seg[:path], manifest)
        rescue SystemCallError, IOError => e
          @segments.delete(seg[:store]) if @segments[seg[:store]].equal?(seg)
          raise write_fault(e, "sealing segment", seg[:path],
                            "its facts are on disk and it is recovered as an orphan at the next open")
        end
      end

      def manifest_doc(store, bucket, number, codec, count, bytes, min_ts, max_ts)
        { "segment_id" => Segmented::Layout.segment_id(store, bucket, number), "store" => store,
          "codec" => codec, "fact_count" => count, "byte_size" => bytes,
          "min_timestamp" => min_ts, "max_timestamp" => max_ts,
          "sealed" => true, "sealed_at" => realtime }
      end

      def write_manifest(path, manifest)
        Segmented::AtomicFile.write_json(path + MANIFEST_SUFFIX, manifest, sync: sync?)
        @index&.put(path, manifest)
      end

      def manifest_for(path)
        cached = @mutex.synchronize { @index.manifest(path) }
        return cached if cached
        return nil unless File.exist?(path + MANIFEST_SUFFIX)

        Segmented::AtomicFile.read_json(path + MANIFEST_SUFFIX) || {}
      end

      # Stable sort by transaction_time; segments are nearly always in order
      # already, so check first.
      def tt_sorted(facts)
        return facts if facts.each_cons(2).all? { |a, b| a.transaction_time <= b.transaction_time }

        facts.each_with_index.sort_by { |fact, i| [fact.transaction_time, i] }.map!(&:first)
      end

      # Yields the facts of each segment {#replay} reads, in its order, then
      # the live segments' facts (an Array); `records`: see {Codecs.salvage}.
      # Listing and the live segments are taken together under the lock, so
      # a concurrent flush or rotation can neither hide nor double a fact.
      def replay_parts(store, since, as_of, records)
        name = store && Segmented::Layout.store_name!(store)
        pattern = File.join(@wal_dir, "store=#{name || "*"}", "date=*", Segmented::Layout::SEGMENT_GLOB)
        paths, live_facts = @mutex.synchronize do
          live = @segments.values.select { |seg| name.nil? || seg[:store] == name }
          [Segmented::Layout.segments(pattern) - live.map { |seg| seg[:path] }, live.flat_map { |seg| live_facts(seg) }]
        end
        paths.sort_by! { |p| [Segmented::Layout.store_and_bucket(p)[0], Segmented::Layout.order_key(p)] }
        paths.each do |path|
          manifest = manifest_for(path)
          yield read_segment(path, manifest, records: records) unless skipped?(manifest, since, as_of)
        end
        yield live_facts unless live_facts.empty?
      end

      # A manifest without usable times (orphan, unreadable) never skips.
      def skipped?(manifest, since, as_of)
        return false unless manifest

        max = manifest["max_timestamp"]
        min = manifest["min_timestamp"]
        (since && max.is_a?(Numeric) && max < since) || (as_of && min.is_a?(Numeric) && min > as_of) || false
      end

      # The live segment of this process: its good frames on disk plus the
      # facts its codec still buffers. A torn tail here is a write in flight
      # (or a crash simulated under us), not damage.
      def live_facts(seg)
        on_disk = Codecs.salvage(seg[:codec].name, File.binread(seg[:path])).facts
        on_disk + seg[:codec].buffered_facts
      rescue SystemCallError, IOError
        seg[:codec].buffered_facts
      end
    end
  end
end
