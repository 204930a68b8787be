# frozen_string_literal: true

module Igniter
  module Store
    module Storage
      # Group commit for a WAL shared by several writer threads
      # (doc/reliability.md "Durability policies"): every write returns only
      # after an fdatasync that began after its frame was written succeeded,
      # and writers that append while one fdatasync runs share the next one.
      # The native path's twin is ext/ledger_core/src/wal/group_commit.rs.
      #
      # A writer calls {#begin_append}, appends its frame under the WAL's own
      # lock and takes its ticket with {#appended} before letting that lock go,
      # so tickets follow the file's order; then it waits in {#wait_durable}.
      # When no sync runs, the first waiter leads: it syncs at once unless other
      # writers are still appending, and waits for those at most until `every`
      # frames are pending or `interval` seconds have passed. It syncs outside
      # every lock, so others keep appending meanwhile. A lone writer thus pays
      # one fdatasync per write, with no wait for a group or a timer.
      class GroupCommit
        # Waits longer than this (a year) are waits without a timeout:
        # `ConditionVariable#wait` cannot take a huge Integer or Float.
        LONGEST_WAIT = 365 * 86_400

        # @param every [Integer, nil] frames that end a leader's wait (nil: no count)
        # @param interval [Numeric, nil] seconds that end it (nil: no time limit)
        def initialize(every, interval)
          @every = every || Float::INFINITY
          @interval = interval || Float::INFINITY
          @mutex = Mutex.new
          @turn = ConditionVariable.new
          @appended = 0
          @synced = 0
          @syncing = false
          @appending = 0
          @failed = nil
        end

        # A writer is about to append (a leader waits for it, within its bounds).
        # @return [nil]
        def begin_append
          @mutex.synchronize { @appending += 1 }
          nil
        end

        # The writer that called {#begin_append} is done appending. Call it while
        # still holding the WAL's lock.
        #
        # @param wrote [Boolean] whether its frame reached the file
        # @return [Integer] the frame's ticket
        def appended(wrote)
          @mutex.synchronize do
            @appending -= 1
            @appended += 1 if wrote
            @turn.broadcast
            @appended
          end
        end

        # Returns once the ticket's frame is covered by a successful sync (the
        # block, run by this thread as the leader or by another waiter's), or
        # raises the error of the sync that should have covered it.
        #
        # @param ticket [Integer] from {#appended}
        # @yield the fdatasync, called without any lock held
        # @return [nil]
        def wait_durable(ticket, &fsync)
          @mutex.synchronize do
            leading_since = nil
            loop do
              return nil if @synced >= ticket

              failure = @failed
              raise failure[2] if failure && ticket > failure[0] && ticket <= failure[1]

              if @syncing
                @turn.wait(@mutex)
                next
              end
              leading_since ||= monotonic
              left = @interval - (monotonic - leading_since)
              if @appending.positive? && @appended - @synced < @every && left.positive?
                @turn.wait(@mutex, left > LONGEST_WAIT ? nil : left)
                next
              end
              lead(&fsync)
              leading_since = nil
            end
          end
        end

        private

        # Runs one sync for every ticket handed out so far, with the mutex
        # released, and records its outcome for the waiters.
        def lead
          @syncing = true
          from = @synced
          to = @appended
          begin
            @mutex.unlock
            begin
              yield
            ensure
              @mutex.lock
            end
            @synced = [@synced, to].max
          rescue StandardError => e
            @failed = [from, to, e]
          ensure
            @syncing = false
            @turn.broadcast
          end
        end

        def monotonic
          Process.clock_gettime(Process::CLOCK_MONOTONIC)
        end
      end
    end
  end
end
