# frozen_string_literal: true

module Igniter
  module Store
    # What the servers share below the protocols: clock, socket IO, framing, auth, TLS (doc/servers.md).
    module Transport
      # Monotonic time budgets of the servers and clients: wall-clock jumps
      # must not stretch or cut a timeout.
      module Clock
        module_function

        # @return [Float] seconds on the monotonic clock
        def monotonic
          Process.clock_gettime(Process::CLOCK_MONOTONIC)
        end

        # @param timeout [Numeric, nil] seconds from now
        # @return [Float, nil] the monotonic instant, or nil (no limit)
        def deadline(timeout)
          timeout && monotonic + timeout
        end

        # @param deadline [Float]
        # @return [Float] seconds until +deadline+, never negative
        def left(deadline)
          [deadline - monotonic, 0].max
        end

        # Joins every thread within one shared budget, so a stop waits at
        # most +timeout+ seconds however many threads are left.
        # @param threads [Enumerable<Thread>]
        # @param timeout [Numeric]
        # @return [nil]
        def join_all(threads, timeout)
          deadline = monotonic + timeout
          threads.each { |thread| thread.join(left(deadline)) }
          nil
        end
      end
    end
  end
end
