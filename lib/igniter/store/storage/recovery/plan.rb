# frozen_string_literal: true

require_relative "quarantine"

module Igniter
  module Store
    module Recovery
      # Turns a {Scanner::Scan} into a recovery (doc/format.md "Recovery"): which
      # bytes each mode keeps, the quarantine copies, and the crash-safe cut or
      # rewrite of the file. The Rust twin is `ext/ledger_core/src/recover.rs`.
      class Plan
        # Appended to the WAL path to name the file a salvage rewrites into.
        RECOVERY_TMP_SUFFIX = ".recovery.tmp"
        # Bytes copied per read when a WAL is rewritten.
        COPY_CHUNK = 1 << 20

        # @return [Array<Range>] byte ranges kept, in order (exclusive ends)
        attr_reader :keep
        # @return [Array<Array(Integer, Integer, Symbol)>] offset, length, reason of
        #   each span copied to quarantine
        attr_reader :quarantine
        # @return [Integer] frames kept after the first damage
        attr_reader :salvaged_frames
        # @return [Integer] damage spans found (`after_damage` is not damage)
        attr_reader :damaged_spans
        # @return [Symbol, nil] reason of the first damage
        attr_reader :tail

        # @param scan [Scanner::Scan]
        # @param mode [Symbol]
        # @param path [String] the scanned file (for the strict error)
        # @raise [CorruptLedgerError] under :strict, when there is damage
        def initialize(scan, mode, path)
          damage = scan.damage
          @damaged_spans = damage.size
          first = damage.first
          @tail = first&.reason
          @keep = []
          @quarantine = []
          @salvaged_frames = 0
          case mode
          when :strict
            raise CorruptLedgerError.new(path: path, offset: first.offset, reason: first.reason) if first

            keep_frames(scan.segments)
          when :salvage then salvage(scan.segments)
          when :truncate then truncate(scan.segments)
          end
        end

        # @return [Integer] bytes kept
        def kept_size
          @keep.sum(&:size)
        end

        # Copies every span to quarantine (durably), then makes the file hold exactly
        # the kept bytes: a cut when they are a prefix, else a rewrite via
        # `<path>.recovery.tmp` + fsync + rename + directory fsync. A crash at any
        # point leaves the old file or the new one, never a cut without its copy.
        #
        # @param io [File] the file, open for reading
        # @param path [String]
        # @return [Array<String>] the quarantine paths, one per span
        def apply(io, path)
          paths = @quarantine.map do |offset, length, reason|
            Quarantine.write(path, offset, io.pread(length, offset), reason)
          end
          return paths if kept_size == io.size

          if prefix?
            File.open(path, File::WRONLY | File::BINARY) do |cut|
              cut.truncate(kept_size)
              cut.fsync
            end
          else
            rewrite(io, path)
          end
          paths
        end

        # The report of `FileBackend#recovery` (doc/format.md "Recovery report").
        #
        # @return [Hash{Symbol=>Object}] deep-frozen
        def report(mode:, read_only:, path:, original_size:, paths:)
          file = File.absolute_path(path).freeze
          spans = @quarantine.each_with_index.map do |(offset, length, reason), i|
            { file: file, offset: offset, length: length, reason: reason, quarantine_path: paths[i]&.freeze }.freeze
          end
          { original_bytes: original_size, valid_bytes: kept_size, truncated_bytes: original_size - kept_size,
            tail: @tail || :clean, mode: mode, quarantined: spans.freeze, salvaged_frames: @salvaged_frames,
            damaged_spans: @damaged_spans, read_only: read_only }.freeze
        end

        private

        def prefix?
          @keep.size <= 1 && (@keep.empty? || @keep.first.begin.zero?)
        end

        def salvage(segments)
          seen_damage = false
          segments.each do |seg|
            if seg.kind == :frames
              push(seg.offset, seg.length)
              @salvaged_frames += seg.count if seen_damage
            else
              seen_damage = true
              @quarantine << [seg.offset, seg.length, seg.reason]
              # Structurally sound: every reader skips such a frame and reads on,
              # and a newer writer's fact must survive a downgrade.
              push(seg.offset, seg.length) if seg.reason == :undecodable
            end
          end
        end

        def truncate(segments)
          cut = segments.index { |s| s.kind == :damage }
          return keep_frames(segments) unless cut

          keep_frames(segments.first(cut))
          segments.drop(cut).each do |seg|
            @quarantine << [seg.offset, seg.length, seg.kind == :frames ? :after_damage : seg.reason]
          end
        end

        def keep_frames(segments)
          segments.each { |seg| push(seg.offset, seg.length) if seg.kind == :frames }
        end

        def push(offset, length)
          last = @keep.last
          if last && last.end == offset
            @keep[-1] = (last.begin...(offset + length))
          else
            @keep << (offset...(offset + length))
          end
        end

        def rewrite(io, path)
          tmp = path + RECOVERY_TMP_SUFFIX
          File.open(tmp, File::WRONLY | File::CREAT | File::TRUNC | File::BINARY) do |out|
            @keep.each do |range|
              at = range.begin
              while at < range.end
                n = [range.end - at, COPY_CHUNK].min
                out.write(io.pread(n, at))
                at += n
              end
            end
            out.flush
            out.fsync
          end
          File.rename(tmp, path)
          Quarantine.fsync_dir(File.dirname(path))
        rescue StandardError
          File.delete(tmp) if File.exist?(tmp)
          raise
        end
      end
    end
  end
end
