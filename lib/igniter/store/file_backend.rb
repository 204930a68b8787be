# frozen_string_literal: true

require "json"
require "monitor"
require_relative "json_canon"
require_relative "wire_protocol"

module Igniter
  module Store
    if defined?(NATIVE) && NATIVE
      # The Rust extension defined FileBackend; add what callers read from the
      # Ruby side on both paths, unless the extension already provides it.
      class FileBackend
        SNAPSHOT_SUFFIX = ".snap" unless const_defined?(:SNAPSHOT_SUFFIX, false)
      end
    else
      # Single-file WAL at `path` plus an optional snapshot at `path + ".snap"`
      # (spec 01 §5, byte format in doc/format.md).
      #
      # Opening repairs the WAL: a torn, CRC-bad or oversized tail is cut off
      # (see {#recovery}) so that new frames never land behind garbage.
      class FileBackend
        include WireProtocol

        SNAPSHOT_SUFFIX = ".snap"
        TMP_SUFFIX = ".tmp"
        SNAPSHOT_HEADER_TYPE = "snapshot_header"

        # @return [String] the WAL path
        attr_reader :path
        # @return [Symbol, Hash] the durability policy given to {#initialize}
        attr_reader :durability
        # @return [Hash{Symbol=>Object}] what opening found: `original_bytes`,
        #   `valid_bytes`, `truncated_bytes` and `tail` (`:clean`, `:torn`,
        #   `:bad_crc` or `:oversized`)
        attr_reader :recovery

        # @param path [#to_s] WAL file; created if absent, its directory must exist
        # @param durability [Symbol, Hash] `:flush` (default: every frame handed
        #   to the OS in one write), `:fsync` (fdatasync after every frame), or
        #   `{group: N, interval: seconds}` (fdatasync once N frames are pending
        #   or `interval` has passed since the last sync, checked on write, and
        #   on close)
        # @raise [ArgumentError] unknown durability policy
        # @raise [Errno::ENOENT] missing parent directory
        def initialize(path, durability: :flush)
          @path = path.to_s
          @durability = check_durability(durability)
          @lock = Monitor.new
          created = !File.exist?(@path)
          @recovery = recover.freeze
          # Never read, so a leftover from a crashed checkpoint is just garbage.
          delete_if_present(tmp_path)
          open_wal
          # fdatasync of frames does not make a new directory entry durable.
          fsync_directory if created && @durability != :flush
        end

        # @return [String] `path + SNAPSHOT_SUFFIX`
        def snapshot_path
          @path + SNAPSHOT_SUFFIX
        end

        # Appends the fact's frame with a single write.
        #
        # @param fact [Fact]
        # @return [nil]
        # @raise [IOError] "closed stream" after {#close}
        def write_fact(fact)
          frame = encode_frame(JsonCanon.fact_body(fact))
          @lock.synchronize do
            raise IOError, "closed stream" if @wal.closed?

            @wal.write(frame)
            synced_write
          end
          nil
        end

        # Snapshot facts, then the WAL facts whose id is not in the snapshot,
        # stably sorted by transaction_time. Reads only; safe while writing.
        #
        # @return [Array<Fact>]
        def replay
          snapshot = read_snapshot
          ids = snapshot.to_h { |fact| [fact.id, true] }
          delta = read_frames(@path).reject { |fact| ids.key?(fact.id) }
          tt_sorted(snapshot + delta)
        end

        # Atomic checkpoint: tmp file, fsync, rename, directory fsync. The WAL
        # is untouched (facts missing from the snapshot but still in the WAL
        # come back on replay).
        #
        # @param facts [Enumerable<Fact>] in the order to store
        # @return [nil]
        def write_snapshot(facts)
          facts = facts.to_a
          tmp = tmp_path
          @lock.synchronize do
            File.open(tmp, "wb") do |io|
              io.write(encode_frame(snapshot_header(facts.size)))
              facts.each { |fact| io.write(encode_frame(JsonCanon.fact_body(fact))) }
              io.flush
              io.fsync
            end
            File.rename(tmp, snapshot_path)
            fsync_directory
          rescue StandardError
            delete_if_present(tmp)
            raise
          end
          nil
        end

        # Pruning barrier: writes the snapshot, then empties the WAL, so a
        # reopen yields exactly `facts` plus later writes. Also reopens a
        # closed backend.
        #
        # @param facts [Enumerable<Fact>]
        # @return [nil]
        def replace_with_snapshot!(facts)
          @lock.synchronize do
            write_snapshot(facts)
            @wal.close unless @wal.closed?
            # Only after the snapshot is durable may the WAL lose its facts.
            File.open(@path, File::RDWR | File::CREAT | File::BINARY) do |io|
              io.truncate(0)
              io.fsync
            end
            open_wal
          end
          nil
        end

        # Closes the WAL (syncing pending group-commit frames). Idempotent.
        #
        # @return [nil]
        def close
          @lock.synchronize do
            next if @wal.closed?

            @wal.fdatasync if @pending.positive?
            @wal.close
          end
          nil
        end

        private

        def tmp_path
          snapshot_path + TMP_SUFFIX
        end

        def check_durability(policy)
          return policy if %i[flush fsync].include?(policy)

          if policy.is_a?(Hash) && !policy.empty? && (policy.keys - %i[group interval]).empty?
            group = policy[:group]
            interval = policy[:interval]
            if (group.nil? || (group.is_a?(Integer) && group.positive?)) &&
               (interval.nil? || (interval.is_a?(Numeric) && interval >= 0))
              return policy.dup.freeze
            end
          end
          raise ArgumentError, "unknown durability policy: #{policy.inspect} " \
                               "(expected :flush, :fsync or {group: Integer, interval: seconds})"
        end

        def open_wal
          @wal = File.open(@path, "ab")
          @wal.sync = true
          @pending = 0
          @synced_at = monotonic
        end

        # Cuts the WAL back to its last good frame.
        def recover
          File.open(@path, "r+b") do |io|
            size = io.size
            valid, tail = WireProtocol.each_frame(io, size) { nil }
            if valid < size
              io.truncate(valid)
              io.fsync
            end
            { original_bytes: size, valid_bytes: valid, truncated_bytes: size - valid, tail: tail }
          end
        rescue Errno::ENOENT
          # No WAL yet (or no directory: open_wal raises that).
          { original_bytes: 0, valid_bytes: 0, truncated_bytes: 0, tail: :clean }
        end

        def synced_write
          case @durability
          when :flush then nil
          when :fsync then @wal.fdatasync
          else
            @pending += 1
            group = @durability[:group]
            interval = @durability[:interval]
            due = (group && @pending >= group) || (interval && monotonic - @synced_at >= interval)
            return unless due

            @wal.fdatasync
            @pending = 0
            @synced_at = monotonic
          end
        end

        def snapshot_header(count)
          JSON.generate({ "type" => SNAPSHOT_HEADER_TYPE, "fact_count" => count,
                          "written_at" => Process.clock_gettime(Process::CLOCK_REALTIME) })
        end

        # A snapshot counts only with its header frame; a damaged frame ends it.
        def read_snapshot
          File.open(snapshot_path, "rb") do |io|
            header = read_frame(io)
            doc = header && JsonCanon.parse_object(header)
            return [] unless doc && doc[:type] == SNAPSHOT_HEADER_TYPE

            decode_frames(io)
          end
        rescue Errno::ENOENT
          []
        end

        def read_frames(path)
          File.open(path, "rb") { |io| decode_frames(io) }
        rescue Errno::ENOENT
          []
        end

        # Facts of the frames up to the first damaged one; undecodable bodies
        # are skipped one by one.
        def decode_frames(io)
          facts = []
          WireProtocol.each_frame(io, io.size - io.pos) do |body|
            attributes = JsonCanon.decode_fact_body(body)
            facts << Fact.new(**attributes).freeze if attributes
          end
          facts
        end

        # Stable: ties keep snapshot-then-WAL order. Replayed data is almost
        # always in order already, so check before sorting.
        def tt_sorted(facts)
          ordered = facts.each_cons(2).all? { |a, b| a.transaction_time <= b.transaction_time }
          return facts if ordered

          facts.each_with_index.sort_by { |fact, i| [fact.transaction_time, i] }.map!(&:first)
        end

        def fsync_directory
          File.open(File.dirname(@path), "r") { |dir| dir.fsync }
        rescue SystemCallError
          nil # not every platform / filesystem can fsync a directory
        end

        def delete_if_present(file)
          File.delete(file)
        rescue Errno::ENOENT
          nil
        end

        def monotonic
          Process.clock_gettime(Process::CLOCK_MONOTONIC)
        end
      end
    end
  end
end
