# frozen_string_literal: true

require "optparse"
require "fileutils"
require_relative "configuration"
require_relative "../cli/filesystem_failure"

module Igniter
  module Store
    module Server
      # `igniter-ledger-server` (and `igniter-ledger serve`): resolves the
      # settings ({Configuration}: flags, IGNITER_LEDGER_* variables, a YAML
      # file), opens the ledger (by default a file-backed store in
      # ./igniter-ledger-data/), serves the op protocol and the HTTP envelope
      # API, and returns the exit status once SIGTERM/SIGINT has drained and
      # closed it. A start-up failure is one line on stderr naming the
      # listener or the path and what went wrong, and exit status 1; a file
      # system refusal (data directory or ledger missing, unwritable,
      # read-only or full) is worded by {Store::CLI::FilesystemFailure} and
      # exits with its status, 74.
      class CLI
        # Directory of the ledger when none is given.
        DEFAULT_DATA_DIR = Configuration::DEFAULT_DATA_DIR
        # WAL file under the data directory.
        WAL_NAME = "ledger.wal"
        # Segmented root under the data directory.
        SEGMENTS_NAME = "segments"
        # Port of the HTTP adapter when enabled without one.
        DEFAULT_HTTP_PORT = Configuration::DEFAULT_HTTP_PORT
        # 0.5.2's variable of the write token (IGNITER_LEDGER_WRITE_TOKEN and
        # IGNITER_LEDGER_AUTH_TOKEN name it too).
        TOKEN_ENV = "IGNITER_LEDGER_TOKEN"

        # Raised for bad flags, variables, config files and combinations;
        # printed as `Error: ...` and a pointer to --help.
        class UsageError < StandardError; end

        # Exit statuses, as `--help` lists them.
        EXIT_STATUSES = "Exit status: 0 stopped by SIGTERM/SIGINT, 1 bad settings or a start-up failure " \
                        "(a port in use, ...), #{Store::CLI::FilesystemFailure::EX_IOERR} the file system refused " \
                        "(data directory or ledger missing, unwritable, read-only or full)".freeze

        # @param program [String] name shown in the banner
        # @param out [IO] the log
        # @param err [IO] errors
        # @param env [Hash] environment (IGNITER_LEDGER_*)
        def initialize(program: "igniter-ledger-server", out: $stdout, err: $stderr, env: ENV)
          @program = program
          @out = out
          @err = err
          @env = env
        end

        # @param argv [Array<String>]
        # @return [Integer] exit status
        def run(argv)
          @out.sync = true if @out.respond_to?(:sync=)
          @err.sync = true if @err.respond_to?(:sync=)
          config = configuration(argv.dup)
          return 0 if config.answered

          serve(config)
        rescue OptionParser::ParseError, UsageError => e
          usage_error(e)
        rescue Store::CLI::FilesystemFailure::Refused => e
          @err.puts("Error: #{e.message}")
          Store::CLI::FilesystemFailure::EX_IOERR
        rescue SystemCallError => e
          return listen_failure(e) if e.is_a?(ListenFailure) || !Store::CLI::FilesystemFailure.handles?(e)

          @err.puts("Error: #{Store::CLI::FilesystemFailure.line(e, doing: "starting the server", writing: @writing.to_a)}")
          Store::CLI::FilesystemFailure::EX_IOERR
        rescue StandardError => e
          @err.puts("Error: #{Transport::ErrorText.first_line(e)}")
          1
        end

        # @param argv [Array<String>]
        # @return [Configuration]
        def configuration(argv)
          Configuration.new(argv, env: @env, program: @program, out: @out,
                                  extra: lambda { |o|
                                    o.separator("")
                                    o.separator(EXIT_STATUSES)
                                  })
        end

        private

        def listen_failure(error)
          @err.puts("Error: #{error.is_a?(ListenFailure) ? error.explanation : Transport::ErrorText.first_line(error)}")
          1
        end

        def usage_error(error)
          @err.puts("Error: #{error.message}")
          @err.puts("(#{@program} --help lists the flags)")
          1
        end

        # Every line, the first included, goes through the server's log format.
        def serve(config)
          opts = config.server_options
          @log = ServerLogger.new(@out, opts[:log_level], format: opts[:log_format])
          @log.info("Configuration from #{config.file}") if config.file
          check_database_url(config)
          prepare_storage(opts, config.values[:data_dir], config.sources[:data_dir] != "default")
          server = StoreServer.new(config: ServerConfig.new(**opts, log_io: @out), logger: @log)
          server.start_with_adapters(http_port: config.values[:http_port], tcp_port: config.values[:tcp_port])
          0
        end

        # PostgreSQL: the URL (--database-url or $IGNITER_LEDGER_DATABASE_URL)
        # travels as the server's `path`; it means nothing to other backends.
        def check_database_url(config)
          url = config.values[:database_url]
          postgres = config.values[:backend] == :postgres
          raise UsageError, "--database-url applies to --backend postgres only" if url && !postgres
          return unless postgres

          raise UsageError, "--backend postgres needs --database-url URL or $IGNITER_LEDGER_DATABASE_URL" if url.to_s.empty?
          raise UsageError, "--path applies to --backend file or segmented only" if config.values[:path]
        end

        # The file backend defaults to DATA_DIR/ledger.wal, the segmented one
        # to DATA_DIR/segments/, creating the directory.
        def prepare_storage(opts, data_dir, data_dir_given)
          case opts[:backend]
          when :postgres
            raise UsageError, "--data-dir applies to --backend file or segmented only" if data_dir_given

            @log.info("igniter-ledger #{VERSION}: PostgreSQL ledger (shared with every server on this database)")
          when :file
            opts[:path] ||= File.join(data_dir, WAL_NAME)
            announce_data_dir(File.dirname(File.expand_path(opts[:path])), "WAL #{File.expand_path(opts[:path])}")
          when :segmented
            opts[:path] ||= File.join(data_dir, SEGMENTS_NAME)
            announce_data_dir(File.expand_path(opts[:path]), "segmented")
          else
            if data_dir_given || opts[:path]
              raise UsageError, "--data-dir and --path apply to --backend file or segmented only"
            end

            @log.info("igniter-ledger #{VERSION}: in-memory ledger (nothing is kept after exit)")
          end
        end

        # The server creates the directory and the ledger in it, so a missing
        # part of either is something to create (see FilesystemFailure.line).
        def announce_data_dir(dir, what)
          @writing = [dir]
          created = !Dir.exist?(dir)
          FileUtils.mkdir_p(dir)
          @log.info("igniter-ledger #{VERSION}: data in #{dir}#{" (created)" if created}, #{what}")
        end
      end
    end
  end
end
