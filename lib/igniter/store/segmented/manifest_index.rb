# frozen_string_literal: true

require "set"

module Igniter
  module Store
    module Segmented
      # In-memory copy of the sidecars under `wal/`: sealed manifests by store
      # and path, and the receipt files by store. Built from disk once at open
      # (so hand-edited manifests are honoured on reopen) and kept current by
      # the backend's own seal / purge / quarantine writes, so stats never
      # rescan the tree. Not thread-safe: the backend holds its lock.
      class ManifestIndex
        # Appended to a segment's name to name its manifest.
        MANIFEST_SUFFIX = ".manifest.json"
        # Appended to a segment's name to name its purge receipt.
        PURGED_SUFFIX = ".purged.json"
        # Appended to a segment's name to name its whole-segment damage receipt.
        QUARANTINE_SUFFIX = ".quarantine.json"

        # @param wal_dir [String]
        def initialize(wal_dir)
          @wal_dir = wal_dir
          @manifests = Hash.new { |h, k| h[k] = {} }
          @purged = Hash.new { |h, k| h[k] = Set.new }
          @quarantined = Hash.new { |h, k| h[k] = Set.new }
          @stores = Set.new
          reload
        end

        # Rereads every sidecar from disk.
        # @return [self]
        def reload
          [@manifests, @purged, @quarantined].each(&:clear)
          @stores.clear
          Dir.glob(File.join(@wal_dir, "store=*")).each { |dir| @stores << File.basename(dir).delete_prefix("store=") }
          Dir.glob(File.join(@wal_dir, "store=*", "date=*", "*#{MANIFEST_SUFFIX}")).each do |path|
            segment = path.delete_suffix(MANIFEST_SUFFIX)
            next unless File.basename(segment).match?(Layout::SEGMENT_NAME)

            doc = AtomicFile.read_json(path)
            put(segment, doc) if doc
          end
          Dir.glob(File.join(@wal_dir, "store=*", "**", "*#{PURGED_SUFFIX}")).each { |p| @purged[store_of(p)] << p }
          Dir.glob(File.join(@wal_dir, "store=*", "**", "*#{QUARANTINE_SUFFIX}")).each { |p| @quarantined[store_of(p)] << p }
          self
        end

        # @return [Array<String>] store directories seen (sorted)
        def stores
          @stores.to_a.sort
        end

        # @param store [String]
        def add_store(store)
          @stores << store
        end

        # Records a sealed segment's manifest.
        def put(segment_path, manifest)
          store = store_of(segment_path)
          @stores << store
          @manifests[store][segment_path] = manifest
        end

        # @return [Hash, nil] the manifest of a sealed segment
        def manifest(segment_path)
          @manifests.fetch(store_of(segment_path), {})[segment_path]
        end

        # @return [Array(String, Hash)] sealed segments of a store in (bucket, number) order
        def sealed(store)
          @manifests.fetch(store, {}).sort_by { |path, _| Layout.order_key(path) }
        end

        # Forgets a purged segment and counts its receipt.
        def purged(segment_path)
          store = store_of(segment_path)
          @manifests.fetch(store, {}).delete(segment_path)
          @purged[store] << segment_path + PURGED_SUFFIX
        end

        # Counts a quarantine receipt (once per segment).
        def quarantined(segment_path)
          @quarantined[store_of(segment_path)] << segment_path + QUARANTINE_SUFFIX
        end

        # @return [Integer]
        def purge_receipt_count(store)
          @purged.fetch(store, Set.new).size
        end

        # @return [Integer]
        def quarantine_receipt_count(store)
          @quarantined.fetch(store, Set.new).size
        end

        private

        def store_of(path)
          rel = path.delete_prefix(@wal_dir + File::SEPARATOR)
          rel.split(File::SEPARATOR, 2).first.delete_prefix("store=")
        end
      end
    end
  end
end
