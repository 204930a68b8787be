# frozen_string_literal: true

require "pathname"

module Igniter
  module Store
    module CLI
      # One line for a file system refusal, for every `igniter-ledger`
      # subcommand and the server alike: what was being done, the path, the
      # cause in words, and what to do where that is clear —
      #
      #   igniter-ledger backup: cannot create /srv/backups/ledger.wal: no such file or directory
      #   (/srv/backups does not exist); create the directory first
      #
      # (one line on the terminal). Ruby's own text ("No such file or
      # directory @ rb_sysopen - PATH") names the C function that failed,
      # which means nothing to an operator. The commands exit with
      # {EX_IOERR} for these, so a script can tell "the disk or its
      # permissions said no" from "the ledger is damaged" (1).
      module FilesystemFailure
        # Exit status of a file system refusal, as sysexits.h's EX_IOERR.
        EX_IOERR = 74

        # A refusal already worded by {line}, raised where the context is
        # known (a config file, an import that stopped halfway) and printed
        # as it is, with {EX_IOERR}.
        class Refused < StandardError; end

        # The refusals this explains (EDQUOT and EPERM read as ENOSPC and EACCES).
        ERRNOS = [Errno::EACCES, Errno::EPERM, Errno::ENOENT, Errno::EROFS, Errno::ENOSPC, Errno::EDQUOT,
                  Errno::ENOTDIR, Errno::EISDIR].freeze

        # Ruby's C function in the message => what it was doing.
        OPERATIONS = { "dir_s_mkdir" => "create the directory", "rb_file_s_rename" => "rename",
                       "dir_initialize" => "list the directory", "dir_s_children" => "list the directory",
                       "dir_s_entries" => "list the directory", "unlink_internal" => "remove",
                       "apply2files" => "remove", "rb_file_s_truncate" => "truncate",
                       "rb_file_flock" => "lock", "rb_io_fsync" => "sync", "rb_io_fdatasync" => "sync" }.freeze

        # What IO.copy_stream and friends put where a path would be.
        SYSCALLS = { "sendfile" => "write to", "copy_file_range" => "write to", "write" => "write to",
                     "read" => "read", "fsync" => "sync", "fdatasync" => "sync", "flock" => "lock" }.freeze

        module_function

        # @param error [Exception]
        # @return [Boolean] a refusal {line} explains
        def handles?(error)
          return true if ERRNOS.any? { |klass| error.is_a?(klass) }

          # mkdir -p through a regular file: EEXIST naming that file
          error.is_a?(Errno::EEXIST) && parse(error).first == "dir_s_mkdir"
        end

        # @param error [SystemCallError] one {handles?} accepts
        # @param doing [String, nil] the task, e.g. "starting the server"
        # @param writing [Array<String, nil>] the paths the task creates (a
        #   missing file among them is to be created, not read: Ruby's error
        #   does not say which way a file was opened)
        # @return [String] one line: task, operation, path, cause, hint
        def line(error, doing: nil, writing: [])
          function, path = parse(error)
          if SYSCALLS.key?(path)
            # no path in the error: the task's one output is what was written
            function = path
            path = writing.compact.one? ? writing.compact.first : nil
          end
          output = path && writing.compact.find { |out| path.start_with?(out) }
          # a tool's temporary sibling ("OUT.tmp-123") is reported as OUT itself
          rest = output && path.delete_prefix(output)
          path = output if rest && !rest.empty? && !rest.start_with?(File::SEPARATOR)
          operation = operation(function, path, error, output)
          cause = cause(error)
          # mkdir -p names the part it failed at: say which directory was wanted
          path = writing.compact.find { |out| out.start_with?(path + File::SEPARATOR) } || path if function == "dir_s_mkdir"
          cause = "not a directory" if error.is_a?(Errno::EEXIST) # a file in the way
          text = "cannot #{operation}#{" #{path}" if path}: #{cause}"
          hint = hint(error, path, output)
          [doing, hint ? "#{text}#{hint}" : text].compact.join(": ")
        end

        # @param error [SystemCallError] one {handles?} accepts
        # @param doing [String, nil] see {line}
        # @param writing [Array<String, nil>] see {line}
        # @param detail [String, nil] appended, e.g. how far the work got
        # @return [Refused] the error worded by {line}, to raise
        def refused(error, doing: nil, writing: [], detail: nil)
          Refused.new([line(error, doing: doing, writing: writing), detail].compact.join(" "))
        end

        # [function, path] from "Cause @ function - path" (either may be nil).
        def parse(error)
          message = error.message
          match = message.match(/ @ (\w+) - (.*)\z/m) || message.match(/ - (.*)\z/m)&.then { |m| [nil, nil, m[1]] }
          return [nil, nil] unless match

          path = match[2].to_s.lines.first.to_s.chomp
          path = path[1..-2].split(", ").last if path.start_with?("(") && path.end_with?(")") # rename (from, to)
          [match[1], path.empty? ? nil : path]
        end

        # Without a known function (the backends re-raise as "Cause - path")
        # the error came from opening the file.
        def operation(function, path, error, output)
          return OPERATIONS.fetch(function) if OPERATIONS.key?(function)
          return SYSCALLS.fetch(function) if SYSCALLS.key?(function)
          return "write to" if function.to_s.include?("write")
          return "read" if function.to_s.include?("read")
          return "use the file system" unless path
          return "write to" if error.is_a?(Errno::ENOSPC) || error.is_a?(Errno::EDQUOT) # only writes fill a disk
          return path && !File.exist?(path) ? "create" : "open" unless error.is_a?(Errno::ENOENT)

          output ? "create" : "open"
        end

        # "permission denied" (Ruby's text without the function and path).
        def cause(error)
          base = error.message.sub(/ @ \w+ - .*\z/m, "").sub(/ - .*\z/m, "").lines.first.to_s.chomp
          base[0] = base[0].downcase if base.match?(/\A[A-Z][a-z]/)
          base
        end

        def hint(error, path, output)
          case error
          when Errno::ENOENT then missing_hint(path, output)
          when Errno::EACCES, Errno::EPERM then "; check the owner and permissions of #{path ? writable_question(path) : "the path"}"
          when Errno::EROFS then "; the file system is mounted read-only: choose a path on a writable one"
          when Errno::ENOSPC, Errno::EDQUOT then "; free space on that file system or choose a path on another"
          when Errno::ENOTDIR, Errno::EEXIST then blocker_hint(path)
          when Errno::EISDIR then "; #{path || "the path"} is a directory: give a file path"
          end
        end

        # A missing parent of something to create asks for mkdir; anything
        # else missing (something to read) asks for the path to be checked.
        def missing_hint(path, output)
          return "; check the path" unless path

          parent = File.dirname(path)
          return "; check the path" if File.directory?(parent)

          missing = Pathname(parent).ascend.take_while { |part| !File.exist?(part) }.last || parent
          output ? " (#{missing} does not exist); create the directory first" : " (#{missing} does not exist); check the path"
        end

        # The directory whose permissions matter: the nearest that exists.
        def writable_question(path)
          return path if File.exist?(path)

          Pathname(path).dirname.ascend.find { |part| File.exist?(part) }.to_s
        end

        def blocker_hint(path)
          return "; a part of the path is a file, not a directory" unless path

          blocker = Pathname(path).ascend.find { |part| File.exist?(part) && !File.directory?(part) }
          blocker ? " (#{blocker} is a file, not a directory); choose another path" : ""
        end

        private_class_method :parse, :operation, :cause, :hint, :missing_hint, :writable_question, :blocker_hint
      end
    end
  end
end
