# frozen_string_literal: true

require "pg"
require "securerandom"

# The PostgreSQL rows' floor: what the cluster of this run allows for the
# counter design of POSTGRES.md with no gem code at all. One plain `PG`
# connection per writer runs the smallest transaction that keeps the
# guarantees of doc/postgres.md ("Why positions follow commit order"): bump
# the one-row clock (its row lock held to COMMIT), insert the facts at the
# positions it gave, commit with `synchronous_commit` on. The table has the
# three indexes the backend's reads need (position, id, store/key/time) and
# bodies of the bench's size; there are no heads, no causation lookup, no
# NOTIFY, and the rows are built by the server (`generate_series`).
#
# Each row of bench/postgres.rb is measured next to its floor, so a rate can be
# read against the disk's flush time of that moment (it moves 10× between
# hours on this machine: doc/postgres.md, "Performance").
module PgSqlFloor
  module_function

  # A body of the bench's size (bench/harness.rb's value, 464 WAL bytes per fact).
  BODY = JSON.generate({ id: SecureRandom.uuid, store: "tasks", key: "k0",
                         value: { n: 0, title: "task 0", status: "open", tags: %w[ops q0 t0], nested: { x: 0, y: 0 } },
                         value_hash: "0" * 64, causation: nil, transaction_time: 1_796_313_589.6083727,
                         valid_time: nil, schema_version: 1, producer: nil, derivation: nil,
                         symbols: [%w[value status]] })

  # Creates the floor's schema +name+ (dropped first if left by a run).
  # @param url [String] libpq URL of the bench's cluster
  # @param name [String] schema name
  def prepare(url, name)
    conn = PG.connect(url)
    conn.exec(<<~SQL)
      DROP SCHEMA IF EXISTS #{name} CASCADE;
      CREATE SCHEMA #{name};
      CREATE TABLE #{name}.facts (position bigint PRIMARY KEY, id uuid NOT NULL UNIQUE, store text NOT NULL,
        key text NOT NULL, body text NOT NULL, transaction_time double precision NOT NULL);
      CREATE INDEX ON #{name}.facts (store, key, transaction_time);
      CREATE TABLE #{name}.clock (one boolean PRIMARY KEY, position bigint NOT NULL, transaction_time double precision NOT NULL);
      INSERT INTO #{name}.clock VALUES (true, 0, 0);
    SQL
    conn.close
  end

  # Commits +commits+ transactions of +size+ facts each over +keys+ keys.
  # @return [Float] facts per second
  def run(url, name, commits:, size:, keys: 100)
    conn = PG.connect(url)
    # One statement, so one round trip and one transaction per commit: the
    # clock's row lock is taken first and held until the commit's flush.
    conn.prepare("commit", <<~SQL)
      WITH tick AS (
        UPDATE #{name}.clock SET position = position + $1,
          transaction_time = greatest(transaction_time + 1e-6, extract(epoch FROM clock_timestamp()))
        RETURNING position, transaction_time
      )
      INSERT INTO #{name}.facts
      SELECT tick.position - $1::int + g, gen_random_uuid(), 'tasks', 'k' || ((tick.position + g) % $2::int),
             $3::text, tick.transaction_time
      FROM tick, generate_series(1, $1::int) g
    SQL
    t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    commits.times { conn.exec_prepared("commit", [size, keys, BODY]) }
    commits * size / (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t)
  ensure
    conn&.close
  end
end
