# frozen_string_literal: true

module LedgerSpec
  module Helpers
    def realtime
      Process.clock_gettime(Process::CLOCK_REALTIME)
    end

    # A CLOCK_REALTIME reading strictly between the facts written before and after it.
    def clock_boundary
      sleep 0.002
      t = realtime
      sleep 0.002
      t
    end

    # A fact with explicit identity and transaction_time (no clock involved).
    def fact_at(transaction_time, store: :items, key: "k", value: { n: 1 }, id: SecureRandom.uuid, causation: nil)
      Igniter::Store::Fact.from_h(
        id: id, store: store, key: key, value: value, value_hash: "0" * 64, causation: causation,
        transaction_time: transaction_time, valid_time: nil, schema_version: 1, producer: nil, derivation: nil
      )
    end

    def build_fact(store: :items, key: "k", value: { n: 1 }, **opts)
      Igniter::Store::Fact.build(store: store, key: key, value: value, **opts)
    end

    # true when +obj+ and everything inside it (Hash keys/values, Array elements) is frozen.
    def deeply_frozen?(obj)
      return false unless obj.frozen?

      case obj
      when Hash then obj.all? { |k, v| deeply_frozen?(k) && deeply_frozen?(v) }
      when Array then obj.all? { |v| deeply_frozen?(v) }
      else true
      end
    end

    # Every Hash key at every depth (including inside Arrays) is a Symbol.
    def all_keys_symbols?(obj)
      case obj
      when Hash then obj.all? { |k, v| k.is_a?(Symbol) && all_keys_symbols?(v) }
      when Array then obj.all? { |v| all_keys_symbols?(v) }
      else true
      end
    end

    # Number of distinct Ruby objects reachable from +root+ (modules, threads and
    # VM internals excluded). Used to show that reads do not grow a structure.
    def reachable_object_count(root)
      seen = {}.compare_by_identity
      stack = [root]
      until stack.empty?
        obj = stack.pop
        next if seen.key?(obj)

        seen[obj] = true
        children = ObjectSpace.reachable_objects_from(obj) || []
        children.each do |child|
          next if child.is_a?(ObjectSpace::InternalObjectWrapper)
          next if child.is_a?(Module) || child.is_a?(Thread)

          stack << child
        end
      end
      seen.size
    end
  end
end
