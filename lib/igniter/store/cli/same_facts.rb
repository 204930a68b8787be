# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # Whether a ledger written or copied by a tool serves the facts it was
      # meant to: the same facts in the same order, compared by id — or, for
      # codecs that keep no ids (compact_delta_zlib decodes fresh ones every
      # time), by store, key, value hash and transaction time.
      module SameFacts
        # The codec whose segments keep no fact ids.
        COMPACT_CODEC = Codecs::CompactDelta::NAME

        module_function

        # @param ledger [WalAtRest, SegmentedAtRest] the copy, read back
        # @param expected [Array<Fact>]
        # @return [Boolean]
        def same?(ledger, expected)
          ids = !ledger.codecs.value?(COMPACT_CODEC)
          fingerprint(ledger.facts, ids) == fingerprint(expected, ids)
        end

        # @return [Array<Array>] what is compared, fact by fact
        def fingerprint(facts, ids)
          facts.map do |f|
            base = [f.store.to_s, f.key, f.value_hash, f.transaction_time]
            ids ? [f.id, *base] : base
          end
        end
        private_class_method :fingerprint
      end
    end
  end
end
