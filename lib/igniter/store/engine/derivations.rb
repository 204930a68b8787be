# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # Reactive writes: gather derivations (many source facts -> one target
      # key), scatters (one source fact -> the key named by one of its fields)
      # and relations (a scatter maintaining a key index, read by {#resolve}).
      #
      # Run after every `write` (never after `append`), depth-first: each
      # derivation rule, then each scatter rule. A derived write triggers
      # scatters but no derivations; a scatter write triggers derivations
      # (unless already deriving) but no scatters. The guards are per store
      # and per thread, and restored (not reset) on exit.
      module Derivations
        # Registers a gather rule: after each write to +source_store+,
        # `rule.call(facts)` gets the latest fact of every key of the store
        # that matches +source_filters+; a truthy result is written to
        # +target_store+ under +target_key+ (or `target_key.call(facts)`).
        # @return [self]
        def register_derivation(source_store:, target_store:, target_key:, rule:, source_filters: {})
          @schema_graph.register_derivation(
            DerivationRule.new(source_store: source_store, source_filters: source_filters,
                               target_store: target_store, target_key: target_key, rule: rule)
          )
          self
        end

        # Registers a scatter rule: after each write to +source_store+ whose
        # value has a truthy +partition_by+ field, `rule.call(partition_value,
        # existing_target_value, source_fact)`; a truthy result is written to
        # +target_store+ under `partition_value.to_s`.
        # @return [self]
        def register_scatter(source_store:, partition_by:, target_store:, rule:)
          @schema_graph.register_scatter(
            ScatterRule.new(source_store: source_store, partition_by: partition_by,
                            target_store: target_store, rule: rule)
          )
          self
        end

        # Declares a 1-N relation: source keys grouped by their +partition+
        # field, indexed in store `:"__rel_<name>"` as `{keys:, count:,
        # partition_key:}`. The index only grows (a G-set, as in 0.5.2).
        # Re-registering a name replaces the earlier index rule instead of
        # adding a second one.
        # @return [self]
        def register_relation(name, source:, partition:, target:)
          @schema_graph.unregister_scatter(@relation_scatters[name]) if @relation_scatters.key?(name)
          @schema_graph.register_relation(RelationRule.new(name: name, source: source, partition: partition, target: target))
          rule = ScatterRule.new(source_store: source, partition_by: partition,
                                 target_store: :"__rel_#{name}", rule: method(:relation_index_value).to_proc)
          @schema_graph.register_scatter(rule)
          @relation_scatters[name] = rule
          self
        end

        # Current values of every source key related to +from+, one per key in
        # first-indexed order. With +as_of+ both the index and each source
        # value are read at that time.
        # @raise [ArgumentError] for an unknown relation
        # @return [Array<Object>] values ([] when nothing is indexed)
        def resolve(relation_name, from:, as_of: nil)
          rule = @schema_graph.relation_for(name: relation_name)
          raise ArgumentError, "No relation registered: #{relation_name.inspect}" unless rule

          entry = read(store: :"__rel_#{relation_name}", key: from.to_s, as_of: as_of)
          return [] unless entry

          entry[:keys].filter_map { |key| read(store: rule.source, key: key, as_of: as_of) }
        end

        private

        def relation_index_value(partition_value, existing, new_fact)
          keys = existing ? existing[:keys].dup : []
          keys << new_fact.key unless keys.include?(new_fact.key)
          { keys: keys, count: keys.size, partition_key: partition_value }
        end

        def run_derivations(store, _source_fact)
          rules = @schema_graph.derivations_for_store(store: store)
          return if rules.empty?

          guarded(@deriving_flag) do
            rules.each do |rule|
              facts = @log.query_scope(store: normalize_store(rule.source_store), filters: rule.source_filters || {})
              derived = rule.rule.call(facts)
              next unless derived

              target_key = rule.target_key.respond_to?(:call) ? rule.target_key.call(facts) : rule.target_key.to_s
              write(store: rule.target_store, key: target_key, value: derived)
            end
          end
        end

        def run_scatters(source_fact)
          rules = @schema_graph.scatters_for_store(store: source_fact.store)
          return if rules.empty?

          guarded(@scattering_flag) do
            rules.each do |rule|
              partition_value = PartitionIndex.value_of(source_fact, normalize_field(rule.partition_by))
              next unless partition_value

              target_key = partition_value.to_s
              existing = read(store: rule.target_store, key: target_key)
              derived = rule.rule.call(partition_value, existing, source_fact)
              next unless derived

              write(store: rule.target_store, key: target_key, value: derived)
            end
          end
        end

        # Runs the block unless this thread is already inside it for this
        # store; the flag is restored afterwards even when the block raises.
        def guarded(flag)
          return if Thread.current[flag]

          Thread.current[flag] = true
          begin
            yield
          ensure
            Thread.current[flag] = nil
          end
        end
      end
    end
  end
end
