# frozen_string_literal: true

require_relative "../json_canon"
require_relative "../fact_protocol"

module Igniter
  module Store
    # The pure-Ruby Fact, bound by core/native.rb on the pure path (the
    # native half is core/native/fact.rb); the shared rules live in
    # {JsonCanon} (`build_fact`, `fact_attributes`).
      # An immutable fact (doc/facts.md). Members in `to_h` / WAL order; value
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

        class << self
          # Struct's own constructor, for attributes already converted. It is
          # given their Hash itself (a keyword_init Struct takes one positional
          # Hash): `**members` would copy it first.
          alias_method :struct_new, :new
          private :struct_new

          # Keyword construction from the 11 members, converted and checked
          # as by {from_h}; the fact is frozen like every fact.
          #
          # @param members [Hash{Symbol=>Object}] a subset of {JsonCanon::FIELDS}
          # @return [Fact] frozen
          # @raise [ArgumentError] positional arguments or unknown keywords
          # @raise [KeyError] when `store` is missing
          def new(**members)
            # Decoded members (a replay) need no conversion; checking costs less.
            return struct_new(members).freeze if JsonCanon.stored_form?(members)

            unknown = members.keys - JsonCanon::FIELDS
            raise ArgumentError, "unknown keywords: #{unknown.map(&:inspect).join(", ")}" unless unknown.empty?

            struct_new(JsonCanon.fact_attributes(members)).freeze
          end
          alias_method :[], :new

          # Marshal: a fact from its {#_dump}.
          #
          # @param body [String] a WAL body
          # @return [Fact]
          # @raise [ArgumentError] when the body breaks a decode rule
          def _load(body)
            attributes, reason = FactDecode.decode_with_reason(body)
            raise ArgumentError, "marshal data is not a fact: #{reason}" unless attributes

            struct_new(attributes).freeze
          end

          # A fact from the members {FactDecode.decode} returned, taken as they
          # are. The decoder yields only members in stored form (what
          # {JsonCanon.stored_form?} checks, and {new} would check again): the
          # 11 members in order; Strings from `JSON.parse(freeze: true)` of text
          # checked to be valid UTF-8, so frozen valid UTF-8; the store a Symbol
          # of such a String; Floats checked finite; values nested at most
          # {JsonCanon::MAX_NESTING} deep (the parser's limit); containers frozen
          # by the parser or by the Symbol restore. The decode table asserts it
          # for every case (spec/igniter/store/parity/decode_cases_spec.rb).
          #
          # @api private
          # @param members [Hash{Symbol=>Object}] what {FactDecode.decode} returned
          # @return [Fact] frozen
          def from_decoded(members)
            struct_new(members).freeze
          end
          # Private, so that both Fact classes keep one public surface
          # (spec/igniter/store/parity/fact_protocol_spec.rb); the pure replay
          # calls it with __send__.
          private :from_decoded

          # A fact from its 11 members in {JsonCanon::FIELDS} order, already in
          # stored form (what {JsonCanon.build_fact} made, or what
          # {FactDecode.decode_fact} decoded under the rules {from_decoded}
          # lists). The members are set one by one on an allocated Struct:
          # the keyword constructor needs a Hash of them first, an 11-entry
          # Hash per fact that only the constructor reads (doc/performance.md,
          # "Pure path, third round").
          #
          # @api private
          # @return [Fact] frozen
          # rubocop:disable Metrics/ParameterLists -- the 11 members, positional so that no Hash is built
          def assemble(id, store, key, value, value_hash, causation, transaction_time, valid_time, schema_version,
                       producer, derivation)
            fact = allocate
            fact.id = id
            fact.store = store
            fact.key = key
            fact.value = value
            fact.value_hash = value_hash
            fact.causation = causation
            fact.transaction_time = transaction_time
            fact.valid_time = valid_time
            fact.schema_version = schema_version
            fact.producer = producer
            fact.derivation = derivation
            fact.freeze
          end
          # rubocop:enable Metrics/ParameterLists
          private :assemble
        end

        # Marshal: a fact's dump is its WAL body (doc/format.md), the same
        # bytes on both paths, so a dump loads on either.
        #
        # @return [String]
        def _dump(_level)
          JsonCanon.fact_body(self)
        end

        # The body the PostgreSQL backend stores for this fact under +id+
        # (doc/postgres.md, "Tables"); the native Fact's is written in Rust,
        # byte for byte the same.
        #
        # @param id [String]
        # @return [String]
        def _unstamped_body(id)
          JsonCanon.unstamped_body(self, id)
        end

        # This fact under the id, causation and transaction time a PostgreSQL
        # commit settled (doc/postgres.md, "The write transaction").
        #
        # @return [Fact] frozen
        def _stamped(id, causation, transaction_time)
          Fact.from_h(to_h.merge(id: id, causation: causation, transaction_time: transaction_time))
        end

        # A copy of a fact is a fact: frozen (`dup`, and `clone` whatever
        # `freeze:` says).
        def initialize_copy(other)
          super
          freeze
        end

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
          # One call: JsonCanon checks and converts the members, assembles the
          # fact and keeps its walk for the WAL body written next, most likely.
          JsonCanon.build_fact(self, store, key, value, causation, valid_time, term, schema_version, producer,
                               derivation)
        end

        # Restores a fact from its Hash form (wire, WAL, snapshot, `to_h`),
        # keeping id, times, value_hash and causation verbatim.
        #
        # @param hash [Hash] see {JsonCanon.fact_attributes}
        # @return [Fact] frozen
        # @raise [KeyError] when `store` is missing
        # @raise [NonFiniteNumberError] a NaN/Infinite time or number in a data member
        # @raise [InvalidEncodingError, JSON::NestingError, UnrepresentableValueError]
        def self.from_h(hash)
          struct_new(JsonCanon.fact_attributes(hash)).freeze
        end
      end
  end
end
