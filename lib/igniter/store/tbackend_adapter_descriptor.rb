# frozen_string_literal: true

require "json"
require "digest"

module Igniter
  module Store
    # Metadata-only description of this ledger as a TBackend adapter
    # (doc/protocol.md "TBackend adapter descriptor"): which TBackend operations, hooks, capabilities and
    # history axes the ledger's protocol can back, with stable content
    # hashes. It never touches a ledger and has no operational methods.
    class TBackendAdapterDescriptor
      # `kind` of the payload.
      KIND = "ledger_tbackend_adapter_descriptor"
      # `kind` of a diagnostics answer.
      DIAGNOSTICS_KIND = "ledger_tbackend_adapter_descriptor_diagnostics"
      # `adapter_kind` of the payload.
      ADAPTER_KIND = "ledger_open_protocol"
      # `adapter_version` of the payload.
      ADAPTER_VERSION = "0.1.0"
      # TBackend contract version described.
      CONTRACT_VERSION = "tbackend.v0"
      # `protocol` of the payload.
      PROTOCOL = "igniter_store"
      # `evidence_mode` of the payload: every write answers a receipt.
      EVIDENCE_MODE = "receipt_required"
      # `adapter_ref` when none is given.
      DEFAULT_ADAPTER_REF = "adapter:ledger-open-protocol/package-descriptor-v0"
      # Protocol ops that cover the TBackend `read` group.
      READ_OPS = %w[read query fact_ref].freeze
      # Protocol ops that cover the TBackend `append` group.
      APPEND_OPS = %w[write write_fact append].freeze
      # Protocol ops that cover the TBackend `replay` group.
      REPLAY_OPS = %w[replay sync_hub_profile].freeze
      # Protocol ops that cover the TBackend `snapshot` group.
      SNAPSHOT_OPS = %w[metadata_snapshot descriptor_snapshot sync_hub_profile].freeze
      # TBackend operation group => the protocol ops that cover it.
      TBACKEND_OPS = {
        "read" => READ_OPS, "append" => APPEND_OPS, "replay" => REPLAY_OPS, "snapshot" => SNAPSHOT_OPS,
        "compact" => %w[compact].freeze, "subscribe" => %w[subscribe].freeze
      }.freeze
      # How replay cursors behave, as the payload states it.
      CURSOR_POLICY = { ordered: "forward", cursor_kinds: ["timestamp"].freeze, truncation_reported: true,
                        tie_breaker: "timestamp_then_fact_id_required" }.freeze
      # What the descriptor does not authorize (it is metadata only).
      NON_AUTHORIZATION = {
        runtime_binding: false, ledger_reads: false, ledger_writes: false, ledger_append: false,
        ledger_replay: false, ledger_compact: false, ledger_subscribe: false, migration_execution: false
      }.freeze

      # @return [Hash] normalized copies (Symbol keys wherever a key has +to_sym+)
      attr_reader :metadata_snapshot, :descriptor_snapshot
      # @return [Hash] deep-frozen
      attr_reader :payload
      # @return [Array<String>]
      attr_reader :ledger_protocol_ops, :supported_tbackend_ops, :hook_methods, :capabilities, :history_axes

      # Same as {#initialize}.
      # @return [TBackendAdapterDescriptor]
      def self.build(**kwargs)
        new(**kwargs)
      end

      # "sha256:" + hex SHA-256 of the canonical JSON of +value+: Hash keys
      # as sorted Strings (a Symbol key wins over the same-named String key),
      # Symbols as Strings, other scalars as JSON gives them.
      # @return [String]
      def self.canonical_hash(value)
        "sha256:#{Digest::SHA256.hexdigest(JSON.generate(canonical(value)))}"
      end

      # @return [Object] the JSON-ready canonical form of +value+
      def self.canonical(value)
        case value
        when Hash
          chosen = {}
          value.each do |k, v|
            name = k.to_s
            next if chosen.key?(name) && !k.is_a?(Symbol)

            chosen[name] = v
          end
          chosen.keys.sort.to_h { |name| [name, canonical(chosen[name])] }
        when Array then value.map { |v| canonical(v) }
        when Symbol then value.to_s
        else value
        end
      end

      # @param metadata_snapshot [#to_h, nil] e.g. {Protocol::Interpreter#metadata_snapshot}
      # @param descriptor_snapshot [#to_h, nil]
      # @param schema_fingerprint [Object] required, kept as given
      # @param adapter_ref [String, nil]
      # @param ledger_protocol_ops [Array, nil] defaults to the snapshot's
      #   +ledger_protocol_ops+ / +protocol_ops+
      # @raise [ArgumentError] for a non-Hash snapshot or a nil fingerprint
      def initialize(metadata_snapshot:, descriptor_snapshot:, schema_fingerprint:, adapter_ref: nil,
                     ledger_protocol_ops: nil)
        @metadata_snapshot = self.class.normalize(metadata_snapshot, "metadata_snapshot")
        @descriptor_snapshot = self.class.normalize(descriptor_snapshot, "descriptor_snapshot")
        raise ArgumentError, "schema_fingerprint is required" if schema_fingerprint.nil?

        ops = ledger_protocol_ops || @metadata_snapshot[:ledger_protocol_ops] || @metadata_snapshot[:protocol_ops]
        @ledger_protocol_ops = Array(ops).map(&:to_s).uniq.freeze
        @supported_tbackend_ops = TBACKEND_OPS.filter_map { |op, list| op if list.intersect?(@ledger_protocol_ops) }.freeze
        derive_history_claims
        @payload = build_payload(schema_fingerprint, adapter_ref || DEFAULT_ADAPTER_REF)
        freeze
      end

      # @return [Hash] the payload
      def to_h
        payload
      end

      # @return [String]
      def descriptor_hash
        payload[:descriptor_hash]
      end

      # @return [String]
      def descriptor_registry_hash
        payload[:descriptor_registry_hash]
      end

      # @return [Hash]
      def cursor_policy
        payload[:cursor_policy]
      end

      # What a consumer's requirement lacks here (doc/protocol.md "TBackend adapter descriptor").
      # @param requirement [#to_h] +required_ops, required_hook_methods,
      #   required_capabilities, history_axes, schema_fingerprint+
      # @raise [ArgumentError] for a non-Hash requirement
      # @return [Hash] deep-frozen; +status+ "ok" or "blocked"
      def diagnostics(requirement = {})
        req = self.class.normalize(requirement, "requirement")
        missing = {
          missing_ops: missing(req[:required_ops], supported_tbackend_ops),
          missing_hook_methods: missing(req[:required_hook_methods], hook_methods),
          missing_capabilities: missing(req[:required_capabilities], capabilities),
          missing_axes: missing(req[:history_axes], history_axes)
        }
        match = req[:schema_fingerprint].nil? || req[:schema_fingerprint] == payload[:schema_fingerprint]
        status = missing.values.all?(&:empty?) && match ? "ok" : "blocked"
        self.class.deep_freeze(
          { kind: DIAGNOSTICS_KIND, status: status, **missing, schema_fingerprint_match: match,
            descriptor_hash: descriptor_hash, descriptor_registry_hash: descriptor_registry_hash }
        )
      end

      # @api private
      def self.normalize(value, label)
        return {} if value.nil?
        raise ArgumentError, "#{label} must be a hash" unless value.respond_to?(:to_h)

        symbolize(value.to_h)
      end

      # Keys that cannot become Symbols (e.g. Integers) are kept as they are.
      # @api private
      def self.symbolize(value)
        case value
        when Hash then value.to_h { |k, v| [k.respond_to?(:to_sym) ? k.to_sym : k, symbolize(v)] }
        when Array then value.map { |v| symbolize(v) }
        else value
        end
      end

      # Copy whose Strings are copies too, so freezing it never freezes a
      # caller's object.
      # @api private
      def self.frozen_copy(value)
        case value
        when Hash then value.to_h { |k, v| [k, frozen_copy(v)] }
        when Array then value.map { |v| frozen_copy(v) }
        when String then value.frozen? ? value : value.dup
        else value
        end
      end

      # Freezes +value+ and every Hash value and Array element inside it.
      # @return [Object] +value+
      # @api private
      def self.deep_freeze(value)
        case value
        when Hash then value.each_value { |v| deep_freeze(v) }
        when Array then value.each { |v| deep_freeze(v) }
        end
        value.freeze
      end

      # Store/history descriptors arrive as an Array of descriptors or, from a
      # real metadata snapshot, as a Hash of name => descriptor (0.5.2 crashed
      # on the latter).
      # @api private
      def self.descriptors(collection)
        case collection
        when nil then []
        when Hash
          return [] if collection.empty?

          collection.values.all?(Hash) ? collection.values : [collection]
        else Array(collection).select { |d| d.is_a?(Hash) }
        end
      end

      private

      def derive_history_claims
        @hook_methods = []
        @capabilities = []
        @history_axes = []
        stores = self.class.descriptors(@metadata_snapshot[:stores]) + self.class.descriptors(@descriptor_snapshot[:stores])
        if supported_tbackend_ops.include?("read") &&
           stores.any? { |s| Array(s[:capabilities]).map(&:to_s).include?("as_of_read") }
          @hook_methods << "read_as_of"
          @capabilities << "history_read"
          @history_axes << "valid_time"
        end
        histories = self.class.descriptors(@metadata_snapshot[:histories]) +
                    self.class.descriptors(@descriptor_snapshot[:histories])
        unless histories.empty?
          @hook_methods << "bihistory_at"
          @capabilities << "bihistory_read"
          @history_axes << "transaction_time"
        end
        [@hook_methods, @capabilities, @history_axes].each(&:freeze)
      end

      def build_payload(schema_fingerprint, adapter_ref)
        payload = {
          kind: KIND, adapter_kind: ADAPTER_KIND, adapter_ref: adapter_ref, adapter_version: ADAPTER_VERSION,
          contract_version: CONTRACT_VERSION, protocol: PROTOCOL,
          protocol_schema_version: @metadata_snapshot[:schema_version] || @descriptor_snapshot[:schema_version],
          ledger_protocol_ops: ledger_protocol_ops, supported_tbackend_ops: supported_tbackend_ops,
          hook_methods: hook_methods, capabilities: capabilities, history_axes: history_axes,
          cursor_policy: CURSOR_POLICY, schema_fingerprint: schema_fingerprint,
          descriptor_registry_hash: self.class.canonical_hash(
            { metadata_snapshot: @metadata_snapshot, descriptor_snapshot: @descriptor_snapshot }
          ),
          evidence_mode: EVIDENCE_MODE,
          source_snapshots: { metadata_snapshot_present: true, descriptor_snapshot_present: true },
          non_authorization: NON_AUTHORIZATION
        }
        payload[:descriptor_hash] = self.class.canonical_hash(payload)
        self.class.deep_freeze(self.class.frozen_copy(payload))
      end

      def missing(required, available)
        Array(required).map(&:to_s).reject { |item| available.include?(item) }
      end
    end
  end
end
