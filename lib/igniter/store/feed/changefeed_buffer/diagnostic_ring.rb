# frozen_string_literal: true

module Igniter
  module Store
    class ChangefeedBuffer
      # Bounded log of subscriber lifecycle entries (subscribed, closed,
      # failed, overflow) that keeps counting what it had to forget.
      class DiagnosticRing
        # @param max_size [Integer] entries kept (> 0)
        def initialize(max_size)
          @max_size = max_size
          @entries = []
          @total = 0
          @dropped = 0
          @mutex = Mutex.new
        end

        # @param entry [Hash]
        # @return [nil]
        def push(entry)
          @mutex.synchronize do
            @total += 1
            if @entries.size >= @max_size
              @entries.shift
              @dropped += 1
            end
            @entries << entry
          end
          nil
        end

        # @return [Hash] `recent` (copy, oldest first), `recent_count` (ever pushed),
        #   `dropped_diagnostics_total` (evicted)
        def snapshot
          @mutex.synchronize do
            { recent: @entries.dup, recent_count: @total, dropped_diagnostics_total: @dropped }
          end
        end
      end
    end
  end
end
