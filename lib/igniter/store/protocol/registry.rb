# frozen_string_literal: true

require "monitor"

module Igniter
  module Store
    module Protocol
      # Per-interpreter dedup table: descriptor fingerprint → accepted receipt.
      #
      # It also remembers which fingerprint currently owns each registration
      # slot (kind, owner, name), so a descriptor that replaced another frees
      # the old fingerprint: registering A, then A' (same name), then A again
      # re-applies A instead of answering "deduplicated" while A' stays in
      # force (0.5.2's stale dedup). Kinds that accumulate (access paths) or
      # store nothing (derivations) have no slot.
      class Registry
        # Kinds with a registration slot: a later descriptor in the slot replaces the earlier.
        REPLACING_KINDS = %i[store history relation projection command effect subscription].freeze

        def initialize
          @receipts = {}
          @slots = {}
          @lock = Monitor.new
        end

        # Runs the block (the handler) unless +fingerprint+ is registered;
        # records its receipt when accepted. Serialized, so two threads
        # registering the same descriptor apply it once.
        # @yieldreturn [Receipt]
        # @return [Receipt, nil] nil when already registered
        def register(fingerprint, kind, descriptor)
          @lock.synchronize do
            return nil if @receipts.key?(fingerprint)

            receipt = yield
            remember(fingerprint, kind, descriptor, receipt) if receipt.accepted?
            receipt
          end
        end

        private

        def remember(fingerprint, kind, descriptor, receipt)
          @receipts[fingerprint] = receipt
          return unless REPLACING_KINDS.include?(kind)

          slot = [kind, descriptor[:owner].to_s, receipt.name]
          previous = @slots[slot]
          @receipts.delete(previous) if previous && previous != fingerprint
          @slots[slot] = fingerprint
        end
      end
    end
  end
end
