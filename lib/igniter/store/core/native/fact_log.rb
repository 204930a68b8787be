# frozen_string_literal: true

module Igniter
  module Store
    # Keyword front of the Rust FactLog (which also defines the positional
    # hot-path methods `latest`, `write_new`, `append_new` and `replay_from`). Ruby passes keywords to a Ruby method
    # without allocating, but hands a C method a fresh Hash to parse, which
    # cost more than the Rust lookup itself; so the keywords end here and the
    # native methods take positional arguments.
    class FactLog
      # @return [Fact, nil] the last appended fact of (store, key), or the last
      #   one with transaction_time <= as_of
      def latest_for(store:, key:, as_of: nil)
        _latest_for(store, key, as_of)
      end

      # @return [Array<Fact>] facts of the store (or one key) in append order,
      #   within the inclusive since/as_of bounds
      def facts_for(store:, key: nil, since: nil, as_of: nil)
        _facts_for(store, key, since, as_of)
      end

      # @return [Array<Fact>] per key of the store, its latest fact (as of
      #   as_of) when its Hash value matches every filter pair
      def query_scope(store:, filters:, as_of: nil)
        _query_scope(store, filters, as_of)
      end
    end
  end
end
