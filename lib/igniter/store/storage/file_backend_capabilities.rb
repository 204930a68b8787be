# frozen_string_literal: true

require_relative "backend"

module Igniter
  module Store
    # What {FileBackend} declares (doc/contracts.md), on either path: loaded
    # after the class exists (the Rust extension's or the pure Ruby one), so
    # both halves answer the same capabilities.
    class FileBackend
      include Backend

      # What this backend declares: snapshots, rewrite, recovery, sync stats, batch writes.
      CAPABILITIES = Capabilities.declare(Capabilities::SNAPSHOTS, Capabilities::REWRITE, Capabilities::RECOVERY,
                                          Capabilities::SYNC_STATS, Capabilities::WRITE_BATCH)

      # @return [Set<Symbol>] {CAPABILITIES}
      def capabilities
        CAPABILITIES
      end
    end
  end
end
