# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # The SQL reads behind {FactLog}. Every call is one statement on the
      # read session in autocommit mode, so it sees every transaction that
      # committed before it started (READ COMMITTED): a fact another process
      # wrote before this read began is always seen.
      class Reader
        # Rows fetched per query of a full scan.
        PAGE = 5_000

        # @param conn [Connection] the read session
        # @param config [Config]
        def initialize(conn, config)
          @conn = conn
          @config = config
          @sql = statements
        end

        # @return [Fact, nil] the key's head, or its last fact with tt <= as_of
        def latest(store, key, as_of)
          rows = if as_of.nil?
                   @conn.exec("igniter_head", @sql[:head], [store, key])
                 else
                   @conn.exec("igniter_latest_as_of", @sql[:latest_as_of], [store, key, float(as_of)])
                 end
          first(rows)
        end

        # @return [Array<Fact>] position order, inclusive bounds
        def facts(store, key, since, as_of)
          bounds = [float(since), float(as_of)]
          rows = if key.nil?
                   @conn.exec("igniter_store_facts", @sql[:store_facts], [store, *bounds])
                 else
                   @conn.exec("igniter_key_facts", @sql[:key_facts], [store, key, *bounds])
                 end
          decode(rows)
        end

        # Latest fact per key (as of +as_of+), keys in first-write order,
        # prefiltered in SQL by +needles+: texts every candidate's body
        # contains (nil or empty: no prefilter).
        # @return [Array<Fact>]
        def latest_per_key(store, as_of, needles)
          rows = if as_of.nil?
                   @conn.exec("igniter_scope_heads", @sql[:scope_heads], [store, Rows.text_array(needles || [])])
                 else
                   @conn.exec("igniter_scope_as_of", @sql[:scope_as_of], [store, float(as_of)])
                 end
          decode(rows)
        end

        # Facts of +store+ whose body contains +needle+ (nil: all), for Ruby-side filters.
        # @return [Array<Fact>]
        def store_facts_containing(store, needle, since, as_of)
          decode(@conn.exec("igniter_store_needle", @sql[:store_needle], [store, needle, float(since), float(as_of)]))
        end

        # @return [Fact, nil]
        def fact_by_id(id)
          first(@conn.exec("igniter_fact_by_id", @sql[:by_id], [id]))
        end

        # @return [Integer] live facts
        def count
          @conn.exec("igniter_count", "SELECT fact_count FROM #{@config.table("clock")}").getvalue(0, 0).to_i
        end

        # Position of the last commit, once it is durable: the feeds start
        # there, and with group commit a commit can be visible a moment
        # before its flush (a crash then would hand its position to another
        # fact, which a feed starting past it would never deliver).
        # @return [Integer]
        def position
          at = @conn.exec("igniter_position", "SELECT position FROM #{@config.table("clock")}").getvalue(0, 0).to_i
          Durability.barrier(@conn, @config)
          at
        end

        # Up to +limit+ facts after +position+, optionally of some stores
        # only. The feeds read with +durable+: with group commit the page is
        # handed out only after a durability barrier, so no feed delivers a
        # fact that a server crash could still take back.
        # @param stores [Array<String>, nil]
        # @param durable [Boolean]
        # @return [Array<Array(Integer, Fact)>] [position, fact] pairs
        def page(position, limit, stores = nil, durable: false)
          rows = if stores
                   @conn.exec("igniter_page_stores", @sql[:page_stores], [position, limit, Rows.text_array(stores)])
                 else
                   @conn.exec("igniter_page", @sql[:page], [position, limit])
                 end
          Durability.barrier(@conn, @config) if durable && rows.ntuples.positive?
          rows.map { |r| [r["position"].to_i, Rows.fact(r, @config)] }
        end

        # Yields every fact in position order, a page at a time (keyset, never OFFSET).
        # @yieldparam fact [Fact]
        # @return [void]
        def each_fact(stores = nil)
          position = 0
          loop do
            batch = page(position, PAGE, stores)
            batch.each { |_, fact| yield fact }
            break if batch.size < PAGE

            position = batch.last[0]
          end
        end

        # @return [Hash] table sizes and counters
        def stats(store)
          if store
            row = @conn.exec("igniter_store_stats", @sql[:store_stats], [store]).first
            { store: store.to_sym, facts: row["facts"].to_i, keys: row["keys"].to_i }
          else
            row = @conn.exec("igniter_stats", @sql[:stats]).first
            row.to_h { |k, v| [k.to_sym, k == "transaction_time" ? Float(v) : v.to_i] }
          end
        end

        private

        def float(time)
          time&.to_f&.to_s
        end

        def first(rows)
          return nil if rows.ntuples.zero?

          Rows.fact(rows[0], @config)
        end

        def decode(rows)
          rows.map { |r| Rows.fact(r, @config) }
        end

        def statements
          facts = @config.table("facts")
          heads = @config.table("heads")
          clock = @config.table("clock")
          bounds = "($%<s>d::float8 IS NULL OR transaction_time >= $%<s>d) AND ($%<a>d::float8 IS NULL OR transaction_time <= $%<a>d)"
          {
            head: "SELECT #{Rows::F_COLUMNS} FROM #{heads} h JOIN #{facts} f ON f.id = h.fact_id " \
                  "WHERE h.store = $1 AND h.key = $2",
            latest_as_of: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE store = $1 AND key = $2 AND transaction_time <= $3 " \
                          "ORDER BY transaction_time DESC LIMIT 1",
            key_facts: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE store = $1 AND key = $2 AND " \
                       "#{format(bounds, s: 3, a: 4)} ORDER BY key_version",
            store_facts: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE store = $1 AND #{format(bounds, s: 2, a: 3)} " \
                         "ORDER BY position",
            store_needle: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE store = $1 AND ($2::text IS NULL OR " \
                          "strpos(body, $2) > 0) AND #{format(bounds, s: 3, a: 4)} ORDER BY position",
            # Head by head (the LATERAL … OFFSET 0 keeps the planner from
            # scanning every fact of the ledger for the needles instead); the
            # first fact's position is looked up for the matching heads only.
            scope_heads: "SELECT #{Rows::F_COLUMNS} FROM #{heads} h " \
                         "CROSS JOIN LATERAL (SELECT #{Rows::COLUMNS} FROM #{facts} f WHERE f.id = h.fact_id OFFSET 0) f " \
                         "WHERE h.store = $1 AND NOT EXISTS " \
                         "(SELECT 1 FROM unnest($2::text[]) AS n(needle) WHERE strpos(f.body, n.needle) = 0) " \
                         "ORDER BY (SELECT position FROM #{facts} first WHERE first.id = h.first_fact_id)",
            scope_as_of: "SELECT #{Rows::COLUMNS} FROM (SELECT DISTINCT ON (key) #{Rows::COLUMNS}, " \
                         "min(position) OVER (PARTITION BY key) AS first_position FROM #{facts} " \
                         "WHERE store = $1 AND transaction_time <= $2 ORDER BY key, transaction_time DESC) latest " \
                         "ORDER BY first_position",
            by_id: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE id = $1",
            page: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE position > $1 ORDER BY position LIMIT $2",
            page_stores: "SELECT #{Rows::COLUMNS} FROM #{facts} WHERE position > $1 AND store = ANY($3::text[]) " \
                         "ORDER BY position LIMIT $2",
            store_stats: "SELECT count(*) AS facts, count(DISTINCT key) AS keys FROM #{facts} WHERE store = $1",
            stats: "SELECT c.position, c.fact_count, c.transaction_time, " \
                   "(SELECT count(*) FROM #{heads}) AS keys, " \
                   "pg_total_relation_size('#{facts}') + pg_total_relation_size('#{heads}') AS bytes FROM #{clock} c"
          }
        end
      end
    end
  end
end
