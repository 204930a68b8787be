# frozen_string_literal: true

require "optparse"
require "yaml"
require_relative "../cli/filesystem_failure"

module Igniter
  module Store
    module Server
      # Every setting of the server command, each reachable four ways, in
      # this precedence: a flag (`--read-timeout 5`), an environment variable
      # (`IGNITER_LEDGER_READ_TIMEOUT=5`), a key of the YAML config file
      # (`read_timeout: 5`, file from `--config FILE` or
      # `IGNITER_LEDGER_CONFIG`), the default. {#values} are the effective
      # settings, {#sources} where each came from (`igniter-ledger config`
      # prints both). Values from the environment and the file are checked
      # like flags; a bad one is a {CLI::UsageError} naming the variable or
      # the file and key.
      class Configuration
        # One setting. `type`: :string, :integer, :float, :boolean, :choice
        # (one of `choices`, a Symbol) or :port_or_off (an Integer, or
        # "off"/false = not served).
        Setting = Struct.new(:key, :flag, :arg, :type, :choices, :default, :help, :section, :secret, :aliases,
                             :env_aliases, keyword_init: true) do
          # @return [String] the environment variable
          def env
            "#{ENV_PREFIX}#{key.to_s.upcase}"
          end

          # @return [Array<String>] every variable naming it, the canonical one first
          def envs
            [env, *env_aliases]
          end
        end

        # Prefix of every setting's environment variable.
        ENV_PREFIX = "IGNITER_LEDGER_"
        # Names the config file when --config is not given.
        CONFIG_ENV = "#{ENV_PREFIX}CONFIG".freeze
        # Where the file and segmented ledgers live by default (relative to the working directory).
        DEFAULT_DATA_DIR = "igniter-ledger-data"
        # Port of the HTTP API unless configured (off with --no-http).
        DEFAULT_HTTP_PORT = 7300

        def self.setting(key, flag, type, default, help, section, **extra)
          Setting.new(key: key, flag: flag, type: type, default: default, help: help, section: section,
                      aliases: [], env_aliases: [], **extra)
        end
        private_class_method :setting

        cf = ChangefeedBuffer
        # Flag order is the order of --help and of `igniter-ledger config`.
        SETTINGS = [
          setting(:host, "--host", :string, "127.0.0.1", "Bind host", "Network", arg: "HOST"),
          setting(:port, "--port", :integer, 7400, "Op-protocol port (0 = any free port)", "Network", arg: "PORT"),
          setting(:transport, "--transport", :choice, :tcp, "tcp or unix (--host is then the socket path)", "Network",
                  choices: %i[tcp unix], arg: "TYPE"),
          setting(:max_connections, "--max-connections", :integer, 256, "Concurrent op-protocol connections",
                  "Network"),
          setting(:max_frame_bytes, "--max-frame-bytes", :integer, ServerConfig::DEFAULT_MAX_FRAME_BYTES,
                  "Largest request frame", "Network"),
          setting(:read_timeout, "--read-timeout", :float, 30.0, "Seconds for a started request to arrive",
                  "Network"),
          setting(:idle_timeout, "--idle-timeout", :float, 300.0, "Seconds a connection may idle", "Network"),
          setting(:max_body_bytes, "--max-body-bytes", :integer, ServerConfig::DEFAULTS[:max_body_bytes],
                  "Largest HTTP request body (413 from its headers)", "Network"),
          setting(:write_token, "--write-token", :string, nil, "Token every write needs (it also reads)", "Access",
                  secret: true, aliases: ["--auth-token"], env_aliases: ["#{ENV_PREFIX}AUTH_TOKEN", "#{ENV_PREFIX}TOKEN"], arg: "TOKEN"),
          setting(:read_token, "--read-token", :string, nil, "Token every read, replay, feed and status request " \
                                                             "needs (the write token also works)", "Access",
                  secret: true, arg: "TOKEN"),
          setting(:auth_reads, "--auth-reads", :boolean, false, "Reads need a token even without --read-token",
                  "Access"),
          setting(:tls_cert, "--tls-cert", :string, nil, "PEM certificate: every listener speaks TLS", "Access", arg: "FILE"),
          setting(:tls_key, "--tls-key", :string, nil, "PEM private key of --tls-cert", "Access", arg: "FILE"),
          setting(:backend, "--backend", :choice, :file, "file, segmented, memory or postgres", "Storage",
                  choices: %i[file segmented memory postgres], arg: "BACKEND"),
          # The URL may carry a password: shown as "(set)", never printed.
          setting(:database_url, "--database-url", :string, nil, "PostgreSQL URL for --backend postgres", "Storage",
                  secret: true, arg: "URL"),
          setting(:data_dir, "--data-dir", :string, DEFAULT_DATA_DIR, "Data directory, created if absent",
                  "Storage", arg: "DIR"),
          setting(:path, "--path", :string, nil, "WAL file (default: DIR/ledger.wal); segmented: its directory " \
                                                 "(default: DIR/segments)", "Storage", arg: "PATH"),
          setting(:durability, "--durability", :choice, :flush, "flush (each fact handed to the OS in one write) or " \
                                                              "fsync (fdatasync after each fact); file and segmented",
                  "Storage", choices: %i[flush fsync], arg: "POLICY"),
          setting(:log_level, "--log-level", :choice, :info, "debug, info, warn or error", "Operations",
                  choices: ServerLogger::LEVELS.keys, arg: "LEVEL"),
          setting(:log_format, "--log-format", :choice, :text, "text or json (one object per line)", "Operations",
                  choices: ServerLogger::FORMATS, arg: "FORMAT"),
          setting(:pid_file, "--pid-file", :string, nil, "Write the process id here", "Operations", arg: "PATH"),
          setting(:drain_timeout, "--drain-timeout", :float, 5.0, "Seconds to let connections finish on stop",
                  "Operations"),
          setting(:http_port, "--http-port", :port_or_off, DEFAULT_HTTP_PORT,
                  "HTTP API port (0 = any free port; off or --no-http = none)", "Protocol API (envelope dispatch)"),
          setting(:tcp_port, "--tcp-port", :port_or_off, nil, "Framed envelope TCP port (default: off)",
                  "Protocol API (envelope dispatch)"),
          setting(:changefeed_max_size, "--changefeed-max-size", :integer, cf::DEFAULT_MAX_SIZE,
                  "Events kept for replay", "Changefeed"),
          setting(:changefeed_subscriber_queue_size, "--changefeed-subscriber-queue-size", :integer,
                  cf::DEFAULT_SUBSCRIBER_QUEUE_SIZE, "Per-subscriber queue", "Changefeed"),
          setting(:changefeed_overflow, "--changefeed-overflow", :choice, :drop_oldest, "drop_oldest or drop_newest",
                  "Changefeed", choices: %i[drop_oldest drop_newest], arg: "POLICY"),
          setting(:changefeed_close_policy, "--changefeed-close-policy", :choice, :drain, "drain or discard",
                  "Changefeed", choices: %i[drain discard], arg: "POLICY"),
          setting(:changefeed_diagnostic_ring_size, "--changefeed-diagnostic-ring-size", :integer,
                  cf::DEFAULT_DIAGNOSTIC_RING_SIZE, "Diagnostics kept", "Changefeed"),
          setting(:changefeed_alert_total_queued, "--changefeed-alert-total-queued", :integer, nil,
                  "Alert threshold", "Changefeed"),
          setting(:changefeed_alert_overflow_dropped_total, "--changefeed-alert-overflow-dropped-total", :integer,
                  nil, "Alert threshold", "Changefeed"),
          setting(:changefeed_alert_failed_total, "--changefeed-alert-failed-total", :integer, nil,
                  "Alert threshold", "Changefeed"),
          setting(:changefeed_alert_queue_pressure_ratio, "--changefeed-alert-queue-pressure-ratio", :float, nil,
                  "Alert threshold", "Changefeed", arg: "FLOAT")
        ].freeze
        # Config-file keys that mean another (0.5.2's name of the write token).
        FILE_ALIASES = { "auth_token" => "write_token" }.freeze
        # Placeholder of a flag's value in --help, by type (a setting may name its own).
        ARG_NAMES = { string: "VALUE", integer: "N", float: "SECS", choice: "NAME", port_or_off: "PORT" }.freeze

        # @return [Hash{Symbol=>Object}] effective value of every setting
        attr_reader :values
        # @return [Hash{Symbol=>String}] "default", "file PATH", "env NAME" or "flag --name"
        attr_reader :sources
        # @return [String, nil] the config file read
        attr_reader :file
        # @return [Symbol, nil] :help or :version when the command line asked for that instead
        attr_reader :answered

        # @param argv [Array<String>] the flags (consumed)
        # @param env [Hash] the environment
        # @param program [String] for --help
        # @param out [IO] where --help/--version print
        # @param extra [Proc, nil] adds flags of a subcommand to the parser: `->(parser) { ... }`
        # @raise [CLI::UsageError, OptionParser::ParseError] for a bad flag, variable or file
        def initialize(argv, env: ENV, program: "igniter-ledger-server", out: $stdout, extra: nil)
          @env = env
          @program = program
          @out = out
          @flags = {}
          @answered = nil
          parser(extra).parse!(argv)
          raise Server::CLI::UsageError, "unexpected arguments: #{argv.join(" ")}" unless argv.empty?

          resolve unless @answered
        end

        # @param extra [Proc, nil]
        # @return [OptionParser] the flags with their help (one per setting)
        def parser(extra = nil)
          OptionParser.new do |o|
            o.banner = "Usage: #{@program} [options]"
            o.separator ""
            o.on("--config FILE", String, "YAML file of settings (keys as below; default: $#{CONFIG_ENV})") do |v|
              @config_flag = v
            end
            SETTINGS.chunk_while { |a, b| a.section == b.section }.each do |group|
              o.separator ""
              o.separator "#{group.first.section}:"
              group.each { |setting| define_flag(o, setting) }
            end
            extra&.call(o)
            o.separator ""
            o.separator "Every flag has an environment variable (#{ENV_PREFIX}<NAME>, e.g. #{ENV_PREFIX}READ_TIMEOUT)"
            o.separator "and a config-file key (read_timeout); a flag beats the variable, the variable the file."
            o.on("-h", "--help", "Show this help") do
              @out.puts(o)
              @answered = :help
            end
            o.on("-v", "--version", "Show the version") do
              @out.puts("igniter-ledger #{VERSION}")
              @answered = :version
            end
          end
        end

        # The ServerConfig keys (0.5.2's `changefeed` Hash only when a
        # changefeed setting is not at its default).
        # @return [Hash]
        def server_options
          v = @values
          opts = { host: v[:host], port: v[:port], transport: v[:transport], max_connections: v[:max_connections],
                   max_frame_bytes: v[:max_frame_bytes], read_timeout: v[:read_timeout],
                   idle_timeout: v[:idle_timeout], max_body_bytes: v[:max_body_bytes], auth_token: v[:write_token],
                   read_token: v[:read_token],
                   auth_reads: v[:auth_reads], tls_cert: v[:tls_cert], tls_key: v[:tls_key], backend: v[:backend],
                   path: v[:backend] == :postgres ? v[:database_url] : v[:path], log_level: v[:log_level], log_format: v[:log_format], pid_file: v[:pid_file],
                   drain_timeout: v[:drain_timeout], durability: v[:durability] }
          changefeed = changefeed_options
          opts[:changefeed] = changefeed unless changefeed.empty?
          opts
        end

        # @return [Array<Setting>]
        def settings
          SETTINGS
        end

        private

        def define_flag(parser, setting)
          names = [setting.flag, *setting.aliases]
          if setting.type == :boolean
            parser.on(*names, "#{setting.help} (default: #{setting.default})") { @flags[setting.key] = [true, names.first] }
            return
          end

          default = setting.default.nil? ? "" : " (default: #{setting.default})"
          arg = setting.arg || ARG_NAMES.fetch(setting.type)
          parser.on(*names.map { |name| "#{name} #{arg}" }, String,
                    "#{setting.help}#{default}") do |raw|
            @flags[setting.key] = [convert(setting, raw, "#{names.first}"), names.first]
          end
          return unless setting.key == :http_port

          parser.on("--no-http", "Do not serve the HTTP API") { @flags[:http_port] = [nil, "--no-http"] }
        end

        def resolve
          file_values = load_file
          @values = {}
          @sources = {}
          SETTINGS.each do |setting|
            value, source = pick(setting, file_values)
            @values[setting.key] = value
            @sources[setting.key] = source
          end
        end

        def pick(setting, file_values)
          if @flags.key?(setting.key)
            value, flag = @flags[setting.key]
            return [value, "flag #{flag}"]
          end
          name = setting.envs.find { |var| !@env[var].to_s.empty? }
          return [convert(setting, @env[name], name), "env #{name}"] if name
          return [convert(setting, file_values[setting.key], "#{@file}: #{setting.key}"), "file #{@file}"] if
            file_values.key?(setting.key)

          [setting.default, "default"]
        end

        def load_file
          @file = @config_flag || (@env[CONFIG_ENV].to_s.empty? ? nil : @env[CONFIG_ENV])
          return {} unless @file

          @file = File.expand_path(@file)
          data = YAML.safe_load(File.read(@file), aliases: false)
          return {} if data.nil?
          raise Server::CLI::UsageError, "config file #{@file}: expected a mapping of settings, got #{data.class}" unless
            data.is_a?(Hash)

          file_keys(data)
        rescue SystemCallError => e
          raise Store::CLI::FilesystemFailure.refused(e, doing: "reading the config file") if
            Store::CLI::FilesystemFailure.handles?(e)

          raise Server::CLI::UsageError, "config file #{@file}: #{Transport::ErrorText.first_line(e)}"
        rescue Psych::Exception => e
          raise Server::CLI::UsageError, "config file #{@file}: not valid YAML (#{Transport::ErrorText.first_line(e)})"
        end

        def file_keys(data)
          known = SETTINGS.to_h { |setting| [setting.key.to_s, setting.key] }
          data.each_with_object({}) do |(key, value), out|
            name = FILE_ALIASES.fetch(key.to_s, key.to_s)
            unless known.key?(name)
              raise Server::CLI::UsageError, "config file #{@file}: unknown key #{key.to_s.inspect} " \
                                     "(keys are the flag names with underscores, e.g. read_timeout)"
            end

            out[known[name]] = value
          end
        end

        # rubocop:disable Metrics/CyclomaticComplexity -- one branch per type
        def convert(setting, raw, where)
          case setting.type
          when :string then raw.nil? ? nil : raw.to_s
          when :integer then integer(raw, where)
          when :float then float(raw, where)
          when :boolean then boolean(raw, where)
          when :choice then choice(setting, raw, where)
          when :port_or_off then off?(raw) ? nil : integer(raw, where)
          end
        end
        # rubocop:enable Metrics/CyclomaticComplexity

        def integer(raw, where)
          return raw if raw.is_a?(Integer)

          Integer(raw.to_s, 10)
        rescue ArgumentError, TypeError
          raise Server::CLI::UsageError, "#{where}: expected an integer, got #{raw.to_s.inspect}"
        end

        def float(raw, where)
          return raw.to_f if raw.is_a?(Numeric)

          Float(raw.to_s)
        rescue ArgumentError, TypeError
          raise Server::CLI::UsageError, "#{where}: expected a number, got #{raw.to_s.inspect}"
        end

        def boolean(raw, where)
          return raw if [true, false].include?(raw)
          return true if %w[1 true yes on].include?(raw.to_s.downcase)
          return false if %w[0 false no off].include?(raw.to_s.downcase)

          raise Server::CLI::UsageError, "#{where}: expected true or false, got #{raw.to_s.inspect}"
        end

        def choice(setting, raw, where)
          sym = raw.to_s.downcase.to_sym
          return sym if setting.choices.include?(sym)

          raise Server::CLI::UsageError, "#{where}: unknown value #{raw.to_s.inspect} (use #{setting.choices.join(", ")})"
        end

        def off?(raw)
          raw.nil? || raw == false || %w[off none false].include?(raw.to_s.downcase)
        end

        def changefeed_options
          v = @values
          out = {}
          { max_size: :changefeed_max_size, subscriber_queue_size: :changefeed_subscriber_queue_size,
            overflow: :changefeed_overflow, close_policy: :changefeed_close_policy,
            diagnostic_ring_size: :changefeed_diagnostic_ring_size }.each do |key, setting|
            out[key] = v[setting] unless @sources[setting] == "default"
          end
          alerts = { total_queued: :changefeed_alert_total_queued,
                     overflow_dropped_total: :changefeed_alert_overflow_dropped_total,
                     failed_total: :changefeed_alert_failed_total,
                     queue_pressure_ratio: :changefeed_alert_queue_pressure_ratio }
                   .to_h { |key, setting| [key, v[setting]] }.compact
          out[:alert_thresholds] = alerts unless alerts.empty?
          out
        end
      end
    end
  end
end
