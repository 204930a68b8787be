# frozen_string_literal: true

require_relative "main"

module Igniter
  module Store
    module CLI
      # What a path on the command line is (a WAL file or a segmented
      # directory), and the reader's share of its lock.
      #
      # The tools read ledgers where they lie and create nothing next to them:
      # not even the lock file that a `read_only: true` open creates when it is
      # missing (doc/format.md "Lock file"). When the lock file exists they take
      # a reader's share of it, so no writer can start while they read and a
      # writer that holds it is named; when it is missing no writer has ever
      # held the ledger here (every writer creates it), and they read without.
      module LedgerPath
        module_function

        # @param path [String]
        # @return [Symbol] `:wal` (a file) or `:segmented` (a directory with `wal/`)
        # @raise [NotALedgerError] a directory without `wal/`, or not a file at all
        # @raise [Errno::ENOENT] nothing at +path+
        def kind(path)
          stat = File.stat(path)
          if stat.directory?
            return :segmented if File.directory?(File.join(path, "wal"))

            raise NotALedgerError.new("#{path} is a directory but not a segmented igniter-ledger (no wal/ in it)",
                                      path: path)
          end
          raise NotALedgerError.new("#{path} is not a regular file", path: path) unless stat.file?

          :wal
        end

        # @param path [String]
        # @param kind [Symbol] as {kind} returned
        # @return [String] the lock file writers of this ledger take
        def lock_file(path, kind)
          kind == :wal ? path + Recovery::LedgerLock::SUFFIX : File.join(path, Segmented::Lock::FILE)
        end

        # @param path [String]
        # @return [Integer] bytes {read} reads (for a progress bar); 0 when
        #   +path+ is no ledger (the read then says why)
        def bytes_to_read(path)
          case kind(path)
          when :wal then File.size(path) + File.size?(path + FileBackend::SNAPSHOT_SUFFIX).to_i
          else SegmentedAtRest.segment_bytes(path)
          end
        rescue NotALedgerError, SystemCallError
          0
        end

        # A reader's share of the ledger's lock, when it has a lock file.
        #
        # @param path [String]
        # @param kind [Symbol]
        # @return [#release, nil] nil when there is no lock file
        # @raise [LedgerLockedError] a writer holds the ledger (its pid in the error)
        def share_lock(path, kind)
          return nil unless File.exist?(lock_file(path, kind))

          kind == :wal ? Recovery::LedgerLock.shared(path) : Segmented::Lock.shared(path)
        end

        # The ledger at +path+ read at rest, under a reader's share of its lock;
        # the lock is released before this returns.
        #
        # @param path [String]
        # @param progress [#progress=] told the bytes read so far
        # @param writer_ok [Boolean] read even while a writer holds the lock
        #   (without a lock: a prefix of an append-only ledger as of now); the
        #   reader's `writer_pid` names the holder
        # @return [WalAtRest, SegmentedAtRest]
        # @raise [LedgerLockedError] a writer holds it and +writer_ok+ is false
        def read(path, progress: Progress::NONE, writer_ok: false)
          kind = kind(path)
          writer_pid = nil
          begin
            lock = share_lock(path, kind)
          rescue LedgerLockedError => e
            raise unless writer_ok

            writer_pid = e.pid || :unknown
          end
          begin
            reader = (kind == :wal ? WalAtRest : SegmentedAtRest).read(path, progress: progress)
          ensure
            lock&.release
          end
          reader.writer_pid = writer_pid
          reader
        end
      end
    end
  end
end
