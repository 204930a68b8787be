# frozen_string_literal: true

module Igniter
  module Store
    class MCPAdapter
      # The tool set of the stdio MCP server: the adapter's read catalog
      # (read, query, causation_chain, storage_stats, …) plus `history`,
      # `stats` and, only when writes are allowed, `write`. One ledger,
      # local (an {IgniterStore}) or remote (a {RemoteDispatch} to a server's
      # HTTP API); the extra tools speak the same envelope protocol to either.
      class LedgerTools
        # Read tools of the stdio server beyond the adapter's.
        EXTRA_READ_TOOLS = %i[history stats].freeze
        # Tools enabled only with `--allow-writes`.
        WRITE_TOOLS = %i[write].freeze

        # A tool call that cannot run; the server reports it as a tool error.
        class ToolError < StandardError; end

        # @param target [IgniterStore, RemoteDispatch]
        # @param allow_writes [Boolean] list and run `write`
        # @raise [ArgumentError] for another target
        def initialize(target, allow_writes: false)
          @store = target.is_a?(IgniterStore) ? target : nil
          @remote = target.is_a?(RemoteDispatch) ? target : nil
          raise ArgumentError, "LedgerTools expects an IgniterStore or a RemoteDispatch, got #{target.class}" unless @store || @remote

          @adapter = MCPAdapter.new(@store ? @store.protocol : @remote)
          @names = READ_TOOLS + EXTRA_READ_TOOLS + (allow_writes ? WRITE_TOOLS : [])
        end

        # @return [Array<Hash>] `{name:, description:, input_schema:}`, read tools first
        def list
          @names.map { |name| ToolCatalog.entry(name) }
        end

        # @param name [String]
        # @return [Boolean]
        def tool?(name)
          @names.any? { |tool| tool.to_s == name.to_s }
        end

        # Runs one tool.
        # @param name [String] a listed tool
        # @param arguments [Hash] String or Symbol keys
        # @return [Object] the tool's result (JSON-encodable)
        # @raise [ToolError] missing arguments, a refused write, a failed read
        def call(name, arguments)
          tool = @names.find { |t| t.to_s == name.to_s } or raise ToolError, "Unknown tool: #{name}"
          args = Protocol.symbolize_top(arguments)
          missing = Array(ToolCatalog::SCHEMAS.fetch(tool)[:required]).reject { |field| args.key?(field.to_sym) }
          raise ToolError, "#{tool}: missing required argument#{"s" if missing.size > 1} #{missing.join(", ")}" unless missing.empty?

          case tool
          when :history then history(args)
          when :stats then stats
          when :write then write(args)
          else catalog(tool, args)
          end
        end

        private

        def catalog(tool, args)
          response = @adapter.call_tool(tool, args)
          raise ToolError, response[:error] if response[:status] == :error

          response[:result]
        end

        # The envelope `history` op: transaction-time bounds (since, as_of)
        # and valid-time bounds (valid_from, valid_to; doc/bitemporal.md),
        # facts whole as the op sends them (`symbols`, ISO-8601 times).
        def history(args)
          packet = { store: args[:store], key: args[:key] }
                   .merge(ToolArguments.times(args, :since, :as_of, :valid_from, :valid_to))
          facts = envelope(:history, packet)[:facts]
          { store: args[:store], key: args[:key], facts: facts, count: facts.size }
        end

        def write(args)
          receipt = envelope(:write, args.slice(:store, :key, :value, :causation, :valid_time))
          data = receipt.respond_to?(:to_h) ? receipt.to_h : receipt
          raise ToolError, "write rejected: #{Array(data[:errors]).join("; ")}" unless data[:status].to_s == "accepted"

          data
        end

        # The envelope `stats` op, answered by the store or the server (which
        # counts its own facts: nothing is replayed here).
        def stats
          envelope(:stats, {})
        end

        # One envelope through the store's own router or the remote server.
        def envelope(op, packet)
          response =
            if @store
              @store.protocol.dispatch(protocol: "igniter_store", op: op, packet: packet)
            else
              @remote.dispatch(op: op, packet: packet, request_id: "mcp_#{SecureRandom.hex(8)}")
            end
          raise ToolError, response[:error].to_s unless response[:status].to_s == "ok"

          response[:result]
        end
      end
    end
  end
end
