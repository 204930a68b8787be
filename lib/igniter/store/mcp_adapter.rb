# frozen_string_literal: true

require "set"
require "securerandom"

module Igniter
  module Store
    # Read-only tools over the open protocol for an external MCP host
    # (doc/servers.md "Envelope transports"). Not an MCP server: it exposes {#tool_list} and
    # {#call_tool}; the host owns the JSON-RPC transport. Works in-process
    # (an Interpreter or IgniterStore) or against a remote {HTTPAdapter}.
    class MCPAdapter
      # Version of the `call_tool` reply.
      SCHEMA_VERSION = 1
      # The tools, all read-only, in listing order.
      READ_TOOLS = %i[
        metadata_snapshot descriptor_snapshot observability_snapshot read query resolve causation_chain lineage
        fact_ref replay sync_profile storage_stats segment_manifest compaction_activity
      ].freeze
      # Tool => the envelope op it runs.
      TOOL_TO_OP = READ_TOOLS.to_h { |tool| [tool, tool] }.merge(sync_profile: :sync_hub_profile).freeze

      # @param endpoint [String] base URL of an HTTPAdapter (path defaults to /v1/dispatch)
      # @param enabled_tools [Array<Symbol, String>]
      # @param token [String, nil] Bearer token for the remote adapter
      # @param open_timeout [Numeric] seconds to connect
      # @param read_timeout [Numeric] seconds to wait for a response
      # @return [MCPAdapter]
      def self.remote(endpoint, enabled_tools: READ_TOOLS, token: nil,
                      open_timeout: RemoteDispatch::DEFAULT_OPEN_TIMEOUT,
                      read_timeout: RemoteDispatch::DEFAULT_READ_TIMEOUT)
        remote = RemoteDispatch.new(endpoint, token: token, open_timeout: open_timeout, read_timeout: read_timeout)
        new(remote, enabled_tools: enabled_tools)
      end

      # @return [Set<Symbol>]
      attr_reader :enabled_tools

      # @param target [Protocol::Interpreter, IgniterStore, RemoteDispatch]
      # @param enabled_tools [Array<Symbol, String>]
      # @param metrics [ServerMetrics, nil] counts each call (transport `mcp`, op = the tool)
      # @raise [ArgumentError] for any other target
      def initialize(target, enabled_tools: READ_TOOLS, metrics: nil)
        @runner =
          case target
          when Protocol::Interpreter then EmbeddedTools.new(target)
          when IgniterStore then EmbeddedTools.new(Protocol::Interpreter.new(target))
          when RemoteDispatch then RemoteTools.new(target)
          else
            raise ArgumentError,
                  "MCPAdapter expects a Protocol::Interpreter, IgniterStore, or RemoteDispatch, got #{target.class}"
          end
        @remote = target.is_a?(RemoteDispatch)
        @enabled_tools = Array(enabled_tools).to_set { |tool| tool.to_sym }.freeze
        @metrics = metrics
      end

      # @return [Array<Hash>] `{name:, description:, input_schema:}` of the enabled read tools, in READ_TOOLS order
      def tool_list
        READ_TOOLS.select { |tool| @enabled_tools.include?(tool) }.map { |tool| ToolCatalog.entry(tool) }
      end

      # Runs one tool. Never raises: failures come back as `status: :error`.
      #
      # @param name [Symbol, String]
      # @param arguments [Hash] tool arguments; `request_id` is taken out and echoed
      # @return [Hash] `schema_version, request_id, source_protocol_op, status` and `result` or `error`
      def call_tool(name, arguments = {})
        started = Transport::Clock.monotonic
        response = run_tool(name, arguments)
        count(name, response, Transport::Clock.monotonic - started) if @metrics
        response
      end

      private

      def run_tool(name, arguments)
        request_id = nil
        tool = name.respond_to?(:to_sym) ? name.to_sym : name
        source_op = TOOL_TO_OP[tool]
        args = arguments.nil? ? {} : Protocol.symbolize_top(arguments)
        given_id = args.delete(:request_id)
        request_id = given_id || "mcp_#{SecureRandom.hex(8)}"
        return error(request_id, source_op, "Tool #{tool.inspect} is not enabled") unless @enabled_tools.include?(tool)

        ok(request_id, source_op, run(tool, args, request_id))
      rescue ArgumentError => e
        error(request_id, source_op, TransportSupport.safe_message(e))
      rescue StandardError => e
        error(request_id, source_op, "Internal error: #{TransportSupport.safe_message(e)}")
      end

      def count(name, response, duration)
        tool = READ_TOOLS.find { |known| known.to_s == name.to_s }&.to_s || "unknown"
        status = response[:status].to_s
        @metrics.record_request(connection_id: nil, op: tool, transport: :mcp, status: status, duration: duration)
        @metrics.record_error(op: tool, error_class: "ToolError", transport: :mcp) unless status == "ok"
        result = response[:result]
        replayed = result.is_a?(Hash) && tool == "replay" ? Array(result[:facts]).size : 0
        @metrics.record_facts_replayed(count: replayed, transport: :mcp) if replayed.positive?
      rescue StandardError
        nil
      end

      # Enabled tools outside READ_TOOLS (no mutating tool exists) answer nil.
      def run(tool, args, request_id)
        return nil unless READ_TOOLS.include?(tool)

        @remote ? @runner.call(tool, args, request_id) : @runner.call(tool, args)
      end

      def ok(request_id, source_op, result)
        { schema_version: SCHEMA_VERSION, request_id: request_id, source_protocol_op: source_op, status: :ok,
          result: result }
      end

      def error(request_id, source_op, message)
        { schema_version: SCHEMA_VERSION, request_id: request_id, source_protocol_op: source_op, status: :error,
          error: message }
      end
    end
  end
end

require_relative "mcp/tool_catalog"
require_relative "mcp/remote_dispatch"
require_relative "mcp/embedded_tools"
require_relative "mcp/remote_tools"
