# frozen_string_literal: true

# Envelope-protocol transports (spec 05 §9-12): TCPAdapter, HTTPAdapter
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
