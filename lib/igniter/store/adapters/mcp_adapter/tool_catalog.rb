# frozen_string_literal: true

module Igniter
  module Store
    class MCPAdapter
      # Descriptions and JSON-schema input shapes of the read tools
      # (exact 0.5.2 strings; MCP hosts show them to models).
      module ToolCatalog
        # Tool name => its description (0.5.2's texts).
        DESCRIPTIONS = {
          metadata_snapshot: "Return the full protocol registry metadata snapshot.",
          descriptor_snapshot: "Return registered descriptors grouped by kind.",
          observability_snapshot: "Return the canonical observability snapshot: status, alerts, storage.",
          read: "Read the current (or as_of) value for one key.",
          query: "Query a bounded store view with optional where/order/limit/as_of.",
          resolve: "Resolve a registered relation from a source key.",
          causation_chain: "Return the compact causation chain for a store/key.",
          lineage: "Return read-only lineage proof metadata for a store/key.",
          fact_ref: "Return compact metadata for a fact id without exposing fact value.",
          replay: "Replay bounded facts by store, time range, or limit.",
          sync_profile: "Return a sync hub profile (facts + descriptors + cursor).",
          storage_stats: "Return aggregate storage statistics for one or all stores.",
          segment_manifest: "Return per-segment storage manifest for one or all stores.",
          compaction_activity: "Return normalized compaction lifecycle activity (retention compact, exact prune, segment purge).",
          # Tools of the stdio MCP server (`igniter-ledger mcp`), beyond 0.5.2's catalog.
          history: "Return every fact (version) of one store/key, oldest first, optionally within since/as_of transaction times; " \
                   "with valid_from/valid_to, the facts in effect at those valid times, in valid-time order.",
          stats: "Return how many facts and keys each store holds, and the ledger's totals.",
          write: "Write a new value for one store/key (a new fact; earlier facts stay). Only when the server allows writes."
        }.freeze

        # JSON-schema of a string argument.
        STRING = { type: "string" }.freeze
        # JSON-schema of a number argument.
        NUMBER = { type: "number" }.freeze
        # JSON-schema of an integer argument.
        INTEGER = { type: "integer" }.freeze
        # Schema properties of a (store, key) pair.
        STORE_KEY = { store: STRING, key: STRING }.freeze
        # A valid time (doc/bitemporal.md): seconds or ISO-8601, as the HTTP API takes it.
        VALID_TIME = { type: %w[number string],
                       description: "Valid time: seconds since the epoch or an ISO-8601 time with a zone " \
                                    "(2026-11-26T10:30:21Z)" }.freeze
        # `valid_at` of read: the value that was true then (as known at as_of).
        VALID_AT = VALID_TIME.merge(description: "#{VALID_TIME[:description]}; the value valid at that time, " \
                                                 "as known at as_of (doc/bitemporal.md)").freeze

        # Tool name => its input schema.
        SCHEMAS = {
          metadata_snapshot: { type: "object", properties: {} },
          descriptor_snapshot: { type: "object", properties: {} },
          observability_snapshot: { type: "object", properties: {} },
          read: { type: "object", properties: { store: STRING, key: STRING, as_of: NUMBER, valid_at: VALID_AT },
                  required: %w[store key] },
          query: {
            type: "object",
            properties: { store: STRING, where: { type: "object" }, order: STRING, limit: INTEGER, as_of: NUMBER },
            required: %w[store limit]
          },
          resolve: { type: "object", properties: { relation: STRING, from: STRING, as_of: NUMBER },
                     required: %w[relation from] },
          causation_chain: { type: "object", properties: STORE_KEY, required: %w[store key] },
          lineage: { type: "object", properties: STORE_KEY, required: %w[store key] },
          fact_ref: { type: "object", properties: { fact_id: STRING }, required: %w[fact_id] },
          replay: { type: "object", properties: { store: STRING, from: NUMBER, to: NUMBER, limit: INTEGER } },
          sync_profile: { type: "object",
                          properties: { stores: { type: "array" }, cursor: { type: "object" }, as_of: NUMBER } },
          storage_stats: { type: "object", properties: { store: STRING } },
          segment_manifest: { type: "object", properties: { store: STRING } },
          compaction_activity: { type: "object",
                                 properties: { store: STRING, kind: STRING, since: NUMBER, limit: INTEGER } },
          history: { type: "object",
                     properties: { store: STRING, key: STRING, since: NUMBER, as_of: NUMBER, valid_from: VALID_TIME,
                                   valid_to: VALID_TIME },
                     required: %w[store key] },
          stats: { type: "object", properties: {} },
          write: { type: "object",
                   properties: { store: STRING, key: STRING, value: {}, causation: STRING, valid_time: NUMBER },
                   required: %w[store key value] }
        }.freeze

        module_function

        # @param name [Symbol]
        # @return [Hash] `{name:, description:, input_schema:}` (fresh copies)
        def entry(name)
          { name: name.to_s, description: DESCRIPTIONS.fetch(name), input_schema: Protocol.deep_copy(SCHEMAS.fetch(name)) }
        end
      end
    end
  end
end
