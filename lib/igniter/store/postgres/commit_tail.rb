# frozen_string_literal: true

require "monitor"

module Igniter
  module Store
    module Postgres
      # Delivers every fact committed after a starting position, by any
      # process, to one callback in commit order, exactly once each: the
      # writes of this process synchronously ({#deliver_through}, before the
      # write returns), the others from a background thread that polls by
      # position after each NOTIFY wake-up (or every +interval+ seconds).
      # It feeds the engine's changefeed, subscriptions and consumers.
      class CommitTail
        # Facts read per query while catching up.
        PAGE = 500

        # @param reader [Reader]
        # @param config [Config]
        # @param from [Integer] last position already seen
        # @param callback [#call] `call(fact)` → Array of consumer calls
        # @param on_calls [#call] receives the consumer calls of background deliveries
        def initialize(reader, config, from, callback, interval: 0.5, on_calls: ->(calls) {})
          @reader = reader
          @last = from
          @callback = callback
          @on_calls = on_calls
          @monitor = Monitor.new
          @wakeup = Wakeup.new(config, interval)
          @running = true
          @thread = Thread.new { run }
          @thread.name = "igniter-ledger pg tail"
          @thread.report_on_exception = false
        end

        # @return [Integer] position of the last delivered fact
        def position
          @monitor.synchronize { @last }
        end

        # Delivers everything up to +position+ (inclusive) not delivered yet.
        # @param known [Array<Array(Integer, Fact)>] the caller's own just
        #   committed facts, consecutive and ending at +position+: when they
        #   follow the last delivered fact they go out without a query
        # @return [Array] consumer calls of those deliveries
        def deliver_through(position, known = [])
          @monitor.synchronize do
            next catch_up(position) unless known.first&.first == @last + 1

            calls = known.flat_map { |_, fact| @callback.call(fact) }
            @last = position
            calls
          end
        end

        # Stops the background thread. Idempotent.
        # @return [void]
        def stop
          @running = false
          @thread.join(2) unless Thread.current == @thread
          @wakeup.close
        end

        private

        def run
          while @running
            @wakeup.wait
            next unless @running

            calls = @monitor.synchronize { catch_up(nil) }
            @on_calls.call(calls) unless calls.empty?
          end
        rescue StandardError => e
          warn "igniter-ledger: PostgreSQL commit tail stopped: #{e.class}: #{e.message}" if @running
          retry if @running && sleep(0.5)
        end

        # Pages through positions after @last, up to +limit+ (inclusive) when given.
        def catch_up(limit)
          calls = []
          loop do
            # Up to +limit+ (this process's own commit, already past its
            # barrier) every fact is durable; beyond it, only after a barrier.
            page = @reader.page(@last, PAGE, durable: limit.nil?)
            page.each do |position, fact|
              return finish(calls, limit) if limit && position > limit

              calls.concat(@callback.call(fact))
              @last = position
            end
            break if page.size < PAGE || (limit && @last >= limit)
          end
          finish(calls, limit)
        end

        # Positions up to a committed one are all visible, so a hole there
        # (a pruned fact) is passed over.
        def finish(calls, limit)
          @last = limit if limit && limit > @last
          calls
        end
      end
    end
  end
end
