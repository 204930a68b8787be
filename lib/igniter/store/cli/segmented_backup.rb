# frozen_string_literal: true

require_relative "backup_copy"
require_relative "durable_copy"
require_relative "segmented_at_rest"

module Igniter
  module Store
    module CLI
      # A consistent copy of a segmented ledger: the sealed segments with
      # their manifests, the unsealed (live or orphaned) segments up to their
      # last complete frame while a writer holds the ledger, the receipts,
      # the quarantine sidecars and the descriptor journal. Neither the lock
      # file, nor temporary files, nor what the directory holds that is not
      # the ledger's are copied.
      #
      # A sealed segment never changes; a live one only grows, so each copied
      # prefix is a state the segment was in. A manifest is read before its
      # segment: a segment sealed meanwhile is copied as unsealed (the next
      # writer of the copy seals it), never with a manifest that counts more
      # than the bytes copied. Facts a compact_delta_zlib writer still buffers
      # in memory are on no disk, so in no copy.
      class SegmentedBackup < BackupCopy
        # The directory of the segments under a ledger's root.
        WAL_DIR = SegmentedAtRest::WAL_DIR
        # Receipts beside a segment that a copy takes along.
        SEGMENT_SIDECARS = [Segmented::ManifestIndex::PURGED_SUFFIX, Segmented::ManifestIndex::QUARANTINE_SUFFIX].freeze

        # @return [BackupCopy::Result] (`attempts` is 1: each segment's copy is a state it was in)
        def run
          Dir.mkdir(@dest)
          Dir.mkdir(File.join(@dest, WAL_DIR))
          scans = []
          copied = []
          SegmentedAtRest.segment_paths(@source).each do |path|
            scan, size = copy_segment(path)
            next unless scan

            scans << scan
            copied << [path, scan.size, size]
          end
          sidecars = copy_sidecars
          # New directory entries are durable once their parents are synced.
          Dir.glob(File.join(@dest, "**", "")).each { |dir| DurableCopy.dir(dir) }
          DurableCopy.dir(File.dirname(File.absolute_path(@dest)))
          Result.new(copied: copied, expected: SegmentedAtRest.new(@dest, scans).facts, live: @live, attempts: 1,
                     sidecars: sidecars,
                     skipped: Segmented::Inventory.unrecognized(@source))
        end

        private

        def target(path)
          File.join(@dest, path.delete_prefix(@source).delete_prefix(File::SEPARATOR))
        end

        # @return [Array(SegmentedAtRest::SegmentScan, Integer), nil] the copy's
        #   scan and the segment's size when read; nil when it was purged meanwhile
        def copy_segment(path)
          manifest_path = path + Segmented::ManifestIndex::MANIFEST_SUFFIX
          manifest_bytes = read_if_present(manifest_path)
          manifest = manifest_bytes && SegmentedAtRest.manifest(path)
          bytes = File.binread(path)
          size = bytes.bytesize
          scan = SegmentedAtRest.scan(path, bytes, manifest)
          if @live && manifest.nil? && scan.sound_end < bytes.bytesize
            bytes = bytes.byteslice(0, scan.sound_end)
            scan = SegmentedAtRest.scan(path, bytes, nil)
          end
          to = target(path)
          FileUtils.mkdir_p(File.dirname(to))
          DurableCopy.bytes(bytes, to)
          DurableCopy.bytes(manifest_bytes, to + Segmented::ManifestIndex::MANIFEST_SUFFIX) if manifest
          advance(bytes.bytesize)
          [scan, size]
        rescue Errno::ENOENT
          nil
        end

        def read_if_present(path)
          File.binread(path)
        rescue Errno::ENOENT
          nil
        end

        # Receipts and quarantine sidecars beside the segments, and the root's
        # descriptor journal.
        # @return [Array<String>] what was copied
        def copy_sidecars
          copied = []
          pattern = File.join(@source, WAL_DIR, "store=*", "date=*", "segment-*.wal")
          SEGMENT_SIDECARS.each do |suffix|
            Dir.glob(pattern + suffix).sort.each do |file|
              to = target(file)
              FileUtils.mkdir_p(File.dirname(to))
              File.open(file, "rb") { |io| DurableCopy.file(io, to, io.size) }
              copied << file
            end
          end
          Dir.glob(pattern + Segmented::Quarantine::SUFFIX).sort.each do |dir|
            next unless File.directory?(dir)

            FileUtils.mkdir_p(File.dirname(target(dir)))
            DurableCopy.tree(dir, target(dir))
            copied << dir
          end
          descriptors = File.join(@source, Protocol::DescriptorJournal::SEGMENTED_FILE)
          if File.file?(descriptors)
            File.open(descriptors, "rb") { |io| DurableCopy.file(io, target(descriptors), io.size) }
            copied << descriptors
          end
          copied
        end
      end
    end
  end
end
