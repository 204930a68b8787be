# frozen_string_literal: true

require_relative "replay_order"

module Igniter
  module Store
    module CLI
      # A segmented ledger read at rest: every segment salvaged by its codec
      # as a replay does (doc/format.md "Segments: salvage"), its manifest and
      # receipts read, nothing written — no sealing, no quarantine, no receipt.
      class SegmentedAtRest
        # The directory of the segments under a ledger's root (doc/format.md).
        WAL_DIR = "wal"

        # One segment: where it is, whether it is sealed (has a manifest) or an
        # orphan (a crashed or live writer's), the codec its bytes show, the
        # salvage's frames and spans, and its facts in file order.
        # `missing_bytes` is how much shorter the file is than its manifest says.
        SegmentScan = Struct.new(:path, :store, :bucket, :state, :codec, :manifest, :size, :frames, :spans, :facts,
                                 :missing_bytes, keyword_init: true) do
          # @return [Integer, nil] facts the manifest says were written
          def expected_facts
            manifest && manifest["fact_count"].is_a?(Integer) ? manifest["fact_count"] : nil
          end

          # @return [Integer] where the last CRC-valid frame ends
          def sound_end
            last = frames.last
            last ? last[0] + last[1] : 0
          end
        end

        # Salvages one segment's +bytes+.
        #
        # @param path [String]
        # @param bytes [String] binary
        # @param manifest [Hash, nil]
        # @return [SegmentScan]
        def self.scan(path, bytes, manifest)
          codec = Codecs.detect(bytes) || manifest_codec(manifest) || Codecs::JsonCrc32::NAME
          salvage = Codecs.salvage(codec, bytes)
          store, bucket = Segmented::Layout.store_and_bucket(path)
          declared = manifest && manifest["byte_size"].is_a?(Integer) ? manifest["byte_size"] : nil
          SegmentScan.new(path: path, store: store, bucket: bucket, state: manifest ? :sealed : :orphan, codec: codec,
                          manifest: manifest, size: bytes.bytesize, frames: salvage.frames, spans: salvage.spans,
                          facts: salvage.facts, missing_bytes: declared ? [declared - bytes.bytesize, 0].max : 0)
        end

        # @return [String, nil] the canonical name of the manifest's codec
        def self.manifest_codec(manifest)
          name = manifest && manifest["codec"]
          name.is_a?(String) && Codecs::ALIASES.key?(name.to_sym) ? Codecs.klass(name)::NAME : nil
        end

        # @param root [String]
        # @return [Array<String>] its segment files, in replay order (store, bucket, number)
        def self.segment_paths(root)
          pattern = File.join(root, WAL_DIR, "store=*", "date=*", Segmented::Layout::SEGMENT_GLOB)
          Segmented::Layout.segments(pattern).sort_by do |path|
            [Segmented::Layout.store_and_bucket(path)[0], Segmented::Layout.order_key(path)]
          end
        end

        # @param segment [String]
        # @return [Hash, nil] its manifest; nil when it has none (or an unreadable one)
        def self.manifest(segment)
          Segmented::AtomicFile.read_json(segment + Segmented::ManifestIndex::MANIFEST_SUFFIX)
        end

        # The bucket scheme a `date=` directory name shows (doc/format.md
        # "Segments: directory contents"): `flat` is `:none`, `YYYY-MM-DDTHH`
        # `:hour`, anything else (and nil) `:day`.
        # @param bucket [String, nil]
        # @return [Symbol]
        def self.time_bucket(bucket)
          return :day if bucket.nil?
          return :none if bucket == "flat"

          bucket.match?(/T\d{2}\z/) ? :hour : :day
        end

        # Each store's codec (its last segment's: the manifest's, else the
        # bytes') and the time buckets, without salvaging every segment.
        # @param root [String]
        # @return [Hash] `codecs:` {store => codec}, `time_bucket:`
        def self.layout(root)
          paths = segment_paths(root)
          last = paths.group_by { |p| Segmented::Layout.store_and_bucket(p)[0] }.transform_values(&:last)
          codecs = last.transform_values do |path|
            manifest_codec(manifest(path)) || Codecs.detect(File.binread(path)) || Codecs::JsonCrc32::NAME
          rescue Errno::ENOENT
            Codecs::JsonCrc32::NAME
          end
          { codecs: codecs, time_bucket: time_bucket(paths.last && Segmented::Layout.store_and_bucket(paths.last)[1]) }
        end

        # Reads every segment under +root+.
        #
        # @param root [String]
        # @param progress [#progress=] told the bytes read so far
        # @return [SegmentedAtRest]
        def self.read(root, progress: Progress::NONE)
          done = 0
          segments = segment_paths(root).filter_map do |path|
            manifest = manifest(path)
            bytes = File.binread(path)
            done += bytes.bytesize
            progress.progress = done
            scan(path, bytes, manifest)
          rescue Errno::ENOENT
            nil # purged while we listed
          end
          new(root, segments)
        end

        # @param root [String]
        # @return [Integer] bytes of its segment files (what {read} reads)
        def self.segment_bytes(root)
          segment_paths(root).sum { |path| File.size?(path).to_i }
        end

        # @return [String]
        attr_reader :path
        # @return [Array<SegmentScan>] in replay order
        attr_reader :segments
        # @return [Integer, Symbol, nil] pid of a writer that held the lock while this was read
        attr_accessor :writer_pid

        # @param root [String]
        # @param segments [Array<SegmentScan>]
        def initialize(root, segments)
          @path = root
          @segments = segments
        end

        # @return [String] short: the path and what was read (not every fact)
        def inspect
          "#<#{self.class.name} #{@path} #{files.size} file(s), #{written.size} fact(s)>"
        end

        # @return [Symbol] `:segmented`
        def kind
          :segmented
        end

        # @return [Array<SegmentScan>]
        def files
          @segments
        end

        # @return [Array<Fact>] what a replay serves: every segment's facts,
        #   stably sorted by transaction_time
        def facts
          @facts ||= ReplayOrder.sorted(written)
        end

        # @return [Array<Fact>] per store in segment order: the order each
        #   store's facts were written (and causation assigned) in
        def written
          @written ||= @segments.flat_map(&:facts)
        end

        # @return [Hash{String=>String}] each store's codec (that of its last segment)
        def codecs
          @segments.to_h { |seg| [seg.store, seg.codec] }
        end

        # @return [Array<String>] the `.quarantine/` sidecars of the segments
        def quarantine_dirs
          Dir.glob(File.join(@path, WAL_DIR, "store=*", "date=*",
                             "segment-*.wal#{Segmented::Quarantine::SUFFIX}")).select { |d| File.directory?(d) }.sort
        end

        # @return [Array<Hash>] 0.5.2's whole-segment receipts
        #   (`<segment>.quarantine.json`), with `"receipt"` (its path)
        def segment_receipts
          receipts(Segmented::ManifestIndex::QUARANTINE_SUFFIX)
        end

        # @return [Array<Hash>] purge receipts (`<segment>.purged.json`), with `"receipt"` (its path)
        def purge_receipts
          receipts(Segmented::ManifestIndex::PURGED_SUFFIX)
        end

        # @return [Array<String>] what the directory holds that is not the ledger's
        def unrecognized
          @unrecognized ||= Segmented::Inventory.unrecognized(@path)
        end

        private

        def receipts(suffix)
          Dir.glob(File.join(@path, WAL_DIR, "store=*", "**", "*#{suffix}")).sort.filter_map do |file|
            doc = Segmented::AtomicFile.read_json(file)
            doc&.merge("receipt" => file)
          end
        end
      end
    end
  end
end
