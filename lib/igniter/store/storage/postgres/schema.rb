# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # The ledger's tables (doc/postgres.md) and their migrations. A
      # `schema_version` row records the last migration applied; {#migrate!}
      # applies the missing ones under a transaction-scoped advisory lock, so
      # processes opening a new ledger at once migrate it exactly once, and a
      # second run is a no-op.
      class Schema
        # Each entry upgrades the schema from version (index) to index + 1.
        # `%<t>s` stands for the quoted schema name.
        MIGRATIONS = [
          <<~SQL,
            CREATE TABLE %<t>s.clock (
              singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
              position bigint NOT NULL,
              transaction_time double precision NOT NULL,
              fact_count bigint NOT NULL
            );
            INSERT INTO %<t>s.clock VALUES (true, 0, 0, 0);
            -- The planner must know the clock has one row: unanalyzed, it guesses
            -- ~1,500, and the write statement's joins on heads turn into scans.
            ANALYZE %<t>s.clock;
            CREATE TABLE %<t>s.facts (
              position bigint PRIMARY KEY,
              id text NOT NULL UNIQUE,
              store text NOT NULL,
              key text NOT NULL,
              key_version integer NOT NULL,
              causation text,
              transaction_time double precision NOT NULL,
              body text NOT NULL,
              UNIQUE (store, key, key_version)
            );
            CREATE INDEX facts_by_key_time ON %<t>s.facts (store, key, transaction_time);
            CREATE INDEX facts_by_store ON %<t>s.facts (store, position);
            CREATE TABLE %<t>s.heads (
              store text NOT NULL,
              key text NOT NULL,
              fact_id text NOT NULL,
              position bigint NOT NULL,
              key_version integer NOT NULL,
              first_position bigint NOT NULL,
              value jsonb,
              PRIMARY KEY (store, key)
            );
            CREATE TABLE %<t>s.cursors (
              consumer text PRIMARY KEY,
              position bigint NOT NULL,
              updated_at timestamptz NOT NULL DEFAULT now()
            );
          SQL
          # Version 2: one row per session slot for the durability barrier of
          # group commit (storage/postgres/durability.rb); room on each heads
          # page, so moving a head is a HOT update (no new index entry).
          <<~SQL,
            CREATE TABLE %<t>s.flushes (
              slot integer PRIMARY KEY,
              n bigint NOT NULL
            ) WITH (fillfactor = 50);
            INSERT INTO %<t>s.flushes SELECT slot, 0 FROM generate_series(0, 1023) AS slot;
            ALTER TABLE %<t>s.heads SET (fillfactor = 50);
          SQL
          # Version 3: what a write costs (doc/postgres.md, "Performance").
          # Two of the five indexes of `facts` go: `(store, position)` (a
          # store's history and store-filtered feed pages read the primary
          # key or `facts_by_key_time` instead) and the unique
          # `(store, key, key_version)`, a second guard of the chains, which
          # the head row lock keeps unforked. A head is moved by the upsert
          # that locks it, before the clock is known, so it holds no
          # positions: the head's fact and the key's first fact are named by
          # id (`first_fact_id` orders scopes by first write), and
          # `replaced_fact_id` hands the write the fact it replaced (the
          # causation). `heads.value` goes: it was a jsonb copy of the head's
          # value, parsed by the server at every write; a scope filter now
          # takes it from the head's fact body.
          <<~SQL
            DROP INDEX %<t>s.facts_by_store;
            ALTER TABLE %<t>s.facts DROP CONSTRAINT facts_store_key_key_version_key;
            ALTER TABLE %<t>s.heads ADD COLUMN first_fact_id text, ADD COLUMN replaced_fact_id text;
            UPDATE %<t>s.heads h SET first_fact_id = f.id FROM %<t>s.facts f WHERE f.position = h.first_position;
            UPDATE %<t>s.heads h SET first_fact_id = (SELECT id FROM %<t>s.facts f WHERE f.store = h.store AND f.key = h.key
                                                      ORDER BY position LIMIT 1)
            WHERE first_fact_id IS NULL;
            ALTER TABLE %<t>s.heads DROP COLUMN value, DROP COLUMN position, DROP COLUMN first_position,
              ALTER COLUMN first_fact_id SET NOT NULL;
          SQL
        ].freeze

        # @return [Integer] the schema version this igniter-ledger writes
        def self.latest_version
          MIGRATIONS.size
        end

        # @param config [Config]
        def initialize(config)
          @config = config
          @quoted = %("#{config.schema}")
        end

        # Creates the schema and applies every missing migration.
        # @param conn [Connection]
        # @return [Integer] the version now in force
        # @raise [SchemaVersionError] when the database is newer than this gem
        def migrate!(conn)
          conn.transaction do
            conn.synchronize do |pg|
              pg.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", ["igniter-ledger migrate #{@config.schema}"])
              pg.exec("CREATE SCHEMA IF NOT EXISTS #{@quoted}")
              pg.exec(<<~SQL)
                CREATE TABLE IF NOT EXISTS #{@quoted}.schema_version (
                  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                  version integer NOT NULL,
                  migrated_at timestamptz NOT NULL DEFAULT now()
                )
              SQL
              rows = pg.exec("SELECT version FROM #{@quoted}.schema_version")
              current = rows.ntuples.zero? ? 0 : rows.getvalue(0, 0).to_i
              check!(current)
              next current if current == self.class.latest_version

              MIGRATIONS.drop(current).each { |sql| pg.exec(format(sql, t: @quoted)) }
              pg.exec_params(<<~SQL, [self.class.latest_version])
                INSERT INTO #{@quoted}.schema_version (singleton, version) VALUES (true, $1)
                ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()
              SQL
              self.class.latest_version
            end
          end
        end

        private

        def check!(current)
          return if current <= self.class.latest_version

          raise SchemaVersionError,
                "schema #{@config.schema} at #{@config.display_url} is at version #{current}, newer than " \
                "this igniter-ledger #{VERSION} knows (#{self.class.latest_version}); upgrade the gem"
        end
      end
    end
  end
end
