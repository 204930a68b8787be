# frozen_string_literal: true

require_relative "json_canon"

module Igniter
  module Store
    # When the Rust extension is loaded it has already defined Fact; the
    # shared rules it relies on live in {JsonCanon} (`build_attributes`,
    # `fact_attributes`), so nothing is added here on that path.
    unless defined?(NATIVE) && NATIVE
      # An immutable fact (spec 01 §2). Members in `to_h` / WAL order; value
      # equality over all of them; instances are frozen and so are `value`,
      # `producer` and `derivation` (deeply) and the String members.
      #
      # @!attribute [r] id               [String] UUID v4
      # @!attribute [r] store            [Symbol]
      # @!attribute [r] key              [String]
      # @!attribute [r] value            [Object] normalized, deep-frozen
      # @!attribute [r] value_hash       [String] SHA-256 hex of the canonical JSON of value
      # @!attribute [r] causation        [String, nil] id of the fact this one follows
      # @!attribute [r] transaction_time [Float] CLOCK_REALTIME at build
      # @!attribute [r] valid_time       [Float, nil] domain time
      # @!attribute [r] schema_version   [Integer]
      # @!attribute [r] producer         [Hash, nil] normalized, deep-frozen
      # @!attribute [r] derivation       [Hash, nil] normalized, deep-frozen
      Fact = Struct.new(*JsonCanon::FIELDS, keyword_init: true) do
        alias_method :timestamp, :transaction_time
        alias_method :term, :valid_time

        # Builds a new fact: fresh id, current CLOCK_REALTIME as
        # transaction_time, value/producer/derivation normalized (String keys
        # become Symbols at every depth) and validated before anything is
        # returned.
        #
        # @param store [String, Symbol]
        # @param key [#to_s]
        # @param value [Object]
        # @param causation [String, nil] id of the previous fact
        # @param valid_time [#to_f, nil]
        # @param term [#to_f, nil] legacy name of valid_time
        # @param schema_version [#to_i]
        # @param producer [Hash, nil]
        # @param derivation [Hash, nil]
        # @return [Fact] frozen
        # @raise [NonFiniteNumberError, InvalidEncodingError, JSON::NestingError]
        def self.build(store:, key:, value:, causation: nil, valid_time: nil, term: nil,
                       schema_version: 1, producer: nil, derivation: nil)
          new(**JsonCanon.build_attributes(
            store: store, key: key, value: value, causation: causation, valid_time: valid_time,
            term: term, schema_version: schema_version, producer: producer, derivation: derivation
          )).freeze
        end

        # Restores a fact from its Hash form (wire, WAL, snapshot, `to_h`),
        # keeping id, times, value_hash and causation verbatim.
        #
        # @param hash [Hash] see {JsonCanon.fact_attributes}
        # @return [Fact] frozen
        # @raise [KeyError] when `store` is missing
        def self.from_h(hash)
          new(**JsonCanon.fact_attributes(hash)).freeze
        end
      end
    end
  end
end
