# frozen_string_literal: true

require "set"
require_relative "../storage"

begin
  require "pg"
rescue LoadError => e
  raise LoadError, "Igniter::Store::PostgresBackend needs the pg gem: install ruby-pg (Debian: apt-get install ruby-pg) " \
                   "or add `gem \"pg\"` to your Gemfile (#{e.message})"
end

require_relative "backend"
require_relative "postgres/errors"
require_relative "postgres/config"
require_relative "postgres/connection"
require_relative "postgres/schema"
require_relative "postgres/rows"
require_relative "postgres/durability"
require_relative "postgres/writer"
require_relative "postgres/reader"
require_relative "postgres/fact_log"
require_relative "postgres/wakeup"
require_relative "postgres/commit_tail"
require_relative "postgres/follower"

module Igniter
  module Store
    # A ledger in PostgreSQL, shared by any number of processes
    # (doc/postgres.md). It serves its own fact log ({#fact_log}): an
    # {IgniterStore} over it reads from SQL instead of replaying into memory,
    # so opening takes milliseconds at any size and a read sees every write
    # another process committed before it.
    #
    # Sessions: one for writes, one for reads, one per commit tail or
    # follower (each LISTENs for commits); all get the configured statement,
    # lock and idle-in-transaction timeouts.
    class PostgresBackend
      include Backend

      # What an engine can rely on: this backend answers reads and writes
      # itself (`fact_log`) instead of receiving `write_fact` calls.
      CAPABILITIES = Capabilities.declare(Capabilities::FACT_LOG, Capabilities::STORAGE_STATS)

      # @return [Postgres::Config]
      attr_reader :config
      # @return [Postgres::FactLog]
      attr_reader :fact_log

      # Connects, creates the schema when absent and applies missing migrations.
      #
      # @param url [String, nil] libpq URL or conninfo (nil: $DATABASE_URL)
      # @param connection [PG::Connection, nil] an existing session to write through
      # @param connection_factory [#call, nil] returns new PG::Connections
      # @param schema [String] schema of the ledger's tables
      # @param statement_timeout [Numeric] seconds (0: none)
      # @param lock_timeout [Numeric] seconds a statement waits for a lock (0: forever)
      # @param idle_in_transaction_timeout [Numeric] seconds before the server
      #   ends a session idle inside a transaction, releasing its locks
      # @param connect_timeout [Numeric] seconds
      # @param poll_interval [Numeric] longest wait of a feed poller between NOTIFYs
      # @param group_commit [Boolean] false (default): each commit holds the
      #   clock lock through its own WAL flush, so nothing is visible before it
      #   is durable; true: concurrent commits share flushes, and a plain read
      #   may see a write during its flush (doc/postgres.md, "Group commit")
      # @raise [Postgres::ConnectionError] the database cannot be reached (URL shown without password)
      # @raise [Postgres::SchemaVersionError] the schema is newer than this gem
      def initialize(url: nil, connection: nil, connection_factory: nil, schema: Postgres::Config::DEFAULT_SCHEMA,
                     statement_timeout: 30, lock_timeout: 10, idle_in_transaction_timeout: 60, connect_timeout: 5,
                     poll_interval: 0.5, group_commit: false)
        @config = Postgres::Config.new(url: url, connection: connection, connection_factory: connection_factory,
                                       schema: schema, statement_timeout: statement_timeout, lock_timeout: lock_timeout,
                                       idle_in_transaction_timeout: idle_in_transaction_timeout,
                                       connect_timeout: connect_timeout, group_commit: group_commit)
        @poll_interval = poll_interval
        @write_conn = Postgres::Connection.new(@config, "write", settings: Postgres::Writer::SESSION_SETTINGS)
        @read_conn = Postgres::Connection.new(@config, "read")
        @schema_version = Postgres::Schema.new(@config).migrate!(@write_conn)
        @reader = Postgres::Reader.new(@read_conn, @config)
        @followers = []
        @fact_log = Postgres::FactLog.new(Postgres::Writer.new(@write_conn, @config), @reader, method(:commit_tail))
        @closed = false
      end

      # @return [Set<Symbol>] {CAPABILITIES}
      def capabilities
        CAPABILITIES
      end

      # @return [Integer] schema version in force
      attr_reader :schema_version

      # Persists a fact built elsewhere, keeping its id and times (what
      # other backends do on every write; the engine calls its log instead).
      # @return [nil]
      # @raise [InvalidFactError] when the id is taken
      def write_fact(fact)
        @fact_log.append(fact)
        nil
      end

      # Every fact in commit order, paged (for exports and `FileBackend` parity).
      # @return [Enumerator<Fact>]
      def replay
        @reader.to_enum(:each_fact)
      end

      # A named, resumable consumer of every committed fact; see
      # {Postgres::Follower}. With a block, runs it until `stop` (the block
      # gets `(fact, position)`); without, returns the follower unstarted.
      # @return [Postgres::Follower]
      def follow(consumer:, stores: nil, from: :start, transactional: false, &block)
        follower = Postgres::Follower.new(@config, consumer: consumer, stores: stores, from: from,
                                                   interval: @poll_interval, transactional: transactional)
        @followers << follower
        return follower unless block

        begin
          follower.run(&block)
        ensure
          follower.close
          @followers.delete(follower)
        end
      end

      # @param store [#to_s, nil] one store's counts, or the whole ledger's
      # @return [Hash] +position, fact_count, transaction_time, keys, bytes+
      #   (ledger) or +store, facts, keys+ (one store)
      def storage_stats(store: nil)
        @reader.stats(store&.to_s)
      end

      # @return [String] the database address without its password
      def display_url
        @config.display_url
      end

      # Closes every session; idempotent.
      # @return [nil]
      def close
        return nil if @closed

        @closed = true
        @fact_log.close
        @followers.each(&:close)
        @write_conn.close
        @read_conn.close
        nil
      end

      # @return [Boolean]
      def closed?
        @closed
      end

      private

      def commit_tail(from, callback, on_calls)
        Postgres::CommitTail.new(@reader, @config, from, callback, interval: @poll_interval, on_calls: on_calls)
      end
    end
  end
end
