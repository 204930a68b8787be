# frozen_string_literal: true

require_relative "../lock_file"

module Igniter
  module Store
    module Segmented
      # One writer per segmented ledger (doc/format.md "Lock file"): a writer
      # holds an exclusive, non-blocking flock on `<root>/ledger.lock` with its
      # pid in it; read-only opens share the lock. flock belongs to the open
      # file description, so a second open in this process is refused like one
      # in another process, and a forked child shares its parent's lock: it may
      # not write through it, and its close must not release the parent's.
      class Lock
        # Lock file name in the root.
        FILE = "ledger.lock"

        # @return [String] the lock file
        attr_reader :path
        # @return [Integer] pid of the process that took the lock
        attr_reader :owner

        # Takes the writer lock of +root+ and records this pid in it.
        #
        # @param root [String] the ledger directory (must exist)
        # @return [Lock]
        # @raise [LedgerLockedError] another writer or a read-only open holds it
        def self.exclusive(root)
          path = File.join(root, FILE)
          new(LockFile.exclusive(path, path), path, exclusive: true)
        end

        # Takes a reader's share of the lock of +root+, creating the (empty)
        # lock file when it is missing. An unlocked handle when the file can be
        # neither opened nor created (a read-only file system, where no writer
        # can appear either).
        #
        # @return [Lock]
        # @raise [LedgerLockedError] a writer holds it
        def self.shared(root)
          path = File.join(root, FILE)
          new(LockFile.shared(path, path), path, exclusive: false)
        end

        private_class_method :new

        def initialize(io, path, exclusive:)
          @io = io
          @path = path
          @exclusive = exclusive
          @owner = Process.pid
        end

        # @return [Boolean] a writer's lock, still held
        def exclusive?
          @exclusive && held?
        end

        # @return [Boolean] not released yet
        def held?
          !@io.nil? && !@io.closed?
        end

        # @return [Boolean] whether this process took the lock (false in a forked child)
        def owned_here?
          Process.pid == @owner
        end

        # Releases the lock — only in the process that took it: a forked child
        # just closes its copy of the descriptor. A writer empties the pid
        # first, so a reader's "locked by" message never names a stale pid.
        # Idempotent.
        #
        # @return [nil]
        def release
          return unless held?

          if owned_here?
            @io.truncate(0) if @exclusive
            @io.flock(File::LOCK_UN)
          end
          @io.close
          nil
        rescue SystemCallError, IOError
          @io.close unless @io.closed?
          nil
        end
      end
    end
  end
end
