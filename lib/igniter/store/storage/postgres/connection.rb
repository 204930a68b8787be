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
        # @param settings [String] SET commands for every session of this role
        def initialize(config, role, settings: "")
          @config = config
          @role = role
          @settings = settings
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

        # Sends several statements in one round trip (libpq pipeline mode) and
        # returns their results. The server runs them in order; after the
        # first error the rest are skipped and that error is raised (inside a
        # transaction the caller must roll back).
        # @param steps [Array<String, Array(String, String, Array)>] plain SQL
        #   without parameters (e.g. "BEGIN"), or [name, sql, params] of a
        #   prepared statement
        # @return [Array<PG::Result>]
        def pipeline(steps)
          synchronize do |pg|
            steps.each { |step| prepare(pg, step[0], step[1]) if step.is_a?(Array) }
            pg.enter_pipeline_mode
            begin
              # A dead session surfaces as a plain PG::Error in pipeline mode.
              steps.each { |step| step.is_a?(Array) ? pg.send_query_prepared(step[0], step[2]) : pg.send_query_params(step, []) }
              pg.pipeline_sync
              results = steps.map { pipeline_result(pg) }
              sync = pg.get_result
              raise PG::ConnectionBad, "pipeline ended without its sync point" unless sync&.result_status == PG::PGRES_PIPELINE_SYNC
            rescue PG::Error => e
              raise if LOST.any? { |k| e.is_a?(k) } || (!pg.finished? && pg.status == PG::CONNECTION_OK)

              raise PG::ConnectionBad, e.message
            ensure
              pg.exit_pipeline_mode unless pg.finished? || pg.status != PG::CONNECTION_OK
            end
            results.each { |r| r.check unless r.result_status == PG::PGRES_PIPELINE_ABORTED }
            results
          end
        rescue PG::LockNotAvailable, PG::QueryCanceled => e
          raise TimeoutError, "#{e.class.name.split("::").last} on #{@config.display_url}: #{e.message.lines.first&.strip} " \
                              "(lock_timeout #{@config.lock_timeout}s, statement_timeout #{@config.statement_timeout}s)"
        end

        # Rolls back the open transaction of the session, if any (after a
        # failed {#pipeline}); a lost session is dropped instead.
        # @return [void]
        def rollback
          synchronize do |pg|
            pg.exec("ROLLBACK") if pg.transaction_status != PG::PQTRANS_IDLE
          end
        rescue *LOST, PG::Error
          discard
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
          @pg = @config.connect("igniter-ledger #{@role}", @settings)
          @backend_pid = @pg.backend_pid
          @pg
        end

        # One statement's result in pipeline mode; the nil that ends it is consumed.
        def pipeline_result(pg)
          result = pg.get_result
          raise PG::ConnectionBad, "pipeline lost a result" if result.nil?

          nil while pg.get_result
          result
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
