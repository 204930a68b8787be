# frozen_string_literal: true

module Igniter
  module Store
    # Routing descriptor for a store (point path, `scope: nil`) or a scope of it.
    # Point paths call their consumers with `(store, key)`, scope paths with
    # `(store, scope)`. Plain keyword Struct: members default to nil and are
    # neither frozen nor validated.
    #
    # @!attribute store     [Symbol] store name
    # @!attribute lookup    [Symbol, nil] e.g. `:primary_key`
    # @!attribute scope     [Symbol, nil] scope name, nil for a point path
    # @!attribute filters   [Hash, nil] value filters of the scope
    # @!attribute cache_ttl [Numeric, nil] cache lifetime in seconds
    # @!attribute consumers [Enumerable<#call>, nil] callables notified on change
    AccessPath = Struct.new(:store, :lookup, :scope, :filters, :cache_ttl, :consumers, keyword_init: true)

    # Retention of a store's history.
    #
    # @!attribute strategy [Symbol, nil] `:permanent` (the default meaning), `:ephemeral` or `:rolling_window`
    # @!attribute duration [Float, nil] window in seconds (rolling window only)
    RetentionPolicy = Struct.new(:strategy, :duration, keyword_init: true)

    # Derives a fact in `target_store` from the facts of `source_store` that match `source_filters`.
    #
    # @!attribute source_store   [Symbol]
    # @!attribute source_filters [Hash, nil]
    # @!attribute target_store   [Symbol]
    # @!attribute target_key     [String, Symbol, #call] a key, or `(Array<Fact>) -> String`
    # @!attribute rule           [#call] `(Array<Fact>) -> Hash or nil`
    DerivationRule = Struct.new(:source_store, :source_filters, :target_store, :target_key, :rule, keyword_init: true)

    # Projection metadata only.
    #
    # @!attribute name          [Symbol]
    # @!attribute reads         [Array, nil]
    # @!attribute relations     [Array, nil]
    # @!attribute consumer_hint [Object, nil]
    # @!attribute reactive      [Boolean, nil]
    ProjectionPath = Struct.new(:name, :reads, :relations, :consumer_hint, :reactive, keyword_init: true)

    # A relation backed by a scatter index in store `:"__rel_<name>"`.
    #
    # @!attribute name      [Symbol]
    # @!attribute source    [Symbol]
    # @!attribute partition [Symbol]
    # @!attribute target    [Symbol]
    RelationRule = Struct.new(:name, :source, :partition, :target, keyword_init: true)

    # Scatters each fact of `source_store` into a partition of `target_store`.
    #
    # @!attribute source_store [Symbol]
    # @!attribute partition_by [Symbol, #call]
    # @!attribute target_store [Symbol]
    # @!attribute rule         [#call] `(partition_key, existing_value, new_fact) -> Hash or nil`
    ScatterRule = Struct.new(:source_store, :partition_by, :target_store, :rule, keyword_init: true)
  end
end
