# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Physical purge of sealed segments by per-store policy (doc/format.md "Segments: retention").
      # Key-unaware by contract: `:ephemeral` keeps only the newest sealed
      # segment, `:rolling_window` drops segments whose manifest
      # `max_timestamp` is older than the window. Each deleted segment leaves
      # a `.purged.json` receipt (written atomically before the delete).
      module Retention
        private

        def purge_store(store, policy)
          now = realtime
          # Reread from disk: a manifest edited since open must be honoured.
          sealed = Dir.glob(File.join(@wal_dir, "store=#{store}", "date=*", "*#{ManifestIndex::MANIFEST_SUFFIX}")).filter_map do |m|
            path = m.delete_suffix(ManifestIndex::MANIFEST_SUFFIX)
            doc = File.basename(path).match?(Layout::SEGMENT_NAME) && AtomicFile.read_json(m)
            [path, doc] if doc
          end
          sealed.each { |path, doc| @index.put(path, doc) }
          sealed.sort_by! { |path, _| Layout.order_key(path) }
          doomed = select_doomed(sealed, policy, now)
          receipts = doomed.map { |path, doc| purge_segment(store, path, doc, policy, now) }
          AtomicFile.fsync_dir(File.dirname(doomed.first[0])) if sync? && !doomed.empty?
          receipts
        end

        def select_doomed(sealed, policy, now)
          case policy[:strategy]
          when :rolling_window
            cutoff = now - policy[:duration].to_f
            sealed.select { |_, doc| doc["max_timestamp"].is_a?(Numeric) && doc["max_timestamp"] < cutoff }
          when :ephemeral then sealed[0...-1] || []
          else []
          end
        end

        def purge_segment(store, path, doc, policy, now)
          receipt = doc.merge(
            "purged_at" => now,
            "purge_strategy" => policy[:strategy].to_s,
            "purge_duration" => policy[:duration],
            "segment_path" => path,
            "reason" => purge_reason(store, doc, policy, now)
          )
          AtomicFile.write_json(path + ManifestIndex::PURGED_SUFFIX, receipt, sync: sync?)
          [path, path + ManifestIndex::MANIFEST_SUFFIX].each { |file| File.delete(file) if File.exist?(file) }
          @index.purged(path)
          receipt
        end

        def purge_reason(store, doc, policy, now)
          id = doc["segment_id"] || "unknown"
          owner = doc["store"] || store || "unknown"
          case policy[:strategy]
          when :rolling_window
            max = doc["max_timestamp"]
            age = max.is_a?(Numeric) ? (now - max).round(1) : "unknown"
            "rolling_window: segment #{id} (store=#{owner}) max_timestamp #{age}s older than " \
              "retention window of #{policy[:duration]}s"
          when :ephemeral
            "ephemeral: segment #{id} (store=#{owner}) superseded by newer sealed segment"
          else
            "#{policy[:strategy]}: segment #{id} (store=#{owner}) purged by policy"
          end
        end

        def read_receipts(store, suffix)
          pattern = File.join(@wal_dir, "store=#{store ? Layout.store_name!(store) : "*"}", "**", "*#{suffix}")
          Dir.glob(pattern).sort.filter_map { |path| AtomicFile.read_json(path) }
        end
      end
    end
  end
end
