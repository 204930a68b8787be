# frozen_string_literal: true

require_relative "../lock_file"

module Igniter
  module Store
    # Opening a single-file ledger: the salvage scanner, the recovery plan, quarantine and the lock (doc/format.md "Recovery").
    module Recovery
      # One writer per ledger (doc/format.md "Lock file"): a writer holds an
      # exclusive, non-blocking flock on `<wal>.lock` with its pid in it; read-only
      # opens share the lock. flock belongs to the open file description, so a second
      # open in this process is refused like another process, and a forked child
      # shares its parent's lock: it may not write, and its close must not release
      # the parent's lock. The Rust twin is `ext/ledger_core/src/lock.rs`.
      class LedgerLock
        # Appended to the WAL path to name its lock file.
        SUFFIX = ".lock"

        # @return [Integer] pid of the process that took the lock
        attr_reader :owner

        # Takes the writer lock of +wal+ and records this pid in it.
        #
        # @param wal [String]
        # @return [LedgerLock]
        # @raise [LedgerLockedError] another writer or a read-only open holds it
        def self.exclusive(wal)
          new(LockFile.exclusive(wal + SUFFIX, wal))
        end

        # Takes a reader's share of the lock of +wal+, creating the (empty) lock file
        # when it is missing. nil when it can be neither opened nor created (a
        # read-only file system, where no writer can appear either).
        #
        # @return [LedgerLock, nil]
        # @raise [LedgerLockedError] a writer holds it
        def self.shared(wal)
          io = LockFile.shared(wal + SUFFIX, wal)
          io && new(io)
        end

        private_class_method :new

        def initialize(io)
          @io = io
          @owner = Process.pid
        end

        # @return [Boolean] whether this process took the lock (false in a forked child)
        def owned_here?
          Process.pid == @owner
        end

        # Releases the lock — only in the process that took it: a forked child just
        # closes its copy of the descriptor. Idempotent.
        #
        # @return [nil]
        def release
          return if @io.closed?

          @io.flock(File::LOCK_UN) if owned_here?
          @io.close
          nil
        end
      end
    end
  end
end
