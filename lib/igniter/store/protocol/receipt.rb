# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # Outcome of a registration or a protocol write (doc/protocol.md "Receipts"). Errors
      # and warnings are human-readable Strings; there are no error codes.
      Receipt = Struct.new(:schema_version, :kind, :status, :name, :store, :key, :fact_id, :value_hash,
                           :warnings, :errors, :derived, keyword_init: true) do
        # @return [Receipt] an accepted registration receipt
        def self.accepted(kind:, name:, warnings: [], derived: [])
          new(schema_version: 1, kind: kind, status: :accepted, name: name, warnings: warnings, errors: [],
              derived: derived)
        end

        # @param message [String] lands in +errors+
        # @return [Receipt]
        def self.rejection(message, kind: nil, name: nil)
          new(schema_version: 1, kind: kind, status: :rejected, name: name, warnings: [], errors: [message],
              derived: [])
        end

        # @return [Receipt] for a descriptor whose exact content is already registered
        def self.deduplicated(kind:, name:)
          new(schema_version: 1, kind: kind, status: :deduplicated, name: name,
              warnings: ["descriptor already registered"], errors: [], derived: [])
        end

        # @param key [Object] echoed exactly as the caller passed it
        # @param fact [#id, #value_hash]
        # @param warnings [Array<String>]
        # @return [Receipt] kind +:receipt+
        def self.write_accepted(store:, key:, fact:, warnings: [])
          new(schema_version: 1, kind: :receipt, status: :accepted, store: store, key: key, fact_id: fact.id,
              value_hash: fact.value_hash, warnings: warnings, errors: [], derived: [])
        end

        # The fact key of an append is generated; a client key that differs
        # from it is reported, since it was not stored.
        # @return [Receipt] kind +:append_receipt+
        def self.append_accepted(history:, fact:, requested_key: nil)
          warnings = []
          if !requested_key.nil? && requested_key.to_s != fact.key.to_s
            warnings << "append key is metadata only in protocol v0; generated fact key returned"
          end
          new(schema_version: 1, kind: :append_receipt, status: :accepted, store: history, key: fact.key,
              fact_id: fact.id, value_hash: fact.value_hash, warnings: warnings, errors: [], derived: [])
        end

        # @return [Boolean]
        def accepted? = status == :accepted
        # @return [Boolean]
        def rejected? = status == :rejected
        # @return [Boolean]
        def deduplicated? = status == :deduplicated

        # @return [Hash] Symbol keys in member order, nil members left out
        def to_h
          super.compact
        end

        # @return [String]
        def to_json(*args)
          to_h.to_json(*args)
        end
      end
    end
  end
end
