# frozen_string_literal: true

require "json"
require "digest"
require "set"
require "time"
require "monitor"

module Igniter
  module Store
    # Ledger Open Protocol (doc/protocol.md): descriptor registration, protocol fact
    # IO, metadata export, replay / sync profiles and the wire envelope.
    module Protocol
      # @param store [IgniterStore, nil] a fresh in-memory store when nil
      # @return [Interpreter]
      def self.new(store = nil)
        Interpreter.new(store || IgniterStore.new)
      end

      # Top-level keys to Symbols; nested Hashes are left as given.
      # @param hash [Hash]
      # @return [Hash] a new Hash
      # @raise [ArgumentError] for a non-Hash
      def self.symbolize_top(hash)
        raise ArgumentError, "expected a Hash, got #{hash.class}" unless hash.is_a?(Hash)

        hash.transform_keys { |k| k.respond_to?(:to_sym) ? k.to_sym : k }
      end

      # Copies Hashes and Arrays at every depth (leaves shared), so snapshot
      # readers cannot reach into the live registries.
      # @return [Object]
      def self.deep_copy(obj)
        case obj
        when Hash then obj.to_h { |k, v| [k, deep_copy(v)] }
        when Array then obj.map { |v| deep_copy(v) }
        else obj
        end
      end

      # A store, history, field or relation name as a Symbol.
      # @param field [String] named in the error
      # @return [Symbol]
      # @raise [ArgumentError] for a value that is neither Symbol nor String
      #   (instead of a multi-line NoMethodError)
      def self.name!(value, field)
        return value if value.is_a?(Symbol)
        return value.to_sym if value.is_a?(String)

        raise ArgumentError, "#{field}: must be a Symbol or String, got #{value.inspect}"
      end

      # @return [String] local time, ISO-8601 with milliseconds and offset
      def self.iso_now
        Time.now.iso8601(3)
      end
    end
  end
end

require_relative "protocol/receipt"
require_relative "protocol/time_param"
require_relative "protocol/packet_fields"
require_relative "protocol/fact_packet"
require_relative "protocol/fact_document"
require_relative "protocol/replay_cursor"
require_relative "protocol/fingerprint"
require_relative "protocol/registry"
require_relative "protocol/descriptor_journal"
require_relative "protocol/sync_profile"
require_relative "protocol/handlers/base"
require_relative "protocol/handlers/store_handler"
require_relative "protocol/handlers/history_handler"
require_relative "protocol/handlers/access_path_handler"
require_relative "protocol/handlers/relation_handler"
require_relative "protocol/handlers/projection_handler"
require_relative "protocol/handlers/derivation_handler"
require_relative "protocol/handlers/command_handler"
require_relative "protocol/handlers/effect_handler"
require_relative "protocol/handlers/subscription_handler"
require_relative "protocol/wire_envelope"
require_relative "protocol/interpreter"
