# frozen_string_literal: true

require "optparse"
require "fileutils"

module Igniter
  module Store
    module Server
      # `igniter-ledger-server`: parses flags into a {ServerConfig}, opens the
      # ledger (by default a file-backed store in ./igniter-ledger-data/),
      # serves the op protocol and the HTTP envelope API, and returns the
      # exit status once SIGTERM/SIGINT has drained and closed it.
      class CLI
        DEFAULT_DATA_DIR = "igniter-ledger-data"
        WAL_NAME = "ledger.wal"
        SEGMENTS_NAME = "segments"
        DEFAULT_HTTP_PORT = 7300
        TOKEN_ENV = "IGNITER_LEDGER_TOKEN"
        DATABASE_URL_ENV = "IGNITER_LEDGER_DATABASE_URL"

        # Raised for bad flag combinations; printed as `Error: ...` with the help.
        class UsageError < StandardError; end

        # @param program [String] name shown in the banner
        # @param out [IO] startup lines
        # @param err [IO] errors
        # @param env [Hash] environment (IGNITER_LEDGER_TOKEN and IGNITER_LEDGER_DATABASE_URL are read)
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
          opts = parse(argv.dup)
          return 0 if opts.nil?

          serve(opts)
        rescue OptionParser::ParseError, UsageError => e
          @err.puts("Error: #{e.message}")
          @err.puts(parser({}))
          1
        rescue StandardError => e
          @err.puts("Error: #{Transport::ErrorText.first_line(e)}")
          1
        end

        # @return [Hash, nil] options; nil when --help/--version was answered
        def parse(argv)
          opts = { backend: :file, http_port: DEFAULT_HTTP_PORT }
          parser = parser(opts)
          parser.parse!(argv)
          return nil if opts.delete(:answered)
          raise UsageError, "unexpected arguments: #{argv.join(" ")}" unless argv.empty?

          opts
        end

        private

        def serve(opts)
          http_port = opts.delete(:http_port)
          tcp_port = opts.delete(:tcp_port)
          data_dir = opts.delete(:data_dir)
          database_url = opts.delete(:database_url)
          opts[:auth_token] ||= token_from_env
          prepare_database(opts, database_url) if opts[:backend] == :postgres || database_url
          prepare_storage(opts, data_dir)
          server = StoreServer.new(config: ServerConfig.new(**opts, log_io: @out))
          server.start_with_adapters(http_port: http_port, tcp_port: tcp_port)
          0
        end

        def token_from_env
          token = @env[TOKEN_ENV]
          token.nil? || token.empty? ? nil : token
        end

        # PostgreSQL: the URL from --database-url or $IGNITER_LEDGER_DATABASE_URL
        # travels as the server's `path`.
        def prepare_database(opts, database_url)
          raise UsageError, "--database-url applies to --backend postgres only" unless opts[:backend] == :postgres
          raise UsageError, "--data-dir and --path apply to --backend file or segmented only" if opts[:path]

          url = database_url || @env[DATABASE_URL_ENV]
          raise UsageError, "--backend postgres needs --database-url URL or $#{DATABASE_URL_ENV}" if url.to_s.empty?

          opts[:path] = url
        end

        # The file backend defaults to DATA_DIR/ledger.wal, the segmented one
        # to DATA_DIR/segments/, creating the directory.
        def prepare_storage(opts, data_dir)
          case opts[:backend]
          when :postgres
            raise UsageError, "--data-dir applies to --backend file or segmented only" if data_dir

            @out.puts("igniter-ledger #{VERSION}: PostgreSQL ledger (shared with every server on this database)")
          when :file
            opts[:path] ||= File.join(data_dir || DEFAULT_DATA_DIR, WAL_NAME)
            announce_data_dir(File.dirname(File.expand_path(opts[:path])), "WAL #{File.expand_path(opts[:path])}")
          when :segmented
            opts[:path] ||= File.join(data_dir || DEFAULT_DATA_DIR, SEGMENTS_NAME)
            announce_data_dir(File.expand_path(opts[:path]), "segmented")
          else
            if data_dir || opts[:path]
              raise UsageError, "--data-dir and --path apply to --backend file or segmented only"
            end

            @out.puts("igniter-ledger #{VERSION}: in-memory ledger (nothing is kept after exit)")
          end
        end

        def announce_data_dir(dir, what)
          created = !Dir.exist?(dir)
          FileUtils.mkdir_p(dir)
          @out.puts("igniter-ledger #{VERSION}: data in #{dir}#{" (created)" if created}, #{what}")
        end

        # rubocop:disable Metrics/MethodLength, Metrics/AbcSize -- one flag per line reads best
        def parser(opts)
          cf = ->(key, value) { (opts[:changefeed] ||= {})[key] = value }
          alert = ->(key, value) { ((opts[:changefeed] ||= {})[:alert_thresholds] ||= {})[key] = value }
          OptionParser.new do |o|
            o.banner = "Usage: #{@program} [options]"
            o.separator ""
            o.separator "Network:"
            o.on("--host HOST", String, "Bind host (default: 127.0.0.1)") { |v| opts[:host] = v }
            o.on("--port PORT", Integer, "Op-protocol port (default: 7400; 0 = any free port)") { |v| opts[:port] = v }
            o.on("--transport TYPE", "tcp (default) or unix (--host is then the socket path)") do |v|
              opts[:transport] = v.to_sym
            end
            o.on("--max-connections N", Integer, "Concurrent op-protocol connections (default: 256)") do |v|
              opts[:max_connections] = v
            end
            o.on("--max-frame-bytes N", Integer, "Largest request frame (default: 16 MiB)") do |v|
              opts[:max_frame_bytes] = v
            end
            o.on("--read-timeout SECS", Float, "Seconds for a started frame to arrive (default: 30)") do |v|
              opts[:read_timeout] = v
            end
            o.on("--idle-timeout SECS", Float, "Seconds a connection may idle (default: 300)") do |v|
              opts[:idle_timeout] = v
            end
            o.on("--auth-token TOKEN", String, "Shared secret for writes (default: $#{TOKEN_ENV})") do |v|
              opts[:auth_token] = v
            end
            o.separator ""
            o.separator "Storage:"
            o.on("--backend BACKEND", "file (default), segmented, memory or postgres") { |v| opts[:backend] = v.to_sym }
            o.on("--database-url URL", String, "PostgreSQL URL for --backend postgres (default: $#{DATABASE_URL_ENV})") do |v|
              opts[:database_url] = v
            end
            o.on("--data-dir DIR", String, "Data directory, created if absent (default: ./#{DEFAULT_DATA_DIR})") do |v|
              opts[:data_dir] = v
            end
            o.on("--path PATH", String, "WAL file (default: DIR/#{WAL_NAME}); segmented: its directory " \
                                        "(default: DIR/#{SEGMENTS_NAME})") { |v| opts[:path] = v }
            o.separator ""
            o.separator "Operations:"
            o.on("--log-level LEVEL", "debug, info (default), warn, error") { |v| opts[:log_level] = v.to_sym }
            o.on("--pid-file PATH", String, "Write the process id here") { |v| opts[:pid_file] = v }
            o.on("--drain-timeout SECS", Float, "Seconds to let connections finish on stop (default: 5)") do |v|
              opts[:drain_timeout] = v
            end
            o.separator ""
            o.separator "Protocol API (envelope dispatch):"
            o.on("--http-port PORT", Integer, "HTTP API port (default: #{DEFAULT_HTTP_PORT}; 0 = any free port)") do |v|
              opts[:http_port] = v
            end
            o.on("--no-http", "Do not serve the HTTP API") { opts[:http_port] = nil }
            o.on("--tcp-port PORT", Integer, "Framed envelope TCP port (default: disabled)") { |v| opts[:tcp_port] = v }
            o.separator ""
            o.separator "Changefeed:"
            o.on("--changefeed-max-size N", Integer, "Events kept for replay (default: 1000)") { |v| cf[:max_size, v] }
            o.on("--changefeed-subscriber-queue-size N", Integer, "Per-subscriber queue (default: 100)") do |v|
              cf[:subscriber_queue_size, v]
            end
            o.on("--changefeed-overflow POLICY", "drop_oldest (default) or drop_newest") do |v|
              cf[:overflow, v.to_sym]
            end
            o.on("--changefeed-close-policy POLICY", "drain (default) or discard") { |v| cf[:close_policy, v.to_sym] }
            o.on("--changefeed-diagnostic-ring-size N", Integer, "Diagnostics kept (default: 100)") do |v|
              cf[:diagnostic_ring_size, v]
            end
            o.on("--changefeed-alert-total-queued N", Integer, "Alert threshold") { |v| alert[:total_queued, v] }
            o.on("--changefeed-alert-overflow-dropped-total N", Integer, "Alert threshold") do |v|
              alert[:overflow_dropped_total, v]
            end
            o.on("--changefeed-alert-failed-total N", Integer, "Alert threshold") { |v| alert[:failed_total, v] }
            o.on("--changefeed-alert-queue-pressure-ratio FLOAT", Float, "Alert threshold") do |v|
              alert[:queue_pressure_ratio, v]
            end
            o.separator ""
            o.on("-h", "--help", "Show this help") do
              @out.puts(o)
              opts[:answered] = true
            end
            o.on("-v", "--version", "Show the version") do
              @out.puts("igniter-ledger #{VERSION}")
              opts[:answered] = true
            end
          end
        end
        # rubocop:enable Metrics/MethodLength, Metrics/AbcSize
      end
    end
  end
end
