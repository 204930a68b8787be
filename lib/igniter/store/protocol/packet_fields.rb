# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # The packet fields of each envelope op and the JSON type each takes.
      # The router checks a packet against them before the op runs, so a
      # field of the wrong type (`"limit": {}`) is a 422 naming the field
      # instead of an error deep inside the engine; the OpenAPI document of
      # the HTTP API describes the packets from the same table.
      module PacketFields
        # type => [check, what the error says it must be]
        TYPES = {
          name: [->(v) { v.is_a?(String) || v.is_a?(Symbol) }, "a string"],
          key: [->(v) { v.is_a?(String) || v.is_a?(Symbol) || v.is_a?(Integer) }, "a string"],
          string: [->(v) { v.is_a?(String) || v.is_a?(Symbol) }, "a string"],
          time: [->(v) { v.is_a?(Numeric) }, "seconds since the epoch or an ISO-8601 time"],
          # write/append: `false` means "no valid time" (as in the Ruby API)
          valid_time: [->(v) { v.is_a?(Numeric) || v == false }, "seconds since the epoch or an ISO-8601 time"],
          # the ops themselves refuse a negative one, in their own words
          limit: [->(v) { v.is_a?(Integer) }, "an integer"],
          integer: [->(v) { v.is_a?(Integer) }, "an integer"],
          object: [->(v) { v.is_a?(Hash) }, "an object"],
          names: [->(v) { v.is_a?(Array) ? v.all? { |s| s.is_a?(String) || s.is_a?(Symbol) } : v.is_a?(String) || v.is_a?(Symbol) },
                  "a store name or an array of them"],
          symbols: [->(v) { v.is_a?(Array) }, "an array of paths"],
          any: [->(_v) { true }, "any value"]
        }.freeze

        # op => { field => type }; required fields are listed in {REQUIRED}.
        # A field of type :time or :valid_time is a point in time: the router
        # reads it as seconds or ISO-8601 ({TimeParam}). The bitemporal
        # `valid_at` of read and `valid_from`/`valid_to` of history
        # (doc/bitemporal.md) are listed here like every other time, and so
        # reach the router, the type check and the OpenAPI document at once.
        FIELDS = {
          register_descriptor: { kind: :string, name: :string },
          write: { store: :name, key: :key, value: :any, causation: :string, valid_time: :valid_time,
                   term: :valid_time, producer: :any, derivation: :any, symbols: :symbols },
          append: { history: :name, event: :any, key: :key, partition_key: :name, valid_time: :valid_time,
                    term: :valid_time, schema_version: :integer, producer: :any, derivation: :any, symbols: :symbols },
          write_fact: { kind: :string, store: :name, key: :key, value: :any, causation: :string,
                        valid_time: :valid_time, term: :valid_time, producer: :any, derivation: :any },
          read: { store: :name, key: :key, as_of: :time, valid_at: :time },
          time_travel: { store: :name, key: :key, at: :time, valid_at: :time },
          history: { store: :name, key: :key, since: :time, as_of: :time, valid_from: :time, valid_to: :time },
          fact_by_id: { fact_id: :string },
          query: { store: :name, where: :object, order: :name, limit: :limit, as_of: :time, scope: :name },
          resolve: { relation: :name, from: :key, as_of: :time },
          causation_chain: { store: :name, key: :key },
          lineage: { store: :name, key: :key },
          fact_ref: { fact_id: :string },
          metadata_snapshot: {}, descriptor_snapshot: {}, observability_snapshot: {}, stats: {},
          sync_hub_profile: { as_of: :time, cursor: :object, stores: :names, limit: :limit },
          replay: { from: :time, to: :time, filter: :object, after: :object, limit: :limit },
          storage_stats: { store: :name }, segment_manifest: { store: :name },
          compaction_activity: { store: :name, kind: :string, since: :time, limit: :limit }
        }.freeze

        # op => fields the op cannot run without
        REQUIRED = {
          register_descriptor: %i[kind], write: %i[store key value], append: %i[history event],
          write_fact: %i[kind store key value], read: %i[store key], time_travel: %i[store key at], history: %i[store],
          fact_by_id: %i[fact_id],
          query: %i[store], resolve: %i[relation from], causation_chain: %i[store key], lineage: %i[store key],
          fact_ref: %i[fact_id]
        }.freeze

        # Types whose values are points in time.
        TIME_TYPES = %i[time valid_time].freeze

        module_function

        # @param op [Symbol]
        # @return [Array<Symbol>] the fields of +op+ that are points in time
        def time_fields(op)
          (FIELDS[op] || {}).filter_map { |field, type| field if TIME_TYPES.include?(type) }
        end

        # @param op [Symbol]
        # @param packet [Hash] Symbol top-level keys, times already read
        # @return [Hash] +packet+
        # @raise [ArgumentError] naming the first field of the wrong type
        def check!(op, packet)
          (FIELDS[op] || {}).each do |field, type|
            value = packet[field]
            next if value.nil?
            # Names keep the engine's own words for a wrong one.
            next Protocol.name!(value, field.to_s) if type == :name

            check, expected = TYPES.fetch(type)
            next if check.call(value)

            raise ArgumentError, "#{field} must be #{expected}, got #{TransportSupport.json_kind(value)}: #{value.inspect[0, 40]}"
          end
          packet
        end
      end
    end
  end
end
