# frozen_string_literal: true

require "json"
require_relative "ledger_tools"

module Igniter
  module Store
    class MCPAdapter
      # A Model Context Protocol server over stdio: JSON-RPC 2.0 messages,
      # one per line, read from +input+ and answered on +output+; nothing
      # else is ever written to +output+ (diagnostics go to +log+).
      #
      # Methods: `initialize` (protocol version negotiation: the client's
      # version when it is one of {PROTOCOL_VERSIONS}, else the newest),
      # `notifications/initialized`, `ping`, `tools/list` and `tools/call`
      # over a {LedgerTools}. A tool that fails answers a result with
      # `isError: true` and the reason as text (so a model can correct
      # itself); a malformed message, an unknown method or tool, or params of
      # the wrong shape answer a JSON-RPC error with the standard code.
      class StdioServer
        # Newest first; the MCP revisions whose tool methods this server speaks.
        PROTOCOL_VERSIONS = %w[2025-11-25 2025-06-18 2025-03-26 2024-11-05].freeze
        # Revisions whose tool results may carry `structuredContent`.
        STRUCTURED_SINCE = "2025-06-18"

        # JSON-RPC error code: the line is not JSON.
        PARSE_ERROR = -32_700
        # JSON-RPC error code: not a request object.
        INVALID_REQUEST = -32_600
        # JSON-RPC error code: unknown method.
        METHOD_NOT_FOUND = -32_601
        # JSON-RPC error code: bad params.
        INVALID_PARAMS = -32_602
        # JSON-RPC error code: the server failed.
        INTERNAL_ERROR = -32_603

        # What the server tells an MCP client about the ledger at `initialize`.
        INSTRUCTIONS = "An append-only, bitemporal fact ledger. Facts are never changed: every write adds a " \
                       "version. Use stats to see the stores, read/history for one key, query for a store's " \
                       "latest values, causation_chain/lineage for where a value came from."

        # @return [String, nil] the negotiated protocol version (nil before `initialize`)
        attr_reader :protocol_version

        # @param tools [LedgerTools]
        # @param input [IO] newline-delimited JSON-RPC from the client
        # @param output [IO] newline-delimited JSON-RPC to the client, and nothing else
        # @param log [#puts] diagnostics (stderr)
        def initialize(tools, input:, output:, log: $stderr)
          @tools = tools
          @input = input
          @output = output
          @log = log
          @protocol_version = nil
          @initialized = false
        end

        # Serves until the input ends.
        # @return [void]
        def run
          while (line = @input.gets)
            next if line.strip.empty?

            reply = handle_line(line)
            write(reply) unless reply.nil?
          end
          nil
        end

        # @param line [String] one JSON-RPC message (or batch)
        # @return [Hash, Array, nil] the response(s); nil for notifications only
        def handle_line(line)
          message = JSON.parse(line)
        rescue JSON::ParserError
          error_response(nil, PARSE_ERROR, "Parse error: the line is not valid JSON")
        else
          return handle(message) unless message.is_a?(Array)
          return error_response(nil, INVALID_REQUEST, "Invalid Request: empty batch") if message.empty?

          replies = message.map { |item| handle(item) }.compact
          replies.empty? ? nil : replies
        end

        private

        # @return [Hash, nil] the response; nil for a notification
        def handle(message)
          unless message.is_a?(Hash) && message["jsonrpc"] == "2.0" && message["method"].is_a?(String)
            id = message.is_a?(Hash) && valid_id?(message["id"]) ? message["id"] : nil
            return error_response(id, INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC 2.0 object with "jsonrpc": "2.0" and a "method"')
          end
          return notification(message) unless message.key?("id")
          return error_response(nil, INVALID_REQUEST, "Invalid Request: id must be a string or an integer") unless valid_id?(message["id"])

          params = message.fetch("params", {})
          return error_response(message["id"], INVALID_PARAMS, "Invalid params: params must be an object") unless params.is_a?(Hash)

          result = request(message["method"], params)
          result.is_a?(RpcError) ? error_response(message["id"], result.code, result.message) : { jsonrpc: "2.0", id: message["id"], result: result }
        rescue StandardError => e
          @log.puts("igniter-ledger mcp: #{e.class}: #{e.message}")
          error_response(message.is_a?(Hash) ? message["id"] : nil, INTERNAL_ERROR, "Internal error: #{e.class}")
        end

        # A JSON-RPC error to answer with: its code and message.
        RpcError = Struct.new(:code, :message)

        def request(method, params)
          case method
          when "initialize" then initialize_session(params)
          when "ping" then {}
          when "tools/list" then { tools: @tools.list.map { |t| { name: t[:name], description: t[:description], inputSchema: t[:input_schema] } } }
          when "tools/call" then call_tool(params)
          else RpcError.new(METHOD_NOT_FOUND, "Method not found: #{method}")
          end
        end

        def notification(message)
          @initialized = true if message["method"] == "notifications/initialized"
          nil # notifications are never answered, known or not
        end

        def initialize_session(params)
          requested = params["protocolVersion"]
          return RpcError.new(INVALID_PARAMS, "Invalid params: protocolVersion must be a string") unless requested.is_a?(String)

          @protocol_version = PROTOCOL_VERSIONS.include?(requested) ? requested : PROTOCOL_VERSIONS.first
          @log.puts("igniter-ledger mcp: #{client_name(params)} connected (protocol #{@protocol_version})")
          { protocolVersion: @protocol_version, capabilities: { tools: { listChanged: false } },
            serverInfo: { name: "igniter-ledger", version: Store::VERSION }, instructions: INSTRUCTIONS }
        end

        def call_tool(params)
          name = params["name"]
          return RpcError.new(INVALID_PARAMS, "Invalid params: tools/call needs a tool name") unless name.is_a?(String)
          return RpcError.new(INVALID_PARAMS, "Unknown tool: #{name}") unless @tools.tool?(name)

          arguments = params.fetch("arguments", {}) || {}
          return RpcError.new(INVALID_PARAMS, "Invalid params: arguments must be an object") unless arguments.is_a?(Hash)

          tool_result(@tools.call(name, arguments))
        rescue LedgerTools::ToolError, ArgumentError, KeyError => e
          tool_error(Transport::ErrorText.bounded(e, TransportSupport::MAX_ERROR_LENGTH))
        rescue StandardError => e
          @log.puts("igniter-ledger mcp: tool #{name} failed: #{e.class}: #{e.message}")
          tool_error("#{name} failed: #{e.class}: #{Transport::ErrorText.bounded(e, TransportSupport::MAX_ERROR_LENGTH)}")
        end

        def tool_result(result)
          text = JSON.generate(result)
          reply = { content: [{ type: "text", text: text }], isError: false }
          data = JSON.parse(text)
          reply[:structuredContent] = data if data.is_a?(Hash) && @protocol_version.to_s >= STRUCTURED_SINCE
          reply
        end

        def tool_error(message)
          { content: [{ type: "text", text: message }], isError: true }
        end

        def error_response(id, code, message)
          { jsonrpc: "2.0", id: id, error: { code: code, message: message } }
        end

        def valid_id?(id)
          id.is_a?(String) || id.is_a?(Integer)
        end

        def client_name(params)
          info = params["clientInfo"]
          info.is_a?(Hash) ? "#{info["name"]} #{info["version"]}".strip : "a client"
        end

        def write(reply)
          @output.write("#{JSON.generate(reply)}\n")
          @output.flush
        end
      end
    end
  end
end
