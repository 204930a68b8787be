# frozen_string_literal: true

module Igniter
  module Store
    module Engine
      # Grouping of a history store's facts by one field of their value:
      # `[store, field] => {field value => [Fact, ...]}` (log order). Built
      # lazily by the first `history_partition` call for that pair; afterwards
      # extended only by `append(..., partition_key: field)` (0.5.2 semantics,
      # pinned by its specs) and dropped on every log rebuild.
      class PartitionIndex
        # @param groups [Hash] the Hash the index maintains (empty); its owner may
        #   hand it out as is (see {IgniterStore})
        def initialize(groups = {})
          @groups = groups
          @mutex = Mutex.new
        end

        # @return [Boolean]
        def built?(store, field)
          @mutex.synchronize { @groups.key?([store, field]) }
        end

        # Groups +facts+ unless the index already exists. Facts whose value
        # lacks the field (nil/false, or a non-Hash value) are left out.
        # @return [void]
        def build(store, field, facts)
          @mutex.synchronize do
            @groups[[store, field]] ||= facts.each_with_object({}) do |fact, groups|
              pv = self.class.value_of(fact, field)
              (groups[pv] ||= []) << fact if pv
            end
          end
        end

        # Adds one appended fact, only to an index that was already built.
        # @return [void]
        def add(store, field, fact)
          pv = self.class.value_of(fact, field) or return
          @mutex.synchronize do
            groups = @groups[[store, field]] or return
            (groups[pv] ||= []) << fact
          end
        end

        # @return [Array<Fact>] a copy of one group ([] when unknown)
        def slice(store, field, partition_value)
          @mutex.synchronize { @groups.dig([store, field], partition_value)&.dup || [] }
        end

        # @return [void]
        def clear
          @mutex.synchronize { @groups.clear }
        end

        # @return [Object, nil] the partition value of +fact+, nil for non-Hash values
        def self.value_of(fact, field)
          value = fact.value
          value.is_a?(Hash) ? value[field] : nil
        end
      end
    end
  end
end
