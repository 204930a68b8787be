# frozen_string_literal: true

RSpec.describe "Igniter::Store::PostgresBackend opening a ledger", :postgres do
  it "creates its tables in its own schema with a version row, and a second open migrates nothing" do
    schema = fresh_pg_schema
    first = pg_backend(schema: schema)
    expect(first.schema_version).to eq(Igniter::Store::Postgres::Schema.latest_version)
    tables = pg_session.exec_params("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                                    [schema]).column_values(0)
    expect(tables).to eq(%w[clock cursors facts flushes heads schema_version])
    migrated_at = pg_session.exec(%(SELECT migrated_at FROM "#{schema}".schema_version)).getvalue(0, 0)

    second = pg_backend(schema: schema)
    expect(second.schema_version).to eq(first.schema_version)
    # Re-running the migrations is a no-op: the version row is not even touched.
    expect(pg_session.exec(%(SELECT count(*), max(migrated_at) FROM "#{schema}".schema_version)).values)
      .to eq([["1", migrated_at]])
  end

  it "refuses a schema migrated by a newer igniter-ledger, naming both versions" do
    schema = fresh_pg_schema
    pg_backend(schema: schema).close
    pg_session.exec(%(UPDATE "#{schema}".schema_version SET version = 99))
    expect { pg_backend(schema: schema) }.to raise_error(Igniter::Store::Postgres::SchemaVersionError, /version 99.*\(#{Igniter::Store::Postgres::Schema.latest_version}\)/)
  end

  # A ledger as version 1 or 2 of the gem left it: its migrations, then one
  # fact and its head written the way those versions wrote them.
  def old_ledger(version)
    schema = fresh_pg_schema
    quoted = %("#{schema}")
    pg_session.exec(%(CREATE SCHEMA #{quoted}))
    pg_session.exec(%(CREATE TABLE #{quoted}.schema_version (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                      version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())))
    Igniter::Store::Postgres::Schema::MIGRATIONS.take(version).each { |sql| pg_session.exec(format(sql, t: quoted)) }
    pg_session.exec_params(%(INSERT INTO #{quoted}.schema_version (version) VALUES ($1)), [version])
    old = Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { title: "one", status: "open" })
    body = Igniter::Store::Postgres::Rows.body(old)
    pg_session.exec_params(%(INSERT INTO #{quoted}.facts VALUES (1, $1, 'tasks', 't1', 1, NULL, 10.5, $2)), [old.id, body])
    pg_session.exec_params(%(INSERT INTO #{quoted}.heads VALUES ('tasks', 't1', $1, 1, 1, 1, ($2::jsonb) -> 'value')),
                           [old.id, body])
    pg_session.exec(%(UPDATE #{quoted}.clock SET position = 1, transaction_time = 10.5, fact_count = 1))
    [schema, old]
  end

  it "upgrades a version 1 ledger in place, keeping its facts" do
    schema, old = old_ledger(1)
    reopened = pg_store(schema: schema)
    expect(pg_session.exec(%(SELECT version FROM "#{schema}".schema_version)).getvalue(0, 0).to_i)
      .to eq(Igniter::Store::Postgres::Schema.latest_version)
    expect(reopened.read(store: :tasks, key: "t1")).to eq(title: "one", status: "open")
    expect(reopened.write(store: :tasks, key: "t1", value: { title: "two" }).causation).to eq(old.id)
  end

  it "upgrades a version 2 ledger in place: two fewer facts indexes, heads by fact id without a value copy, facts kept" do
    schema, old = old_ledger(2)
    quoted = %("#{schema}")
    indexes = lambda do
      pg_session.exec_params("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'facts' ORDER BY 1",
                             [schema]).column_values(0)
    end
    expect(indexes.call).to eq(%w[facts_by_key_time facts_by_store facts_id_key facts_pkey facts_store_key_key_version_key])

    store = pg_store(schema: schema)
    store.register_path(Igniter::Store::AccessPath.new(store: :tasks, lookup: :scope, scope: :open, filters: { status: "open" }))
    store.write(store: :tasks, key: "t0", value: { title: "zero", status: "open" })
    expect(pg_session.exec(%(SELECT version FROM #{quoted}.schema_version)).getvalue(0, 0).to_i)
      .to eq(Igniter::Store::Postgres::Schema.latest_version)
    expect(indexes.call).to eq(%w[facts_by_key_time facts_id_key facts_pkey])
    expect(pg_session.exec_params("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 " \
                                  "AND table_name = 'heads' ORDER BY ordinal_position", [schema]).column_values(0))
      .to eq(%w[store key fact_id key_version first_fact_id replaced_fact_id])
    expect(store.read(store: :tasks, key: "t1")).to eq(title: "one", status: "open")
    # First-write order: t1 (position 1, before the upgrade) before t0.
    expect(store.query(store: :tasks, scope: :open).map(&:key)).to eq(%w[t1 t0])
    newer = store.write(store: :tasks, key: "t1", value: { title: "two", status: "done" })
    expect(newer.causation).to eq(old.id)
    expect(store.history(store: :tasks, key: "t1").map(&:id)).to eq([old.id, newer.id])
    expect(store.read(store: :tasks, key: "t1", as_of: 10.5)).to eq(title: "one", status: "open")
    expect(store.query(store: :tasks, scope: :open).map(&:key)).to eq(%w[t0])
  end

  it "opens as Igniter::Store.postgres and Igniter::Ledger.open with a postgresql:// URL, without replaying" do
    schema = fresh_pg_schema
    writer = pg_store(schema: schema)
    writer.write(store: :tasks, key: "t1", value: { title: "one" })
    via_ledger = Igniter::Ledger.open(pg_url, schema: schema)
    pg_closables << via_ledger
    expect(via_ledger).to be_a(Igniter::Store::IgniterStore)
    expect(via_ledger.read(store: :tasks, key: "t1")).to eq(title: "one")
    expect(via_ledger.instance_variable_get(:@log)).to be_a(Igniter::Store::Postgres::FactLog)
  end

  it "takes an existing PG::Connection and a connection factory" do
    schema = fresh_pg_schema
    given = PG.connect(pg_url)
    by_connection = pg_store(schema: schema, connection: given, url: nil)
    by_connection.write(store: :s, key: "k", value: 1)
    made = []
    factory = -> { PG.connect(pg_url).tap { |c| made << c } }
    by_factory = Igniter::Store.postgres(nil, schema: schema, connection_factory: factory)
    pg_closables << by_factory
    expect(by_factory.read(store: :s, key: "k")).to eq(1)
    expect(made).not_to be_empty
  end

  it "applies the configured timeouts to its sessions" do
    backend = pg_backend(statement_timeout: 7, lock_timeout: 0.25, idle_in_transaction_timeout: 3)
    conn = Igniter::Store::Postgres::Connection.new(backend.config, "probe")
    settings = conn.synchronize do |pg|
      %w[statement_timeout lock_timeout idle_in_transaction_session_timeout synchronous_commit].map do |name|
        pg.exec("SHOW #{name}").getvalue(0, 0)
      end
    end
    conn.close
    expect(settings).to eq(%w[7s 250ms 3s on])
  end

  it "rejects a schema name that is not a plain identifier and negative timeouts" do
    expect { Igniter::Store::PostgresBackend.new(url: pg_url, schema: "x; DROP TABLE y") }
      .to raise_error(ArgumentError, /schema must be a lowercase SQL identifier/)
    expect { Igniter::Store::PostgresBackend.new(url: pg_url, lock_timeout: -1) }
      .to raise_error(ArgumentError, /lock_timeout must be a non-negative number/)
  end

  it "names bin/setup-free alternatives when neither url:, connection: nor DATABASE_URL is given" do
    expect { Igniter::Store::Postgres::Config.new(env: {}) }.to raise_error(ArgumentError, /url:, connection:.*DATABASE_URL/)
    expect(Igniter::Store::Postgres::Config.new(env: { "DATABASE_URL" => pg_url }).display_url).to include("/ledger")
  end

  it "reports storage statistics for the ledger and for one store" do
    store = pg_store
    store.write(store: :a, key: "x", value: 1)
    store.write(store: :a, key: "x", value: 2)
    store.write(store: :b, key: "y", value: 3)
    expect(store.storage_stats).to include(position: 3, fact_count: 3, keys: 2)
    expect(store.storage_stats[:bytes]).to be > 0
    expect(store.storage_stats(store: :a)).to eq(store: :a, facts: 2, keys: 1)
  end

  it "loads the gem without pg and explains how to get it when the backend is used" do
    script = <<~RUBY
      $LOAD_PATH.reject! { |p| p.include?("vendor_ruby") }
      module Kernel
        alias_method :__req, :require
        def require(name)
          raise LoadError, "cannot load such file -- pg" if name == "pg"
          __req(name)
        end
      end
      require "igniter-ledger"
      puts Igniter::Store.memory.write(store: :s, key: "k", value: 1).value
      begin
        Igniter::Store::PostgresBackend
      rescue LoadError => e
        puts e.message
      end
    RUBY
    out, err, status = run_ruby(script, env: Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV)
    expect(status).to be_success, err
    expect(out.lines.first.chomp).to eq("1")
    expect(out).to include("install ruby-pg").and include('add `gem "pg"`')
  end
end
