# frozen_string_literal: true

require "optparse"
require_relative "main"
require_relative "output"
require_relative "progress"
require_relative "ledger_path"
require_relative "filesystem_failure"
require_relative "wal_at_rest"
require_relative "segmented_at_rest"

module Igniter
  module Store
    module CLI
      # What every tool for ledgers at rest shares: option parsing with
      # `--help`, positional arguments, and one exit status per outcome —
      # 0 done, 1 the ledger is damaged or the work failed (the message says
      # why, in one line), 2 the path is not a ledger, 64 a usage mistake,
      # 74 the file system refused (a missing or unwritable path, a full or
      # read-only disk: {FilesystemFailure} words the line).
      # A subclass defines USAGE, `.summary` and `#execute`, and ARGUMENTS or
      # `#options` where it differs from a tool that reads one PATH and prints
      # data (`--json`, `--[no-]progress`).
      class Command
        # Exit status of a path that is not a ledger (`verify` documents it).
        EX_NOT_A_LEDGER = 2
        # Exit status of a failure (the message is printed on stderr).
        EX_FAILURE = 1
        # The positional arguments, by name, in order.
        ARGUMENTS = %i[path].freeze
        # The options naming paths the command creates (see {FilesystemFailure.line}).
        WRITES = %i[dest out].freeze
        # The exit statuses, as `--help` lists them.
        EXIT_STATUSES = "Exit status: 0 done, 1 failed or damaged, 2 not a ledger, 64 usage mistake, " \
                        "#{FilesystemFailure::EX_IOERR} the file system refused (missing path, permissions, " \
                        "read-only or full disk)".freeze

        # @param out [IO] results
        # @param err [IO] errors, and the progress bar on a terminal
        # @param env [Hash] the environment
        def initialize(out:, err:, env:)
          @out = out
          @err = err
          @env = env
        end

        # @param argv [Array<String>] the arguments after the subcommand
        # @return [Integer] exit status
        def run(argv)
          opts = parse(argv)
          return 0 if opts.nil?

          @writes = opts.values_at(*self.class::WRITES)

          execute(opts)
        rescue UsageError => e
          @err.puts("#{program}: #{e.message}")
          @err.puts(self.class::USAGE)
          EX_USAGE
        rescue NotALedgerError => e
          fail_with(e.message, EX_NOT_A_LEDGER)
        rescue LedgerLockedError => e
          fail_with("#{e.message}#{lock_hint(e)}")
        rescue FilesystemFailure::Refused => e
          fail_with(e.message, FilesystemFailure::EX_IOERR)
        rescue Interrupt
          @err.puts("#{program}: interrupted")
          130
        rescue SystemCallError, IOError, Error, ArgumentError, JSON::JSONError, TypeError => e
          if FilesystemFailure.handles?(e)
            return fail_with(FilesystemFailure.line(e, writing: @writes.to_a), FilesystemFailure::EX_IOERR)
          end

          fail_with(message_of(e))
        end

        private

        # @return [String] "igniter-ledger NAME"
        def program
          "igniter-ledger #{CLI.commands.key(self.class)}"
        end

        # Ours and the OS's say what happened; anything else is named by class.
        # Ruby's "@ rb_sysopen" (the C function that failed) means nothing to
        # a user.
        def message_of(error)
          return error.message.sub(/ @ \w+ - /, " - ") if error.is_a?(SystemCallError)

          error.is_a?(Error) ? error.message : "#{error.class}: #{error.message}"
        end

        def fail_with(message, status = EX_FAILURE)
          @err.puts("#{program}: #{message}")
          status
        end

        # What to do about a ledger another process holds (doc/format.md
        # "Lock file" words the message of readers holding it so).
        def lock_hint(error)
          return "; try again once they have closed it" if error.pid.nil? && error.message.include?("read-only open")

          "; stop that writer first (igniter-ledger backup copies a live ledger)"
        end

        # @return [Hash, nil] the options (positionals under their names); nil after --help
        def parse(argv)
          opts = {}
          parser = OptionParser.new do |o|
            o.banner = self.class::USAGE
            o.separator("")
            options(o, opts)
            o.on("-h", "--help", "this text") do
              @out.puts(o)
              return nil
            end
            o.separator("")
            o.separator(EXIT_STATUSES)
          end
          arguments(parser.parse(argv), opts)
          opts
        rescue OptionParser::ParseError => e
          raise UsageError, e.message
        end

        # Adds the subcommand's flags (here: those of a tool that prints data).
        def options(parser, opts)
          json_flag(parser, opts)
          progress_flag(parser, opts)
        end

        # Checks the positional arguments and stores them in +opts+ by name.
        def arguments(rest, opts)
          positionals(rest, opts, *self.class::ARGUMENTS)
        end

        # Takes exactly +names+ positionals into +opts+.
        def positionals(rest, opts, *names)
          if rest.size < names.size
            raise UsageError, "missing #{names[rest.size..].map { |n| n.to_s.upcase }.join(" and ")}"
          end
          raise UsageError, "unexpected argument #{rest[names.size].inspect}" if rest.size > names.size

          names.zip(rest).each { |name, value| opts[name] = value }
        end

        def json_flag(parser, opts)
          parser.on("--json", "machine-readable output (one JSON document)") { opts[:json] = true }
        end

        def progress_flag(parser, opts)
          opts[:progress] = true
          parser.on("--[no-]progress", "progress bar on a terminal's stderr (default: on)") { |v| opts[:progress] = v }
        end

        # The ledger at +path+ read at rest (see {LedgerPath.read}), with a
        # progress bar over the bytes read.
        # @return [WalAtRest, SegmentedAtRest]
        def read_ledger(opts, path, title, writer_ok: false)
          bar = progress(opts, title, LedgerPath.bytes_to_read(path))
          ledger = LedgerPath.read(path, progress: bar, writer_ok: writer_ok)
          bar.finish
          ledger
        end

        # @return [Progress, Progress::Silent]
        def progress(opts, title, total)
          Progress.start(@err, title: title, total: total, enabled: opts.fetch(:progress, true))
        end
      end
    end
  end
end
