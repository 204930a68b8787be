# frozen_string_literal: true

module Igniter
  module Store
    # The storage layer: backends and what they share (see doc/format.md).
    module Storage
      # How long a backend's fdatasync calls took: the histogram
      # `igniter_ledger_storage_fsync_duration_seconds` of the server's `/metrics`
      # (doc/operating.md "Alerts"). The native WAL keeps the same buckets
      # (`ext/ledger_core/src/wal/sync_stats.rs`), so both paths report alike.
      # Thread-safe.
      class SyncTiming
        # Upper bounds of the buckets, in seconds: from a tenth of a millisecond
        # (a page-cache backed device) to 2.5 s (a saturated disk); slower
        # calls land in `+Inf`.
        BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5].freeze

        def initialize
          @lock = Mutex.new
          @counts = Array.new(BOUNDS.size + 1, 0)
          @sum = 0.0
          @count = 0
        end

        # Runs the block (an fdatasync) and records how long it took, also
        # when it raises.
        # @return [Object] the block's value
        def time
          started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          yield
        ensure
          observe(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) if started
        end

        # @param seconds [Float]
        # @return [nil]
        def observe(seconds)
          bucket = BOUNDS.index { |bound| seconds <= bound } || BOUNDS.size
          @lock.synchronize do
            @counts[bucket] += 1
            @sum += seconds
            @count += 1
          end
          nil
        end

        # @return [Hash{Symbol=>Object}] `bounds:`, `counts:` (per bucket, not
        #   cumulative, the last one `+Inf`), `sum:` (seconds) and `count:`; frozen
        def to_h
          @lock.synchronize do
            { bounds: BOUNDS, counts: @counts.dup.freeze, sum: @sum, count: @count }.freeze
          end
        end
      end
    end
  end
end
