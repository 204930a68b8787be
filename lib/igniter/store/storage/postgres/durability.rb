# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # The durability barrier of group commit (doc/postgres.md, "Group
      # commit"). A write transaction commits with `synchronous_commit` off, so
      # the clock lock is released once its commit record is in the WAL, not
      # after the record is flushed. The barrier is a tiny transaction of its
      # own that commits synchronously: PostgreSQL flushes the WAL up to its
      # commit record, which lies after the record of every transaction that
      # committed (or became visible to this session) before the barrier
      # began. Many sessions' barriers share one flush (PostgreSQL's group
      # commit), which is the point.
      #
      # It runs after a write's COMMIT (the write returns only after it) and
      # after a feed reads a page (so a feed never hands out a fact that a
      # server crash could still take back). Each session touches its own row
      # of `flushes` (by backend pid, folded into the {SLOTS} rows the
      # migration creates), so barriers never wait on each other's row locks
      # in practice.
      module Durability
        # Rows of `flushes`; sessions share them by backend pid.
        SLOTS = 1024
        # The prepared statement's name.
        NAME = "igniter_flush_barrier"

        module_function

        # @param config [Config]
        # @return [Array(String, String, Array)] a prepared step for {Connection#pipeline}
        def barrier_step(config)
          [NAME, sql(config), []]
        end

        # Runs the barrier on +conn+ (outside any transaction) when group
        # commit is on: returns once everything committed before it is flushed.
        # @param conn [Connection]
        # @param config [Config]
        # @return [void]
        def barrier(conn, config)
          conn.exec(NAME, sql(config), []) if config.group_commit
          nil
        end

        # @param config [Config]
        # @return [String] the barrier's statement: touch this session's row of `flushes`
        def sql(config)
          "UPDATE #{config.table("flushes")} SET n = n + 1 WHERE slot = pg_backend_pid() % #{SLOTS}"
        end
      end
    end
  end
end
