# frozen_string_literal: true

require "optparse"
require_relative "main"
require_relative "filesystem_failure"
require_relative "../adapters/mcp_adapter/stdio_server"

module Igniter
  module Store
    module CLI
      # `igniter-ledger mcp`: an MCP server over stdio for one ledger, a
      # local file (`--path`) or a running server (`--url`, its HTTP API).
      # Standard output carries only JSON-RPC; anything else the process
      # prints goes to standard error.
      class Mcp
        # Usage line of `igniter-ledger mcp`.
        USAGE = "Usage: igniter-ledger mcp (--path FILE | --url HOST:PORT) [--allow-writes] [--token TOKEN]"

        # @return [String]
        def self.summary
          "serve one ledger to an MCP client over stdio (mcp --help)"
        end

        # @param out [IO] the JSON-RPC channel
        # @param err [IO] diagnostics
        # @param env [Hash] IGNITER_LEDGER_TOKEN is read for --url
        # @param input [IO] the client's messages
        def initialize(out:, err:, env:, input: $stdin)
          @out = out
          @err = err
          @env = env
          @input = input
        end

        # @param argv [Array<String>]
        # @return [Integer] 0 when the client closed stdin; EX_USAGE for bad flags; 1 when the ledger cannot be
        #   opened; 74 (FilesystemFailure::EX_IOERR) when the file system refused
        def run(argv)
          options = parse(argv)
          return 0 if options.nil?

          store = nil
          target = if options[:path]
                     store = Store.open(options[:path], read_only: !options[:allow_writes])
                   else
                     MCPAdapter::RemoteDispatch.new(http_url(options[:url]), token: options[:token] || @env["IGNITER_LEDGER_TOKEN"])
                   end
          tools = MCPAdapter::LedgerTools.new(target, allow_writes: options[:allow_writes])
          @err.puts("igniter-ledger mcp: serving #{options[:path] || options[:url]} over stdio " \
                    "(#{options[:allow_writes] ? "writes allowed" : "read-only tools"})")
          serve(tools)
          0
        rescue UsageError => e
          @err.puts("igniter-ledger mcp: #{e.message}\n#{USAGE}")
          EX_USAGE
        rescue Interrupt, SignalException
          0
        rescue StandardError => e
          if FilesystemFailure.handles?(e)
            writing = options && options[:allow_writes] ? [options[:path]] : []
            @err.puts("igniter-ledger mcp: #{FilesystemFailure.line(e, writing: writing)}")
            return FilesystemFailure::EX_IOERR
          end

          @err.puts("igniter-ledger mcp: cannot open the ledger: #{e.class}: #{e.message}")
          1
        ensure
          store&.close
        end

        private

        # Whatever the process prints with `puts`/`print` lands on stderr,
        # so the JSON-RPC channel stays clean.
        def serve(tools)
          stdout = $stdout
          $stdout = @err
          MCPAdapter::StdioServer.new(tools, input: @input, output: @out, log: @err).run
        ensure
          $stdout = stdout
        end

        def parse(argv)
          options = { allow_writes: false }
          parser = OptionParser.new do |o|
            o.banner = USAGE
            o.on("--path FILE", "a file-backed ledger (WAL) on this machine") { |v| options[:path] = v }
            o.on("--url HOST:PORT", "a running igniter-ledger server's HTTP API (e.g. 127.0.0.1:7300)") { |v| options[:url] = v }
            o.on("--allow-writes", "offer the write tool (the server's token is needed for a --url with one)") { options[:allow_writes] = true }
            o.on("--token TOKEN", "the server's auth token (default: IGNITER_LEDGER_TOKEN)") { |v| options[:token] = v }
            o.on("-h", "--help", "this text") do
              @err.puts(o)
              return nil
            end
          end
          rest = parser.parse(argv)
          raise UsageError, "unexpected argument #{rest.first.inspect}" unless rest.empty?
          raise UsageError, "give one of --path or --url" unless options[:path].nil? ^ options[:url].nil?

          options
        rescue OptionParser::ParseError => e
          raise UsageError, e.message
        end

        def http_url(address)
          address.match?(%r{\Ahttps?://}i) ? address : "http://#{address}"
        end
      end

      register("mcp", Mcp)
    end
  end
end
