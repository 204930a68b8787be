# frozen_string_literal: true

module Igniter
  module Store
    # The advisory flock and holder pid under both ledger locks (doc/format.md
    # "Lock file"): {Recovery::LedgerLock} (`<wal>.lock`) and {Segmented::Lock}
    # (`<root>/ledger.lock`). A writer holds an exclusive, non-blocking flock with
    # its pid in the file; read-only opens share it. The handles built on top
    # decide what releasing means; this module only takes the lock or refuses.
    module LockFile
      module_function

      # Takes the writer lock of +path+ and records this pid in it.
      #
      # @param path [String] the lock file (created when missing)
      # @param ledger [String] the path the refusal names
      # @return [File] the open, exclusively locked lock file
      # @raise [LedgerLockedError] another writer or a read-only open holds it
      def exclusive(path, ledger)
        io = File.open(path, File::RDWR | File::CREAT | File::BINARY, 0o644)
        unless io.flock(File::LOCK_EX | File::LOCK_NB)
          readers = io.flock(File::LOCK_SH | File::LOCK_NB)
          io.flock(File::LOCK_UN) if readers
          pid = readers ? nil : recorded_pid(io)
          io.close
          raise locked(ledger, pid, readers: readers, reader: false)
        end
        io.truncate(0)
        io.pwrite("#{Process.pid}\n", 0)
        io
      end

      # Takes a reader's share of the lock of +path+, creating the (empty) lock
      # file when it is missing.
      #
      # @param path [String] the lock file
      # @param ledger [String] the path the refusal names
      # @return [File, nil] nil when the file can be neither opened nor created (a
      #   read-only file system, where no writer can appear either)
      # @raise [LedgerLockedError] a writer holds it
      def shared(path, ledger)
        io = open_for_reading(path)
        return nil unless io

        unless io.flock(File::LOCK_SH | File::LOCK_NB)
          pid = recorded_pid(io)
          io.close
          raise locked(ledger, pid, readers: false, reader: true)
        end
        io
      end

      def open_for_reading(path)
        File.open(path, File::RDONLY | File::BINARY)
      rescue Errno::ENOENT
        begin
          File.open(path, File::RDWR | File::CREAT | File::BINARY, 0o644)
        rescue Errno::EROFS, Errno::EACCES, Errno::EPERM
          nil
        end
      end

      # The messages of the Rust `Error::Locked`.
      def locked(ledger, pid, readers:, reader:)
        by = if readers
               "a read-only open"
             else
               "#{reader ? "a" : "another"} writer#{" (pid #{pid})" if pid}"
             end
        LedgerLockedError.new("#{ledger} is locked by #{by}", path: ledger, pid: pid)
      end

      def recorded_pid(io)
        text = io.pread(32, 0)
        text =~ /\A\s*(\d+)\s*\z/ ? Integer(Regexp.last_match(1), 10) : nil
      rescue EOFError, SystemCallError
        nil
      end

      private_class_method :open_for_reading, :locked, :recorded_pid
    end
  end
end
