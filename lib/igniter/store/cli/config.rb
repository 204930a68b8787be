# frozen_string_literal: true

require "json"
require_relative "main"
require_relative "../server/cli"

module Igniter
  module Store
    module CLI
      # `igniter-ledger config [flags]`: the settings `serve` would run with
      # given the same flags, environment and config file, each with where
      # it came from (flag, environment variable, config file or default).
      # Tokens show only whether they are set.
      class Config
        # Shown instead of a token's value.
        SECRET = "(set)"

        # @return [String] one line for the command list
        def self.summary
          "print the effective server configuration and where each value comes from (--json too)"
        end

        # @param out [IO]
        # @param err [IO]
        # @param env [Hash]
        def initialize(out:, err:, env:)
          @out = out
          @err = err
          @env = env
        end

        # @param argv [Array<String>] the flags `serve` takes, plus --json
        # @return [Integer] 0, or 1 for a bad flag, variable or config file, 74 for a config file the file
        #   system refuses
        def run(argv)
          json = false
          config = Server::Configuration.new(argv.dup, env: @env, program: "igniter-ledger config", out: @out,
                                                       extra: ->(o) { o.on("--json", "Print JSON") { json = true } })
          return 0 if config.answered

          json ? print_json(config) : print_table(config)
          0
        rescue FilesystemFailure::Refused => e
          @err.puts("Error: #{e.message}")
          FilesystemFailure::EX_IOERR
        rescue OptionParser::ParseError, Server::CLI::UsageError => e
          @err.puts("Error: #{e.message}")
          @err.puts("(igniter-ledger config --help lists the flags)")
          1
        end

        private

        def shown(setting, value)
          return "off" if setting.type == :port_or_off && value.nil?
          return value unless setting.secret

          value.nil? ? nil : SECRET
        end

        def print_table(config)
          @out.puts("Effective configuration (flag > #{Server::Configuration::ENV_PREFIX}* > config file > default)")
          @out.puts("config file: #{config.file || "none"}")
          width = config.settings.map { |setting| setting.key.size }.max
          config.settings.each do |setting|
            value = shown(setting, config.values[setting.key])
            text = value.nil? ? "-" : value.to_s
            @out.puts("#{setting.key.to_s.ljust(width)}  #{text.ljust(24)}  #{config.sources[setting.key]}")
          end
        end

        def print_json(config)
          settings = config.settings.to_h do |setting|
            [setting.key, { value: shown(setting, config.values[setting.key]), source: config.sources[setting.key],
                            flag: setting.flag, env: setting.env }]
          end
          @out.puts(JSON.generate({ config_file: config.file, settings: settings }))
        end
      end

      register("config", Config)
    end
  end
end
