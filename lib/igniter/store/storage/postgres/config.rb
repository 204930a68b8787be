# frozen_string_literal: true

module Igniter
  module Store
    # The parts of {PostgresBackend}: configuration, sessions, schema, reads, writes, commit tail (doc/postgres.md).
    module Postgres
      # Connection settings of a {PostgresBackend}: where the database is
      # (a libpq URL or conninfo string, an existing `PG::Connection`, or a
      # factory that returns new ones), the schema of the ledger's tables and
      # the session timeouts applied to every connection the backend opens.
      class Config
        # SQL schema holding the ledger's tables.
        DEFAULT_SCHEMA = "igniter_ledger"
        # Unquoted PostgreSQL identifier; the schema name is interpolated into SQL.
        IDENTIFIER = /\A[a-z_][a-z0-9_]{0,62}\z/
        # Environment variable read when no URL is given.
        URL_ENV = "DATABASE_URL"

        # @return [String] schema holding the ledger's tables
        attr_reader :schema
        # @return [Numeric] seconds a statement may run (0 = no limit)
        attr_reader :statement_timeout
        # @return [Numeric] seconds a statement may wait for a row or table lock
        attr_reader :lock_timeout
        # @return [Numeric] seconds a session may sit idle inside a transaction
        #   before the server ends it (and releases its locks)
        attr_reader :idle_in_transaction_timeout
        # @return [Integer] seconds to wait for a connection to be made
        attr_reader :connect_timeout
        # @return [Boolean] whether writes use group commit (doc/postgres.md,
        #   "Group commit"): the clock lock ends before the WAL flush and a
        #   durability barrier waits for it, so concurrent commits share flushes
        attr_reader :group_commit

        # @param url [String, nil] libpq URL or conninfo; nil: +connection+,
        #   +connection_factory+ or `$DATABASE_URL`
        # @param connection [PG::Connection, nil] used for writes; further
        #   connections (reads, the feed, reconnects) reuse its conninfo
        # @param connection_factory [#call, nil] returns a new PG::Connection
        # @param schema [String]
        # @param group_commit [Boolean] false: each commit holds the clock lock
        #   through its own WAL flush (no fact is ever visible before it is durable)
        # @raise [ArgumentError] for a bad schema name or timeout, or no database given
        def initialize(url: nil, connection: nil, connection_factory: nil, schema: DEFAULT_SCHEMA,
                       statement_timeout: 30, lock_timeout: 10, idle_in_transaction_timeout: 60,
                       connect_timeout: 5, group_commit: false, env: ENV)
          @schema = schema.to_s
          raise ArgumentError, "schema must be a lowercase SQL identifier, got #{schema.inspect}" unless @schema.match?(IDENTIFIER)

          @statement_timeout = seconds!(:statement_timeout, statement_timeout)
          @lock_timeout = seconds!(:lock_timeout, lock_timeout)
          @idle_in_transaction_timeout = seconds!(:idle_in_transaction_timeout, idle_in_transaction_timeout)
          @connect_timeout = Integer(seconds!(:connect_timeout, connect_timeout).ceil)
          raise ArgumentError, "group_commit must be true or false, got #{group_commit.inspect}" unless [true, false].include?(group_commit)

          @group_commit = group_commit
          @given = connection
          @factory = connection_factory
          @url = url || (connection || connection_factory ? nil : env[URL_ENV])
          return if @url || @given || @factory

          raise ArgumentError, "PostgresBackend needs url:, connection:, connection_factory: or $#{URL_ENV}"
        end

        # Hands out the connection given to {#initialize} once, then new ones.
        # @param settings [String] more SET commands for this session's role
        # @return [PG::Connection] with the session settings applied
        # @raise [ConnectionError] naming {#display_url}
        def connect(application_name, settings = "")
          conn = @given || new_connection
          @given = nil
          configure(conn, application_name)
          conn.exec(settings) unless settings.empty?
          conn
        rescue PG::Error => e
          raise ConnectionError.new("cannot connect to PostgreSQL at #{display_url}: #{e.message.strip.lines.first&.strip}",
                                    url: display_url)
        end

        # The database address with any password removed, for messages and logs.
        # @return [String]
        def display_url
          @display_url ||= redact(conninfo)
        end

        # @return [String] `"<schema>"."<table>"`
        def table(name)
          %("#{@schema}"."#{name}")
        end

        # @return [String] NOTIFY channel of this ledger (one per schema)
        def channel
          "#{@schema}_commits"
        end

        private

        def new_connection
          return @factory.call if @factory

          PG::Connection.new(conninfo_hash.merge(connect_timeout: @connect_timeout))
        end

        def conninfo_hash
          @conninfo_hash ||= if @url
                               PG::Connection.conninfo_parse(@url).each_with_object({}) do |opt, h|
                                 h[opt[:keyword].to_sym] = opt[:val] if opt[:val]
                               end
                             else
                               @given.conninfo_hash.compact.transform_keys(&:to_sym)
                             end
        end

        def conninfo
          return conninfo_hash if @url || @given

          {}
        rescue PG::Error
          { dbname: "(unparsable URL)" }
        end

        def redact(info)
          return "(connection factory)" if info.empty?

          host = info[:host] || "localhost"
          port = info[:port] ? ":#{info[:port]}" : ""
          user = info[:user] ? "#{info[:user]}@" : ""
          "postgresql://#{user}#{host.start_with?("/") ? "[#{host}]" : host}#{port}/#{info[:dbname]}"
        end

        def configure(conn, application_name)
          conn.exec(<<~SQL)
            SET application_name = #{conn.escape_literal(application_name)};
            SET statement_timeout = #{millis(@statement_timeout)};
            SET lock_timeout = #{millis(@lock_timeout)};
            SET idle_in_transaction_session_timeout = #{millis(@idle_in_transaction_timeout)};
            SET synchronous_commit = on;
            SET client_min_messages = warning;
            SET jit = off;
          SQL
        end

        def millis(seconds)
          (seconds * 1000).round
        end

        def seconds!(name, value)
          return value if value.is_a?(Numeric) && value.real? && value >= 0 && value.to_f.finite?

          raise ArgumentError, "#{name} must be a non-negative number of seconds, got #{value.inspect}"
        end
      end
    end
  end
end
