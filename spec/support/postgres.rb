# frozen_string_literal: true

require "securerandom"

# PostgreSQL for the suite: each rspec process starts its own throwaway
# cluster (Igniter::Store::Postgres::ThrowawayCluster: a temp dir, a unix
# socket only, a non-root server user) the first time an example needs it,
# and stops it after the suite (and at exit).
#
# - Groups tagged `:postgres` need the cluster. Without PostgreSQL they fail
#   with a message naming bin/setup, unless IGNITER_LEDGER_SKIP_POSTGRES=1.
# - `ledger_store(**opts)` is the store under test of the engine specs: an
#   in-memory IgniterStore, or with IGNITER_LEDGER_SPEC_BACKEND=postgres a
#   store over a fresh schema of the suite's cluster (`rake spec:postgres:*`).
# - Examples that cannot hold on PostgreSQL carry `not_on_postgres: "reason"`;
#   on that backend they are reported as skipped with the reason.
module LedgerSpec
  module Postgres
    SKIP_ENV = "IGNITER_LEDGER_SKIP_POSTGRES"
    BACKEND_ENV = "IGNITER_LEDGER_SPEC_BACKEND"

    class << self
      # @return [Boolean] true when the engine specs run against PostgreSQL
      def backend?
        ENV[BACKEND_ENV] == "postgres"
      end

      # @return [Boolean]
      def skipped?
        ENV[SKIP_ENV] == "1"
      end

      # The process's cluster, started on first use.
      def cluster
        @cluster ||= begin
          require "pg"
          require "igniter/store/storage/postgres/throwaway_cluster"
          Igniter::Store::PostgresBackend # loads the backend (autoload)
          Igniter::Store::Postgres::ThrowawayCluster.new.start
        end
      rescue LoadError, Igniter::Store::Error => e
        raise "PostgreSQL specs need PostgreSQL and ruby-pg: run bin/setup (or set #{SKIP_ENV}=1 to skip them). #{e.message}"
      end

      # @return [String] libpq URL of the suite's database
      def url
        cluster.url
      end

      # @return [void]
      def stop
        @cluster&.stop
        @cluster = nil
      end
    end
  end

  module PostgresHelpers
    # A new schema name; the schema is dropped after the example.
    def fresh_pg_schema
      name = "spec_#{SecureRandom.hex(6)}"
      pg_schemas << name
      name
    end

    # @return [String]
    def pg_url
      LedgerSpec::Postgres.url
    end

    # A store over a fresh schema (or +schema+), closed after the example.
    def pg_store(schema: nil, **opts)
      store = Igniter::Store.postgres(pg_url, schema: schema || fresh_pg_schema, poll_interval: 0.05, **opts)
      pg_closables << store
      store
    end

    # A PostgresBackend over +schema+ (a fresh one by default), closed after the example.
    def pg_backend(schema: nil, **opts)
      backend = Igniter::Store::PostgresBackend.new(url: pg_url, schema: schema || fresh_pg_schema,
                                                    poll_interval: 0.05, **opts)
      pg_closables << backend
      backend
    end

    # A raw session for assertions on the tables.
    def pg_session
      require "pg"
      @pg_session ||= PG.connect(pg_url).tap { |c| c.exec("SET client_min_messages = warning") }
    end

    # The engine's store under test: in memory, or over PostgreSQL when
    # IGNITER_LEDGER_SPEC_BACKEND=postgres.
    def ledger_store(**opts)
      return Igniter::Store::IgniterStore.new(**opts) unless LedgerSpec::Postgres.backend?

      skip "#{LedgerSpec::Postgres::SKIP_ENV}=1" if LedgerSpec::Postgres.skipped?
      pg_store(**opts)
    end

    def pg_schemas
      @pg_schemas ||= []
    end

    def pg_closables
      @pg_closables ||= []
    end

    def pg_cleanup
      pg_closables.reverse_each do |closable|
        closable.close
      rescue StandardError
        nil
      end
      pg_closables.clear
      return if pg_schemas.empty?

      pg_schemas.each { |schema| pg_session.exec(%(DROP SCHEMA IF EXISTS "#{schema}" CASCADE)) }
      pg_schemas.clear
    ensure
      @pg_session&.close
      @pg_session = nil
    end
  end
end

RSpec.configure do |config|
  config.include LedgerSpec::PostgresHelpers

  config.before(:each, :postgres) do
    skip "#{LedgerSpec::Postgres::SKIP_ENV}=1" if LedgerSpec::Postgres.skipped?
    LedgerSpec::Postgres.cluster
  end

  config.before(:each, :not_on_postgres) do |example|
    skip "not on PostgreSQL: #{example.metadata[:not_on_postgres]}" if LedgerSpec::Postgres.backend?
  end

  config.after(:each) { pg_cleanup if @pg_closables || @pg_schemas || @pg_session }

  config.after(:suite) { LedgerSpec::Postgres.stop }
end
