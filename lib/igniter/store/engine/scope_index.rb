# frozen_string_literal: true

require "set"

module Igniter
  module Store
    module Engine
      # Materialized membership of current-state scopes: `[store, scope] =>
      # Set<key>`. Built lazily by the first current-state query of a scope
      # and maintained by every write afterwards, so warm queries cost
      # O(matching keys) instead of a scan of the whole store.
      class ScopeIndex
        # @param sets [Hash] the Hash the index maintains (empty); its owner may
        #   hand it out as is (see {IgniterStore})
        def initialize(sets = {})
          @sets = sets
          @mutex = Mutex.new
        end

        # @return [Array<String>, nil] member keys in insertion order, nil when not built
        def keys(store, scope)
          @mutex.synchronize { @sets[[store, scope]]&.to_a }
        end

        # Creates the index from a full scan unless another thread already did.
        # @return [void]
        def build(store, scope, keys)
          @mutex.synchronize { @sets[[store, scope]] ||= Set.new(keys) }
        end

        # Re-evaluates +key+ against every scope of +store+ after a write.
        # Each scope name is processed once; its first path supplies the filters
        # (the same path `query` uses).
        #
        # @param paths [Array<AccessPath>] the store's registered paths
        # @param value [Object] the stored (normalized) value, what the log scan sees
        # @return [Hash{Object => Symbol}] scope => +:changed+, +:unchanged+ or
        #   +:unknown+ (index not built yet)
        def update(store, key, value, paths)
          changes = {}
          paths.each do |path|
            scope = path.scope
            next if scope.nil? || changes.key?(scope)

            changes[scope] = classify(store, scope, key, Filters.match?(value, path.filters || {}))
          end
          changes
        end

        # @return [void]
        def clear
          @mutex.synchronize { @sets.clear }
        end

        private

        def classify(store, scope, key, now_in)
          @mutex.synchronize do
            set = @sets[[store, scope]]
            next :unknown unless set

            if now_in && !set.include?(key)
              set.add(key)
              :changed
            elsif !now_in && set.include?(key)
              set.delete(key)
              :changed
            else
              :unchanged
            end
          end
        end
      end

      # The one filter predicate of the engine; it must agree with
      # `FactLog#query_scope`: a Hash value whose entries equal every filter
      # pair, with exact key lookup (`:status` is not `"status"`).
      module Filters
        # @return [Boolean]
        def self.match?(value, filters)
          value.is_a?(Hash) && filters.all? { |k, v| value[k] == v }
        end
      end
    end
  end
end
