# frozen_string_literal: true

# Envelope-protocol transports (doc/servers.md "Envelope transports"): TCPAdapter, HTTPAdapter
# (Rack app, SSE) and MCPAdapter. Required from lib/igniter/store.rb.

require "socket"
require "json"
require "securerandom"
require "io/wait"

module Igniter
  module Store
    # Rules shared by the envelope transports: which ops need the shared
    # secret, how tokens are compared and what an error may tell a remote peer.
    module TransportSupport
      # Envelope ops that change the store; only these need `auth_token`.
      MUTATING_OPS = %w[register_descriptor write append write_fact].freeze
      # Longest error text sent to a remote peer.
      MAX_ERROR_LENGTH = 500

      module_function

      # @param op [String, Symbol, nil]
      # @return [Boolean]
      def mutating_op?(op)
        MUTATING_OPS.include?(op.to_s)
      end

      # The first line of the exception's own message (see
      # Transport::ErrorText), at most {MAX_ERROR_LENGTH} characters.
      # @param error [Exception]
      # @return [String]
      def safe_message(error)
        Transport::ErrorText.bounded(error, MAX_ERROR_LENGTH)
      end

      # Parses a request body with symbolized names.
      # @param body [String] any encoding; read as UTF-8
      # @return [Array(Object, nil), Array(nil, String)] the value, or
      #   "Invalid JSON: <reason>" (without the json gem's source line prefix)
      def parse_json(body)
        text = body.dup.force_encoding(Encoding::UTF_8)
        return [nil, "Invalid JSON: body is not valid UTF-8"] unless text.valid_encoding?

        [JSON.parse(text, symbolize_names: true), nil]
      rescue JSON::ParserError, EncodingError, ArgumentError => e
        [nil, "Invalid JSON: #{safe_message(e).sub(/\A\d+: /, "")}"]
      end

      # Error class label (metrics) of each failure kind of an envelope
      # request; the same words the HTTP statuses of those failures get.
      ERROR_CLASSES = {
        bad_envelope: "BadRequest", unknown_op: "NotFound", invalid_packet: "UnprocessableEntity",
        internal: "InternalError", unauthorized: "Unauthorized", forbidden: "Forbidden"
      }.freeze

      # Envelope ops that write facts (counted as facts written when accepted).
      FACT_WRITING_OPS = %w[write append write_fact].freeze
      # Known envelope op names, for metric labels.
      ENVELOPE_OPS = Protocol::WireEnvelope::OPERATIONS.map(&:to_s).freeze

      # @param op [Object] the envelope's `op`
      # @return [String] the op when it is one the router knows, else "unknown"
      #   (metric labels and log fields stay a bounded set whatever clients send)
      def op_label(op)
        name = op.to_s
        ENVELOPE_OPS.include?(name) ? name : "unknown"
      end

      # @param op [Object] the envelope's `op`
      # @return [Symbol] :write for mutating ops, :read for every other (unknown ones too)
      def access_of(op)
        mutating_op?(op) ? :write : :read
      end

      # Counts the facts an answered envelope wrote or sent.
      # @param metrics [ServerMetrics, nil]
      # @param transport [Symbol]
      # @param op [String] from {.op_label}
      # @param response [Hash] the response envelope (Ruby values, before JSON)
      # @return [nil]
      def count_facts(metrics, transport, op, response)
        return nil if metrics.nil? || response[:status].to_s != "ok"

        result = response[:result]
        if FACT_WRITING_OPS.include?(op)
          accepted = result.respond_to?(:accepted?) ? result.accepted? : result.is_a?(Hash) && result[:status].to_s == "accepted"
          metrics.record_facts_written(transport: transport) if accepted
        elsif (count = replayed_count(op, result))
          metrics.record_facts_replayed(count: count, transport: transport)
        end
        nil
      end

      # What a client is told about an envelope whose packet was refused
      # (a {Protocol::WireEnvelope::Failure} of kind :invalid_packet): what
      # is missing or wrong, not "Internal error".
      # @param error [Exception, nil] the failure's exception
      # @param op [Object] the envelope's op
      # @return [String]
      def packet_problem(error, op)
        if error.is_a?(KeyError) && error.respond_to?(:key)
          "#{op}: the packet lacks the required field #{error.key.to_s.inspect}"
        elsif error.is_a?(NoMethodError) || error.nil?
          "#{op}: the packet must be a JSON object"
        else
          "#{op}: #{safe_message(error)}"
        end
      end

      # @param value [Object] a parsed JSON value
      # @return [String] "an object", "an array", "a string", "null", "a boolean" or "a number"
      def json_kind(value)
        case value
        when Hash then "an object"
        when Array then "an array"
        when String then "a string"
        when nil then "null"
        when true, false then "a boolean"
        else "a number"
        end
      end

      def replayed_count(op, result)
        case op
        when "replay" then result.is_a?(Hash) ? Array(result[:facts]).size : nil
        when "sync_hub_profile" then result.respond_to?(:facts) ? Array(result.facts).size : nil
        end
      end
      private_class_method :replayed_count

      # Calls `logger.<level>(message)` when a logger was given; never raises.
      # @param logger [#warn, #info, nil] e.g. a ServerLogger
      def log(logger, level, message)
        logger&.public_send(level, message)
      rescue StandardError
        nil
      end
    end
  end
end

require_relative "transport/option_checks"
require_relative "tcp_adapter"
require_relative "http_adapter"
require_relative "mcp_adapter"
