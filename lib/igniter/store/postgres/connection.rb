# frozen_string_literal: true

require "monitor"

module Igniter
  module Store
    module Postgres
      # One PostgreSQL session used by one role of the backend (writes, reads,
      # the feed). Calls are serialized (a `PG::Connection` is not thread
      # safe), statements are prepared once per session, and a session found
      # dead is replaced by a new one before the next statement.
      class Connection
        # Errors after which the session is unusable (or its state unknown).
        LOST = [PG::ConnectionBad, PG::UnableToSend].freeze

        # @param config [Config]
        # @param role [String] becomes the session's application_name suffix
        def initialize(config, role)
          @config = config
          @role = role
          @monitor = Monitor.new
          @pg = nil
          @prepared = {}
          @closed = false
        end

        # @return [Integer, nil] server process id of the current session
        attr_reader :backend_pid

        # Runs the block with a live session, connecting (again) if needed.
        # @yieldparam pg [PG::Connection]
        # @raise [ConnectionError] when no session can be made, or after {#close}
        def synchronize
          @monitor.synchronize do
            raise ConnectionError.new("PostgresBackend is closed (#{@config.display_url})", url: @config.display_url) if @closed

            yield live
          end
        end

        # Runs a prepared statement (prepared on first use in each session).
        # Reads retry once on a new session when the old one was lost.
        # @param name [String] unique per SQL text
        # @return [PG::Result]
        def exec(name, sql, params = [], retry_lost: true)
          attempts = 0
          begin
            synchronize do |pg|
              prepare(pg, name, sql)
              pg.exec_prepared(name, params)
            end
          rescue PG::LockNotAvailable, PG::QueryCanceled => e
            raise TimeoutError, "#{e.class.name.split("::").last} on #{@config.display_url}: #{e.message.lines.first&.strip} " \
                                "(lock_timeout #{@config.lock_timeout}s, statement_timeout #{@config.statement_timeout}s)"
          rescue *LOST, PG::Error => e
            raise unless lost?(e) && retry_lost && (attempts += 1) == 1

            discard
            retry
          end
        end

        # Runs the block inside BEGIN/COMMIT; ROLLBACK when it raises.
        # @yieldparam conn [Connection] self, for {#exec} inside the transaction
        # @return [Object] the block's value
        def transaction
          synchronize do |pg|
            pg.exec("BEGIN")
            begin
              value = yield self
              pg.exec("COMMIT")
              value
            rescue Exception # rubocop:disable Lint/RescueException -- a Timeout or Interrupt must roll back too
              begin
                pg.exec("ROLLBACK") if pg.transaction_status != PG::PQTRANS_IDLE
              rescue *LOST, PG::Error
                discard
              end
              raise
            end
          end
        end

        # @return [Boolean] true when +error+ means the session is gone
        def lost?(error)
          return true if LOST.any? { |k| error.is_a?(k) }

          error.is_a?(PG::Error) && @pg && (@pg.finished? || @pg.status != PG::CONNECTION_OK)
        end

        # Drops the current session (a new one is made on next use).
        # @return [void]
        def discard
          @monitor.synchronize do
            pg = @pg
            @pg = nil
            @prepared = {}
            begin
              pg&.close unless pg&.finished?
            rescue PG::Error
              nil
            end
          end
        end

        # Closes the session; later calls raise. Idempotent.
        # @return [void]
        def close
          @monitor.synchronize do
            discard
            @closed = true
          end
        end

        private

        def live
          return @pg if @pg && !@pg.finished? && @pg.status == PG::CONNECTION_OK

          discard if @pg
          @pg = @config.connect("igniter-ledger #{@role}")
          @backend_pid = @pg.backend_pid
          @pg
        end

        def prepare(pg, name, sql)
          return if @prepared[name]

          pg.prepare(name, sql)
          @prepared[name] = true
        end
      end
    end
  end
end
