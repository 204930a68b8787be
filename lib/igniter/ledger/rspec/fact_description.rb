# frozen_string_literal: true

module Igniter
  module Ledger
    # Test helpers for RSpec (see rspec.rb): matchers over a ledger and a
    # fresh in-memory ledger per example.
    module RSpec
      # How the matchers name a key and show values in their messages.
      module FactDescription
        # How many of a store's keys a "no such key" message lists.
        KEYS_SHOWN = 10

        module_function

        # @return [String] e.g. `tasks/"t1"`
        def address(store, key)
          "#{store}/#{key.to_s.inspect}"
        end

        # @param value [Object] a fact value or an RSpec matcher
        # @return [String]
        def show(value)
          return value.description if value.respond_to?(:description) && value.respond_to?(:matches?)

          value.inspect
        end

        # @return [String] a hint naming some keys the store does have
        def other_keys(ledger, store)
          keys = ledger.history(store: store).map(&:key).uniq
          return "store #{store} has no facts at all" if keys.empty?

          shown = keys.first(KEYS_SHOWN).map(&:inspect).join(", ")
          "store #{store} has #{keys.size} #{keys.size == 1 ? "key" : "keys"}: #{shown}#{keys.size > KEYS_SHOWN ? ", …" : ""}"
        end

        # @param ledger [Object]
        # @raise [ArgumentError] unless +ledger+ is an IgniterStore
        def ledger!(ledger, matcher)
          return ledger if ledger.is_a?(Store::IgniterStore)

          raise ArgumentError, "#{matcher} needs an Igniter::Store::IgniterStore, got #{ledger.class} " \
                               "(pass ledger: or include Igniter::Ledger::RSpec::Helpers for `ledger`)"
        end
      end
    end
  end
end
