# frozen_string_literal: true

require "json"
require "monitor"
require_relative "../../core/json_canon"
require_relative "../wire_protocol"
require_relative "../../core/errors"
require_relative "../recovery/scanner"
require_relative "../recovery_mode"
require_relative "../recovery/plan"
require_relative "../recovery/ledger_lock"
require_relative "../sync_timing"
require_relative "../group_commit"

module Igniter
  module Store
      # Single-file WAL at `path` plus an optional snapshot at `path + ".snap"`
      # (byte format, recovery, quarantine and lock file in doc/format.md).
      #
      # Opening refuses a file that is not a ledger, takes the ledger lock and
      # recovers the WAL by the `recovery:` mode: damage is copied to quarantine
      # before anything is cut, and a damaged frame in the middle costs only its
      # own bytes (see {#recovery}).
      class FileBackend
        include WireProtocol

        # Appended to the WAL path to name its snapshot.
        SNAPSHOT_SUFFIX = ".snap"
        # Appended to a file being written atomically.
        TMP_SUFFIX = ".tmp"
        # `type` of a snapshot's first frame (doc/format.md "Snapshot").
        SNAPSHOT_HEADER_TYPE = "snapshot_header"
        # Whether a body decodes as a fact: what a resync target must do.
        DECODES = ->(body) { JsonCanon.decode_fact_body(body) }
        private_constant :DECODES

        # A span a replay met: the bytes themselves, where they were, and why.
        Finding = Struct.new(:file, :offset, :bytes, :reason)
        private_constant :Finding

        # @return [String] the WAL path (frozen)
        attr_reader :path
        # @return [Symbol, Hash] the durability policy given to {#initialize} (frozen)
        attr_reader :durability
        # @return [Hash{Symbol=>Object}] what opening found and did (doc/format.md
        #   "Recovery report"): `original_bytes`, `valid_bytes`, `truncated_bytes`,
        #   `tail` (`:clean` or the reason of the first damage), `mode`,
        #   `quarantined` (spans: `file`, `offset`, `length`, `reason`,
        #   `quarantine_path` — nil for a read-only open), `salvaged_frames`,
        #   `damaged_spans`, `read_only`. Damage a later replay meets (undecodable
        #   bodies, a damaged snapshot) is added. Deep-frozen.
        attr_reader :recovery

        # @param path [#to_s] WAL file; created if absent (unless read-only), its
        #   directory must exist
        # @param durability [Symbol, Hash] `:flush` (default: every frame handed
        #   to the OS in one write), `:fsync` (fdatasync after every frame), or
        #   `{group: N, interval: seconds}` (group commit: like `:fsync`, a write
        #   returns once an fdatasync covers its frame, but threads writing
        #   meanwhile share one; a leader waits for writers still appending up
        #   to N frames or `interval` seconds, see {Storage::GroupCommit})
        # @param recovery [Symbol] `:salvage` (default: keep every valid frame,
        #   quarantine and cut only damage), `:strict` (raise on any damage, change
        #   nothing) or `:truncate` (keep the frames before the first damage,
        #   quarantine the rest)
        # @param read_only [Boolean] share the lock with other readers, write no
        #   ledger file, recover in memory only; writes raise {ReadOnlyLedgerError}
        # @raise [ArgumentError] unknown durability policy or recovery mode; a path
        #   with a NUL byte or not valid UTF-8
        # @raise [NotALedgerError] a non-empty file that does not start like a ledger
        # @raise [LedgerLockedError] another writer (or, for a writer, a reader) holds it
        # @raise [CorruptLedgerError] `recovery: :strict` found damage
        # @raise [Errno::ENOENT] missing parent directory (or WAL, read-only)
        def initialize(path, durability: :flush, recovery: :salvage, read_only: false)
          @path = check_path(path)
          @durability = check_durability(durability)
          @mode = RecoveryMode.check(recovery)
          @read_only = read_only ? true : false
          @lock = Monitor.new
          @sync_timing = Storage::SyncTiming.new
          @group = @durability.is_a?(Hash) ? Storage::GroupCommit.new(@durability[:group], @durability[:interval]) : nil
          @closed_synced = false
          @replay_limit = nil
          @closed = false
          with_os_errors { open_ledger }
        end

        # @return [String] `path + SNAPSHOT_SUFFIX`
        def snapshot_path
          @path + SNAPSHOT_SUFFIX
        end

        # How long the WAL's fdatasync calls took (none under `:flush`), for
        # the server's `igniter_ledger_storage_fsync_duration_seconds`.
        # @return [Hash{Symbol=>Object}] see {Storage::SyncTiming#to_h}
        def sync_stats
          @sync_timing.to_h
        end

        # @return [Boolean] whether this backend was opened with `read_only: true`
        def read_only?
          @read_only
        end

        # @return [Boolean] whether {#close} was called (and no later reopen)
        def closed?
          @closed
        end

        # Appends the fact's frame with a single write. A failed write is cut back
        # off the file, so no torn frame sits in front of later appends.
        #
        # @param fact [Fact]
        # @return [nil]
        # @raise [IOError] "closed stream" after {#close}
        # @raise [ReadOnlyLedgerError] on a read-only open
        # @raise [LedgerLockedError] from a forked child through its parent's handle
        # @raise [SystemCallError] the OS refused the write (message names the WAL)
        def write_fact(fact)
          frame = encode_frame(JsonCanon.fact_body(fact))
          return group_write(frame) if @group

          @lock.synchronize do
            check_writable!
            append(frame)
          end
          nil
        end

        # Appends the frames of +facts+ with a single write and one durability
        # step for all of them: one fdatasync under `:fsync`, one shared
        # group-commit ticket under a group policy. The engine's write groups
        # use it (doc/performance.md "Group commit and threads"). Every body
        # is encoded before anything is written, and a failed write is cut
        # back off the file, so the call keeps all frames or none.
        #
        # @param facts [Array<Fact>]
        # @return [nil]
        # @raise (see #write_fact)
        def write_facts(facts)
          frames = facts.map { |fact| encode_frame(JsonCanon.fact_body(fact)) }
          return nil if frames.empty?

          frames = frames.join
          return group_write(frames) if @group

          @lock.synchronize do
            check_writable!
            append(frames)
          end
          nil
        end

        # Snapshot facts, then the WAL facts whose id is not in the snapshot,
        # stably sorted by transaction_time. Both files are read with the salvage
        # scanner; damage met (undecodable bodies, a damaged snapshot) is copied to
        # quarantine by a writer and added to {#recovery}. Safe while writing.
        #
        # @return [Array<Fact>]
        # @raise [CorruptLedgerError] `recovery: :strict` and damage
        def replay
          snapshot, snap_findings = read_snapshot
          delta, wal_findings = read_wal
          note_findings(snap_findings + wal_findings)
          return tt_sorted(delta) if snapshot.empty?

          ids = snapshot.to_h { |fact| [fact.id, true] }
          tt_sorted(snapshot + delta.reject { |fact| ids.key?(fact.id) })
        end

        # Atomic checkpoint: tmp file, fsync, rename, directory fsync. The WAL
        # is untouched (facts missing from the snapshot but still in the WAL
        # come back on replay). On a closed backend the lock is taken for the
        # duration.
        #
        # @param facts [Enumerable<Fact>] in the order to store
        # @return [nil]
        # @raise [ReadOnlyLedgerError] on a read-only open
        def write_snapshot(facts)
          facts = facts.to_a
          @lock.synchronize do
            raise read_only_error if @read_only

            if @closed
              held = with_os_errors { Recovery::LedgerLock.exclusive(@path) }
              begin
                write_snapshot_file(facts)
              ensure
                held.release
              end
            else
              check_writable!
              write_snapshot_file(facts)
            end
          end
          nil
        end

        # Pruning barrier: writes the snapshot, then empties the WAL, so a
        # reopen yields exactly `facts` plus later writes. Also reopens a
        # closed backend (taking the lock again).
        #
        # @param facts [Enumerable<Fact>]
        # @return [nil]
        # @raise [ReadOnlyLedgerError] on a read-only open
        def replace_with_snapshot!(facts)
          facts = facts.to_a
          @lock.synchronize do
            raise read_only_error if @read_only

            if @closed
              @ledger_lock = with_os_errors { Recovery::LedgerLock.exclusive(@path) }
              @closed = false
            else
              check_writable!
            end
            write_snapshot_file(facts)
            @wal.close unless @wal.closed?
            # Only after the snapshot is durable may the WAL lose its facts.
            with_os_errors do
              File.open(@path, File::RDWR | File::CREAT | File::BINARY) do |io|
                io.truncate(0)
                io.fsync
              end
              @checked_size = nil # the WAL scanned at open is gone
              open_wal
            end
          end
          nil
        end

        # Closes the WAL (syncing pending group-commit frames) and releases the
        # lock; in a forked child the parent's lock stays held. Idempotent.
        #
        # @return [nil]
        def close
          @lock.synchronize do
            next if @closed

            @closed = true
            begin
              # Under group commit, always: writers may still wait for their leader.
              if @group && @wal && !@wal.closed?
                with_os_errors { @sync_timing.time { @wal.fdatasync } }
                @closed_synced = true
              end
            ensure
              @wal&.close unless @wal&.closed?
              @ledger_lock&.release
              @ledger_lock = nil
            end
          end
          nil
        end

        private

        def tmp_path
          snapshot_path + TMP_SUFFIX
        end

        # A UTF-8 String without NUL bytes: a receipt names the file in JSON, and
        # the OS cannot open a name with NUL.
        def check_path(path)
          text = path.to_s
          raise ArgumentError, "path contains a null byte: #{text.inspect}" if text.b.include?("\0")

          utf8 = String.new(text, encoding: Encoding::UTF_8)
          raise ArgumentError, "path is not valid UTF-8: #{text.inspect}" unless utf8.valid_encoding?

          utf8.freeze
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
          @len = @wal.size
        end

        # Refuses what is not a ledger (before the lock: a refused file gets no
        # lock file or quarantine next to it), locks, recovers.
        def open_ledger
          stat = begin
            File.stat(@path)
          rescue Errno::ENOENT
            raise if @read_only

            nil
          end
          if stat&.directory?
            raise NotALedgerError.new("#{@path} is not an igniter-ledger WAL: it is a directory", path: @path)
          end

          refuse_unless_ledger if stat&.size&.positive?
          @ledger_lock = @read_only ? Recovery::LedgerLock.shared(@path) : Recovery::LedgerLock.exclusive(@path)
          begin
            @read_only ? recover_read_only : recover_for_writing(stat.nil?)
            # Strict verifies the snapshot too, before anything is served.
            read_snapshot if @mode == :strict
          rescue StandardError
            @wal&.close
            @ledger_lock&.release
            raise
          end
        end

        def refuse_unless_ledger
          ledger = File.open(@path, "rb") { |io| scanner(io, io.size).ledger? }
          return if ledger

          raise NotALedgerError.new("#{@path} is not an igniter-ledger WAL: no valid frame at offset 0 or anywhere after it",
                                    path: @path)
        end

        def recover_read_only
          File.open(@path, "rb") do |io|
            size = io.size
            scan = scan_wal(io, size)
            note_checked(scan, size)
            plan = Recovery::Plan.new(scan, @mode, @path)
            @recovery = plan.report(mode: @mode, read_only: true, path: @path, original_size: size,
                                    paths: [nil] * plan.quarantine.size)
            @replay_limit = scan.damage.first&.offset if @mode == :truncate
          end
        end

        def recover_for_writing(created)
          delete_if_present(@path + Recovery::Plan::RECOVERY_TMP_SUFFIX)
          @recovery = if File.exist?(@path)
                        File.open(@path, "rb") do |io|
                          size = io.size
                          scan = scan_wal(io, size)
                          note_checked(scan, size)
                          plan = Recovery::Plan.new(scan, @mode, @path)
                          paths = plan.apply(io, @path)
                          plan.report(mode: @mode, read_only: false, path: @path, original_size: size, paths: paths)
                        end
                      else
                        clean_report
                      end
          # Opened after any rewrite: a rename replaces the file scanned.
          open_wal
          # fdatasync of frames does not make a new directory entry durable.
          fsync_directory if created && @durability != :flush
          # Never read, so a leftover from a crashed checkpoint is just garbage.
          delete_if_present(tmp_path)
        end

        def clean_report
          { original_bytes: 0, valid_bytes: 0, truncated_bytes: 0, tail: :clean, mode: @mode, quarantined: [].freeze,
            salvaged_frames: 0, damaged_spans: 0, read_only: @read_only }.freeze
        end

        def scanner(io, size)
          Recovery::Scanner.new(Recovery::Window.new(io, size), DECODES)
        end

        # :salvage checks frames (length, CRC) only: the undecodable bodies it
        # leaves in place are found by the replay that decodes them anyway.
        # :strict and :truncate decode every body here: for them an undecodable
        # body is damage that decides what the open does.
        def scan_wal(io, size)
          eager = @mode != :salvage
          scanner(io, size).scan do |_offset, body|
            !eager || DECODES.call(body) ? :keep : :undecodable
          end
        end

        def check_writable!
          raise read_only_error if @read_only
          raise IOError, "closed stream" if @closed
          return if @ledger_lock.nil? || @ledger_lock.owned_here?

          raise LedgerLockedError.new(
            "#{@path} is locked by another writer (pid #{@ledger_lock.owner}): this process " \
            "(pid #{Process.pid}) is a fork of it and may read the ledger but not write to it",
            path: @path, pid: @ledger_lock.owner
          )
        end

        def read_only_error
          ReadOnlyLedgerError.new("#{@path} is open read-only; writes are refused", path: @path)
        end

        def append(frame)
          @wal.write(frame)
          @len += frame.bytesize
          synced_write
        rescue SystemCallError => e
          begin
            # A partial write would leave a torn frame in front of every later
            # append; cut it off again (best effort: the write error is what matters).
            @wal.truncate(@len)
          rescue SystemCallError, IOError
            nil
          end
          raise os_error(e)
        end

        # The OS error naming the WAL, as the native path raises it.
        def os_error(error)
          SystemCallError.new(@path, error.errno)
        end

        def with_os_errors
          yield
        rescue SystemCallError => e
          raise os_error(e)
        end

        def write_snapshot_file(facts)
          tmp = tmp_path
          with_os_errors do
            File.open(tmp, "wb") do |io|
              io.write(encode_frame(snapshot_header(facts.size)))
              facts.each { |fact| io.write(encode_frame(JsonCanon.fact_body(fact))) }
              io.flush
              io.fsync
            end
            File.rename(tmp, snapshot_path)
            fsync_directory
          end
        rescue StandardError
          delete_if_present(tmp)
          raise
        end

        def synced_write
          case @durability
          when :flush then nil
          when :fsync then @sync_timing.time { @wal.fdatasync }
          end
        end

        # Group commit (see {Storage::GroupCommit}): the frame is appended under
        # the lock, then the write waits, outside it, for a shared fdatasync.
        def group_write(frame)
          @group.begin_append
          ticket = nil
          @lock.synchronize do
            check_writable!
            append(frame)
            ticket = @group.appended(true)
          ensure
            @group.appended(false) unless ticket
          end
          @group.wait_durable(ticket) { group_sync }
          nil
        end

        # A leader's fdatasync, on a second handle so that others append meanwhile.
        def group_sync
          io = @lock.synchronize do
            next @wal.dup unless @closed || @wal.closed?
            return if @closed_synced # closed after an fsync of everything

            raise IOError, "closed stream"
          end
          begin
            with_os_errors { @sync_timing.time { io.fdatasync } }
          ensure
            io.close
          end
        end

        def snapshot_header(count)
          JSON.generate({ "type" => SNAPSHOT_HEADER_TYPE, "fact_count" => count,
                          "written_at" => Process.clock_gettime(Process::CLOCK_REALTIME) })
        end

        def snapshot_header?(body)
          doc = JsonCanon.parse_object(body)
          doc && doc[:type] == SNAPSHOT_HEADER_TYPE
        end

        # The snapshot read like a WAL: a header frame at offset 0 is skipped, a
        # damaged frame costs only itself, undecodable bodies are left out. The
        # snapshot itself is never rewritten: the next checkpoint replaces it.
        # @return [Array(Array<Fact>, Array<Finding>)]
        def read_snapshot
          file = snapshot_path
          facts = []
          findings = []
          File.open(file, "rb") do |io|
            window = Recovery::Window.new(io, io.size)
            scan = Recovery::Scanner.new(window, DECODES).scan do |offset, body|
              next :header if offset.zero? && snapshot_header?(body)

              decode_into(facts, findings, file, offset, body)
              :keep
            end
            scan.damage.each do |seg|
              findings << Finding.new(file, seg.offset, io.pread(seg.length, seg.offset), seg.reason)
            end
          end
          findings.sort_by!(&:offset)
          raise_corrupt(file, findings.first) if @mode == :strict && findings.any?
          [facts, findings]
        rescue Errno::ENOENT
          [[], []]
        end

        # The WAL's facts (up to the read-only :truncate limit) and its undecodable
        # bodies. Structural damage was the open's business; a replay skips it.
        # Under :strict it is refused, except a torn tail (a write in progress).
        # @return [Array(Array<Fact>, Array<Finding>)]
        def read_wal
          checked = @checked_size
          @checked_size = nil
          if checked && @replay_limit.nil? && File.size(@path) == checked
            read = read_checked_wal(checked)
            return read if read
          end

          facts = []
          findings = []
          limit = @replay_limit
          File.open(@path, "rb") do |io|
            size = io.size
            scan = scanner(io, size).scan do |offset, body|
              decode_into(facts, findings, @path, offset, body) if limit.nil? || offset < limit
              :keep
            end
            if @mode == :strict
              bad = scan.damage.find { |seg| !(seg.reason == :torn && seg.offset + seg.length == size) }
              raise_corrupt(@path, bad) if bad
              raise_corrupt(@path, findings.first) if findings.any?
            end
          end
          [facts, findings]
        rescue Errno::ENOENT
          [[], []]
        end

        # A salvage open whose scan found every byte of the WAL in sound frames
        # (length and CRC checked, no damage) keeps that size: the replay that
        # follows the open (IgniterStore.open) reads those frames again
        # without a second scan and CRC of each (doc/performance.md, "Pure
        # path, third round"). Any other open, and every later replay, scans.
        def note_checked(scan, size)
          @checked_size = @mode == :salvage && size.positive? && scan.damage.empty? ? size : nil
        end

        # The facts and undecodable bodies of the first +size+ bytes of the
        # WAL, which the open's scan found to be sound frames only, nothing
        # appended or rewritten since (the size is unchanged and the first
        # replay is the one right after the open). nil (scan it) should a
        # length not fit after all.
        # @return [Array(Array<Fact>, Array<Finding>), nil]
        def read_checked_wal(size)
          bytes = File.binread(@path, size)
          return nil unless bytes && bytes.bytesize == size

          facts = []
          findings = []
          pos = 0
          overhead = Recovery::Scanner::OVERHEAD
          while pos < size
            return nil if size - pos < overhead

            body_len = bytes.unpack1("N", offset: pos)
            return nil if body_len + overhead > size - pos

            decode_into(facts, findings, @path, pos, bytes.byteslice(pos + 4, body_len))
            pos += body_len + overhead
          end
          [facts, findings]
        end

        def decode_into(facts, findings, file, offset, body)
          fact = FactDecode.decode_fact(body, Fact)
          if fact
            facts << fact
          else
            # The frame's CRC matched, so re-framing the body gives its exact bytes.
            findings << Finding.new(file, offset, encode_frame(body), :undecodable)
          end
        end

        def raise_corrupt(file, span)
          raise CorruptLedgerError.new(path: file, offset: span.offset, reason: span.reason)
        end

        # A writer copies each span to quarantine (nothing is cut); a read-only
        # open only reports it. Spans already reported are skipped.
        def note_findings(findings)
          return if findings.empty?

          @lock.synchronize do
            findings.each do |f|
              file = File.absolute_path(f.file).freeze
              known = @recovery[:quarantined].any? do |s|
                s[:file] == file && s[:offset] == f.offset && s[:length] == f.bytes.bytesize
              end
              next if known

              copy = @read_only || @closed ? nil : with_os_errors { Recovery::Quarantine.write(f.file, f.offset, f.bytes, f.reason) }
              span = { file: file, offset: f.offset, length: f.bytes.bytesize, reason: f.reason,
                       quarantine_path: copy&.freeze }.freeze
              @recovery = @recovery.merge(quarantined: (@recovery[:quarantined] + [span]).freeze,
                                          damaged_spans: @recovery[:damaged_spans] + 1,
                                          tail: @recovery[:tail] == :clean ? f.reason : @recovery[:tail]).freeze
            end
          end
        end

        # Stable: ties keep snapshot-then-WAL order. Replayed data is almost
        # always in order already, so check before sorting.
        def tt_sorted(facts)
          ordered = (1...facts.size).all? { |i| facts[i - 1].transaction_time <= facts[i].transaction_time }
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
      end
  end
end
