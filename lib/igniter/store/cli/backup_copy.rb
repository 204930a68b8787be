# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # What the WAL and the segmented backup share: where from, where to,
      # whether a writer holds the source, and the progress over bytes copied.
      class BackupCopy
        # copied: [[source file, bytes copied, its size when read]]; expected:
        # the facts the copy must serve; live: copied under a writer; attempts:
        # tries it took; sidecars: what was copied beside; skipped: paths that
        # are not the ledger's (not copied).
        Result = Struct.new(:copied, :expected, :live, :attempts, :sidecars, :skipped, keyword_init: true)

        # @param source [String] the ledger
        # @param dest [String] the copy (must not exist)
        # @param live [Boolean] a writer holds the ledger
        # @param progress [#progress=] told the bytes copied so far
        def initialize(source, dest, live:, progress: Progress::NONE)
          @source = source
          @dest = dest
          @live = live
          @progress = progress
          @done = 0
        end

        private

        def advance(bytes)
          @done += bytes
          @progress.progress = @done
        end
      end
    end
  end
end
