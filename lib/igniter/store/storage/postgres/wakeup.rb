# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # A session that LISTENs on the ledger's commit channel. NOTIFY only
      # wakes a poller early: payloads are never replayed to a session that
      # was away, so every reader still polls by position, and waits at most
      # +interval+ seconds when no notification comes.
      class Wakeup
        # @param config [Config]
        # @param interval [Numeric] longest wait without a notification
        def initialize(config, interval)
          @config = config
          @interval = interval
          @conn = Connection.new(config, "listen")
        end

        # Blocks (without the GVL) until a commit is notified or the interval passes.
        # @return [void]
        def wait
          @conn.synchronize do |pg|
            listen(pg)
            # Drain every queued notification: one poll covers them all.
            pg.wait_for_notify(@interval) { nil }
            nil while pg.notifies
          end
        rescue ConnectionError, *Connection::LOST, PG::Error => e
          @conn.discard if e.is_a?(PG::Error) || Connection::LOST.any? { |k| e.is_a?(k) }
          @listening = false
          sleep @interval
        end

        # @return [void]
        def close
          @conn.close
        end

        private

        def listen(pg)
          return if @listening && @pid == pg.backend_pid

          pg.exec("LISTEN #{pg.quote_ident(@config.channel)}")
          @pid = pg.backend_pid
          @listening = true
        end
      end
    end
  end
end
