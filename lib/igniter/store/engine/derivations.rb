# frozen_string_literal: true

require_relative "names"

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
      #
      # Owns the relation names it registered (so re-registering one replaces
      # its index rule) and its per-store recursion guards; the rules
      # themselves live in the schema graph.
      class Derivations
        # @param schema_graph [SchemaGraph] where the rules are registered
        # @param log [#call] answers the live fact log (the store replaces it on a rebuild)
        # @param write [#call] `write.call(store:, key:, value:)`: {IgniterStore#write}
        # @param read [#call] `read.call(store:, key:, as_of:)`: {IgniterStore#read}
        def initialize(schema_graph:, log:, write:, read:)
          @schema_graph = schema_graph
          @log = log
          @write = write
          @read = read
          @relation_scatters = {}
          # Recursion guards are keyed per store (one Derivations each) so one
          # store's rules writing into another store do not suppress that store's rules.
          @deriving_flag = :"__igniter_store_deriving_#{object_id}"
          @scattering_flag = :"__igniter_store_scattering_#{object_id}"
        end

        # Runs the derivation rules, then the scatter rules, of a fact just
        # written to +store+ (never after an append).
        # @param store [Symbol] normalized store of +fact+
        # @param fact [Fact]
        # @return [void]
        def after_write(store, fact)
          return unless @schema_graph.reactive?

          run_derivations(store, fact)
          run_scatters(fact)
        end

        # What {IgniterStore#register_derivation} does (documented there).
        # @return [void]
        def register_derivation(source_store:, target_store:, target_key:, rule:, source_filters:)
          @schema_graph.register_derivation(
            DerivationRule.new(source_store: source_store, source_filters: source_filters,
                               target_store: target_store, target_key: target_key, rule: rule)
          )
          nil
        end

        # What {IgniterStore#register_scatter} does (documented there).
        # @return [void]
        def register_scatter(source_store:, partition_by:, target_store:, rule:)
          @schema_graph.register_scatter(
            ScatterRule.new(source_store: source_store, partition_by: partition_by,
                            target_store: target_store, rule: rule)
          )
          nil
        end

        # What {IgniterStore#register_relation} does (documented there).
        # @return [void]
        def register_relation(name, source:, partition:, target:)
          @schema_graph.unregister_scatter(@relation_scatters[name]) if @relation_scatters.key?(name)
          @schema_graph.register_relation(RelationRule.new(name: name, source: source, partition: partition, target: target))
          rule = ScatterRule.new(source_store: source, partition_by: partition,
                                 target_store: :"__rel_#{name}", rule: method(:relation_index_value).to_proc)
          @schema_graph.register_scatter(rule)
          @relation_scatters[name] = rule
          nil
        end

        # What {IgniterStore#resolve} does (documented there).
        # @return [Array<Object>]
        def resolve(relation_name, from:, as_of:)
          rule = @schema_graph.relation_for(name: relation_name)
          raise ArgumentError, "No relation registered: #{relation_name.inspect}" unless rule

          entry = @read.call(store: :"__rel_#{relation_name}", key: from.to_s, as_of: as_of)
          return [] unless entry

          entry[:keys].filter_map { |key| @read.call(store: rule.source, key: key, as_of: as_of) }
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
              facts = @log.call.query_scope(store: Names.normalize_store(rule.source_store), filters: rule.source_filters || {})
              derived = rule.rule.call(facts)
              next unless derived

              target_key = rule.target_key.respond_to?(:call) ? rule.target_key.call(facts) : rule.target_key.to_s
              @write.call(store: rule.target_store, key: target_key, value: derived)
            end
          end
        end

        def run_scatters(source_fact)
          rules = @schema_graph.scatters_for_store(store: source_fact.store)
          return if rules.empty?

          guarded(@scattering_flag) do
            rules.each do |rule|
              partition_value = PartitionIndex.value_of(source_fact, Names.normalize_field(rule.partition_by))
              next unless partition_value

              target_key = partition_value.to_s
              existing = @read.call(store: rule.target_store, key: target_key)
              derived = rule.rule.call(partition_value, existing, source_fact)
              next unless derived

              @write.call(store: rule.target_store, key: target_key, value: derived)
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
