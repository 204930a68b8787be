# frozen_string_literal: true

module Igniter
  module Store
    # Registry of everything a store knows about its data's shape: access
    # paths, projections, derivation/scatter/relation rules, retention
    # policies and protocol descriptors. Pure metadata, no execution.
    #
    # Store names are normalized to Symbols for lookup, matching facts (whose
    # store is always a Symbol), so a path registered with `"tasks"` serves
    # writes to `:tasks`. Lookups never insert anything (0.5.2's auto-inserting
    # Hash default made every written or queried store look "registered").
    #
    # Not synchronized: registration happens at setup time. Readers get
    # copies, so iteration is safe against concurrent registration.
    class SchemaGraph
      def initialize
        @paths = {}
        @projections = {}
        @derivations = []
        @scatters = []
        @relations = {}
        @retention = {}
        @store_descriptors = {}
        @history_descriptors = {}
        @subscription_descriptors = {}
        @commands = {}
        @effects = {}
      end

      # --- access paths ---------------------------------------------------

      # @param path [AccessPath]
      # @return [self]
      def register(path)
        (@paths[store_key(path.store)] ||= []) << path
        self
      end

      # @return [Boolean] true when +store+ has a registered path: a write
      #   to a store without one skips the scope work without copying an Array
      def paths?(store)
        # store_key inlined: every write asks this (doc/performance.md "Engine write path").
        @paths.key?(store.is_a?(String) ? store.to_sym : store)
      end

      # @return [Array<AccessPath>] a copy; mutating it does not affect the graph
      def paths_for(store)
        (@paths[store_key(store)] || []).dup
      end

      # @return [Array] unique consumers across the store's paths
      def consumers_for(store)
        paths_for(store).flat_map { |p| p.consumers.to_a }.uniq
      end

      # @return [AccessPath, nil] the first registered path of +store+ with this +scope+
      def path_for(store:, scope:)
        (@paths[store_key(store)] || []).find { |p| p.scope == scope }
      end

      # @return [Array] stores with at least one registered path
      def registered_stores
        @paths.keys
      end

      # @return [Hash{Object => Array<Hash>}] per-store path summaries (no consumers)
      def metadata_snapshot
        @paths.transform_values do |paths|
          paths.map do |p|
            { store: p.store, scope: p.scope, lookup: p.lookup, filters: p.filters,
              cache_ttl: p.cache_ttl, consumer_count: p.consumers.to_a.size }
          end
        end
      end

      # --- projections ----------------------------------------------------

      # Registers (or replaces, by name) a projection.
      # @return [self]
      def register_projection(projection)
        @projections[projection.name] = projection
        self
      end

      # @return [ProjectionPath, nil] the registered object itself
      def projection_for(name:)
        @projections[name]
      end

      # @return [Array<ProjectionPath>] projections reading +store+, in registration order
      def projections_for_store(store:)
        @projections.values.select { |p| p.reads.to_a.include?(store) }
      end

      # @return [Hash{Object => Hash}]
      def projection_snapshot
        @projections.to_h do |name, p|
          reads = p.reads.to_a
          relations = p.relations.to_a
          [name, { name: p.name, reads: p.reads, relations: p.relations, consumer_hint: p.consumer_hint,
                   reactive: p.reactive, store_count: reads.size, relation_count: relations.size }]
        end
      end

      # --- derivations and scatters --------------------------------------

      # @param rule [DerivationRule]
      # @return [self]
      def register_derivation(rule)
        @derivations << rule
        self
      end

      # @return [Boolean] true once any derivation or scatter rule is
      #   registered: until then a write runs no rule lookup at all
      def reactive?
        !(@derivations.empty? && @scatters.empty?)
      end

      # @return [Array<DerivationRule>] rules reading +store+, in registration order
      def derivations_for_store(store:)
        key = store_key(store)
        @derivations.select { |r| store_key(r.source_store) == key }
      end

      # @return [Array<Hash>]
      def derivation_snapshot
        @derivations.each_with_index.map do |r, i|
          { index: i, source_store: r.source_store, source_filters: r.source_filters,
            target_store: r.target_store, target_key: callable_or(r.target_key), has_rule: true }
        end
      end

      # @param rule [ScatterRule]
      # @return [self]
      def register_scatter(rule)
        @scatters << rule
        self
      end

      # Removes one scatter rule by identity; used when a relation is
      # re-registered so its old index rule stops firing.
      # @return [self]
      def unregister_scatter(rule)
        @scatters.reject! { |r| r.equal?(rule) }
        self
      end

      # @return [Array<ScatterRule>]
      def scatters_for_store(store:)
        key = store_key(store)
        @scatters.select { |r| store_key(r.source_store) == key }
      end

      # @return [Array<Hash>] without the rule callables
      def scatter_snapshot
        @scatters.each_with_index.map do |r, i|
          { index: i, source_store: r.source_store, partition_by: r.partition_by,
            target_store: r.target_store, has_rule: true }
        end
      end

      # --- relations ------------------------------------------------------

      # Registers (or replaces, by name) a relation.
      # @return [self]
      def register_relation(rule)
        @relations[rule.name] = rule
        self
      end

      # @return [RelationRule, nil]
      def relation_for(name:)
        @relations[name]
      end

      # @return [Array] relation names
      def registered_relations
        @relations.keys
      end

      # @return [Hash{Object => Hash}]
      def relation_snapshot
        @relations.to_h do |name, r|
          [name, { name: r.name, source: r.source, partition: r.partition, target: r.target,
                   index_store: :"__rel_#{name}" }]
        end
      end

      # --- retention ------------------------------------------------------

      # Registers (or replaces) the retention policy of +store+.
      # @return [self]
      def register_retention(store, policy)
        @retention[store_key(store)] = policy
        self
      end

      # @return [RetentionPolicy, nil]
      def retention_for(store:)
        @retention[store_key(store)]
      end

      # @return [Array] stores with a policy, in registration order
      def retention_stores
        @retention.keys
      end

      # @return [Hash{Object => Hash}]
      def retention_snapshot
        @retention.transform_values { |p| { strategy: p.strategy, duration: p.duration } }
      end

      # --- protocol descriptors -------------------------------------------

      # @param descriptor [Hash] with a +:name+
      # @return [self]
      def register_store_descriptor(descriptor)
        @store_descriptors[descriptor[:name].to_sym] = descriptor
        self
      end

      # @return [self]
      def register_history_descriptor(descriptor)
        @history_descriptors[descriptor[:name].to_sym] = descriptor
        self
      end

      # @return [self]
      def register_subscription_descriptor(descriptor)
        @subscription_descriptors[descriptor[:name].to_sym] = descriptor
        self
      end

      # @param descriptor [Hash] with +:owner+ and +:name+
      # @return [self]
      def register_command_descriptor(descriptor)
        (@commands[descriptor[:owner].to_sym] ||= {})[descriptor[:name].to_sym] = descriptor
        self
      end

      # @return [self]
      def register_effect_descriptor(descriptor)
        (@effects[descriptor[:owner].to_sym] ||= {})[descriptor[:name].to_sym] = descriptor
        self
      end

      # @return [Hash{Symbol => Hash{Symbol => Hash}}] the live registry
      def command_snapshot
        @commands
      end

      # @return [Hash{Symbol => Hash{Symbol => Hash}}] the live registry
      def effect_snapshot
        @effects
      end

      # @return [Hash] all descriptor registries
      def descriptor_snapshot
        { stores: @store_descriptors, histories: @history_descriptors, commands: @commands,
          effects: @effects, subscriptions: @subscription_descriptors }
      end

      private

      def store_key(store)
        store.is_a?(String) ? store.to_sym : store
      end

      def callable_or(target_key)
        target_key.respond_to?(:call) ? :callable : target_key
      end
    end
  end
end
