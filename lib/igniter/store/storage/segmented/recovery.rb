# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Startup recovery (doc/format.md "Segments: salvage"):
      # every segment without a manifest was left by a process that did not
      # seal it. Each is salvaged under the recovery mode, whatever is cut is
      # copied to its quarantine sidecar first, then it gets a manifest with
      # the codec found in its bytes and the count of the facts it serves.
      #
      # - An orphan is cut after its last kept frame (a torn tail is the usual
      #   case: the crash cut a write short); damage between kept frames stays
      #   in place and is skipped on every read.
      # - An empty orphan (0 bytes: a segment opened by checkpoint! or rotation
      #   and never written) is removed: it holds nothing to lose, and a
      #   manifest for it would only add an empty sealed segment per crash.
      # - Under :strict any damage raises before anything changes on disk;
      #   read-only opens change nothing and recover in memory.
      module Recovery
        private

        # @return [nil]
        # @raise [CorruptLedgerError] :strict and an orphan is damaged
        def recover_orphans(glob = File.join(@wal_dir, "store=*", "date=*", Layout::SEGMENT_GLOB))
          orphans = Layout.segments(glob).sort.reject do |path|
            File.exist?(path + ManifestIndex::MANIFEST_SUFFIX) || live_path?(path)
          end
          plans = orphans.filter_map { |path| orphan_plan(path) }
          strict!(plans.map { |path, plan, _codec| [path, plan] }) if @recovery_mode == :strict
          plans.each { |path, plan, codec, bytes| recover_orphan(path, plan, codec, bytes) }
          nil
        end

        def live_path?(path)
          @segments.each_value.any? { |seg| seg[:path] == path }
        end

        # @return [Array(String, SalvagePlan, String, String), nil]
        def orphan_plan(path)
          bytes = File.binread(path)
          codec = Codecs.detect(bytes) || Codecs::JsonCrc32::NAME
          [path, salvage_plan(codec, bytes), codec, bytes]
        rescue Errno::ENOENT
          nil # sealed or removed meanwhile
        end

        # @param records [Boolean] see {Codecs.salvage}
        # @return [SalvagePlan]
        def salvage_plan(codec, bytes, records: false)
          SalvagePlan.new(Codecs.salvage(codec, bytes, records: records), @recovery_mode, bytes.bytesize)
        end

        # @raise [CorruptLedgerError] for the first damaged one of `plans`
        def strict!(plans)
          path, plan = plans.find { |_, p| p.damaged? }
          return unless plan

          offset, _, reason = plan.first_damage
          raise CorruptLedgerError.new(path: path, offset: offset, reason: reason)
        end

        def recover_orphan(path, plan, codec, bytes)
          if bytes.empty?
            remove_empty_orphan(path)
            return
          end
          quarantined = quarantine_spans(path, bytes, plan.spans)
          cut = writable? && plan.kept_end < bytes.bytesize ? bytes.bytesize - plan.kept_end : 0
          note_recovery(path, file_report(plan, :orphan, codec, quarantined, cut, nil))
          return unless writable?

          if plan.kept_end.zero?
            # Every byte is in quarantine now; an empty file would only be
            # removed at the next open.
            File.delete(path)
            fsync_dir(File.dirname(path))
            return
          end
          truncate(path, plan.kept_end) if cut.positive?
          store, bucket = Layout.store_and_bucket(path)
          write_manifest(path, manifest_doc(store, bucket, Layout.segment_number(path), codec, plan.facts.size,
                                            plan.kept_end, nil, nil))
        end

        def remove_empty_orphan(path)
          @removed_empty << path unless @removed_empty.include?(path)
          return unless writable?

          File.delete(path)
          fsync_dir(File.dirname(path))
        rescue Errno::ENOENT
          nil
        end

        # Copies each span of +bytes+ to the sidecar of +path+ (when this
        # backend may write), else finds the copy an earlier open made.
        # @return [Array<Hash>] span reports `{file:, offset:, length:, reason:, quarantine_path:}`
        def quarantine_spans(path, bytes, spans)
          spans.map do |offset, length, reason|
            data = bytes.byteslice(offset, length)
            copy = writable? ? Quarantine.write(path, offset, data, reason) : Quarantine.find(path, offset, data)
            { file: path, offset: offset, length: length, reason: reason, quarantine_path: copy }.freeze
          end.freeze
        end

        # The per-file recovery report (the shape of FileBackend#recovery, plus
        # the segment's state, codec and fact counts).
        def file_report(plan, state, codec, quarantined, truncated, expected)
          {
            original_bytes: plan.size, valid_bytes: plan.valid_bytes, truncated_bytes: truncated,
            tail: plan.tail, mode: @recovery_mode, quarantined: quarantined,
            salvaged_frames: plan.salvaged_frames, damaged_spans: plan.damaged_spans,
            state: state, codec: codec, fact_count: plan.facts.size, expected_facts: expected
          }.freeze
        end

        # Caller holds the mutex, or runs before the backend is shared. The
        # report of the open that sealed an orphan stays (it says what was
        # cut); a replay of that segment finds a subset of it.
        def note_recovery(path, report)
          return if report[:state] == :sealed && @recovery_files[path]&.fetch(:state) == :orphan

          @recovery_files[path] = report
        end

        def truncate(path, valid)
          File.open(path, "r+b") do |io|
            io.truncate(valid)
            io.fsync if sync?
          end
        end

        def fsync_dir(dir)
          AtomicFile.fsync_dir(dir) if sync?
        end
      end
    end
  end
end
