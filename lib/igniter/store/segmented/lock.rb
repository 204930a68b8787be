# frozen_string_literal: true

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
          io = File.open(path, File::RDWR | File::CREAT | File::BINARY, 0o644)
          unless io.flock(File::LOCK_EX | File::LOCK_NB)
            readers = io.flock(File::LOCK_SH | File::LOCK_NB)
            pid = readers ? nil : recorded_pid(io)
            io.close
            raise locked(path, pid, readers: readers, reader: false)
          end
          io.truncate(0)
          io.pwrite("#{Process.pid}\n", 0)
          new(io, path, exclusive: true)
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
          io = open_for_reading(path)
          if io && !io.flock(File::LOCK_SH | File::LOCK_NB)
            pid = recorded_pid(io)
            io.close
            raise locked(path, pid, readers: false, reader: true)
          end
          new(io, path, exclusive: false)
        end

        def self.open_for_reading(path)
          File.open(path, File::RDONLY | File::BINARY)
        rescue Errno::ENOENT
          begin
            File.open(path, File::RDONLY | File::CREAT | File::BINARY, 0o644)
          rescue Errno::EROFS, Errno::EACCES, Errno::EPERM
            nil
          end
        end

        def self.locked(path, pid, readers:, reader:)
          by = if readers
                 "a read-only open"
               else
                 "#{reader ? "a" : "another"} writer#{" (pid #{pid})" if pid}"
               end
          LedgerLockedError.new("#{path} is locked by #{by}", path: path, pid: pid)
        end

        def self.recorded_pid(io)
          text = io.pread(32, 0)
          text =~ /\A\s*(\d+)\s*\z/ ? Integer(Regexp.last_match(1), 10) : nil
        rescue EOFError, SystemCallError
          nil
        end

        private_class_method :new, :open_for_reading, :locked, :recorded_pid

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
