# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # The write transaction (doc/postgres.md, "The write transaction") is
      # one statement:
      #
      # 1. move the heads of the keys written, in sorted order (an UPDATE of
      #    the existing ones, then an upsert of the new ones, so a key's first
      #    write waits for a concurrent first write of the same key instead of
      #    failing); each head row stays locked to COMMIT and returns the fact
      #    it replaced (causation) and its new key_version;
      # 2. last, bump the one-row clock: its row lock is held to COMMIT, so
      #    positions are handed out in commit order, without gaps (a rollback
      #    or a killed client rolls the counter back too), and the
      #    transaction times taken from it rise strictly with position;
      # 3. insert the facts, NOTIFY the new position;
      # 4. COMMIT; with group commit without waiting for the
      #    flush, followed by a durability barrier ({Durability}) that does.
      #
      # A lost connection is settled before anything is retried: the old
      # server session is terminated, then the fact ids are looked up. Found,
      # the write had committed and its facts are returned; absent, it is run
      # once more. Either way no fact is written twice.
      class Writer
        # One fact to commit: +fact+ is built (id, value, hash) but its
        # causation and transaction time are settled in the transaction unless
        # +verbatim+ (a fact ingested from elsewhere keeps both).
        Item = Struct.new(:fact, :id, :store, :key, :causation, :verbatim, :body)

        # A committed fact and its position in the ledger.
        Committed = Struct.new(:fact, :position)

        # Epsilon between consecutive transaction times (the spacing of
        # Floats near today's epoch seconds is about 2.4e-7).
        TICK = 0.000001
        # Retries of a commit that hit a deadlock or a serialization failure.
        RETRIES = 5
        # Settings of the write session. Its write statement runs on a
        # generic plan: planning it anew for each commit cost more server
        # time than running it. A generic plan is made at the first run in a
        # session — often on a new, empty ledger, where a sequential scan of
        # `heads` looks cheapest and would then be kept for every later
        # write — so it is planned without sequential scans, which keeps
        # every head a lookup by key. (Session settings, not SET LOCAL: the
        # statement is planned when it is bound, before anything in its
        # transaction could set them, and a commit has no other statement.)
        SESSION_SETTINGS = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off"
        # Seconds to wait for the server session of a lost connection to end.
        SETTLE_TIMEOUT = 5

        # @param conn [Connection] the write session
        # @param config [Config]
        def initialize(conn, config)
          @conn = conn
          @config = config
          @sql = statements
        end

        # Commits +items+ in one transaction.
        # @param items [Array<Item>]
        # @return [Array<Committed>] in position order
        # @raise [InvalidFactError] a fact id that is already in the ledger
        # @raise [ConnectionError, WriteOutcomeUnknownError]
        def commit(items)
          # Encoded before BEGIN: only cheap work happens under the clock lock.
          items.each { |item| item.body = Rows.body(item.fact, item.id) }
          attempts = 0
          settled = false
          begin
            pid = @conn.backend_pid
            run(items).map { |item, position, causation, time| Committed.new(stamped_fact(item, causation, time), position) }
          rescue PG::TRDeadlockDetected, PG::TRSerializationFailure
            raise if (attempts += 1) > RETRIES

            retry
          rescue PG::UniqueViolation => e
            raise unless constraint(e) == "facts_id_key"

            raise InvalidFactError, "duplicate fact id #{items.map { |i| i.id }.join(", ")} in #{@config.display_url}"
          rescue StandardError => e
            raise unless @conn.lost?(e) && !settled

            @conn.discard
            committed = settle(pid, items)
            return committed if committed

            settled = true
            retry
          end
        end

        # Deletes the facts with these ids in one transaction (exact prune,
        # compaction). The heads of the keys they belonged to are locked
        # first (sorted); a head whose fact went moves back to the key's last
        # remaining fact, or is deleted with the key's last fact.
        # @param ids [Array<String>]
        # @return [Integer] facts deleted
        def remove(ids)
          return 0 if ids.empty?

          @conn.transaction do
            keys = @conn.exec("igniter_keys_of_ids", @sql[:keys_of_ids], [Rows.text_array(ids)]).values
            next 0 if keys.empty?

            pair_params = [Rows.text_array(keys.map(&:first)), Rows.text_array(keys.map(&:last))]
            @conn.exec("igniter_lock_existing_heads", @sql[:lock_existing_heads], pair_params)
            removed = @conn.exec("igniter_delete_facts", @sql[:delete_facts], [Rows.text_array(ids)]).ntuples
            # Heads whose key lost every fact go; the others point at the key's last remaining fact.
            @conn.exec("igniter_drop_empty_heads", @sql[:drop_empty_heads], pair_params)
            @conn.exec("igniter_repair_heads", @sql[:repair_heads], pair_params)
            @conn.exec("igniter_uncount", @sql[:uncount], [removed])
            removed
          end
        end

        private

        # One round trip (libpq pipeline mode): BEGIN, the write statement,
        # COMMIT, and with group commit the barrier (synchronous_commit is
        # off for that transaction, set by the statement). The clock lock is
        # held only while the server stamps and inserts and while the commit
        # flushes: never across a client round trip.
        # @return [Array<Array>] [item, position, causation, time] per item
        def run(items)
          write = write_step(items)
          steps = if @config.group_commit
                    # Group commit (doc/postgres.md, "Group commit"): the commit
                    # record is written but not waited for, so the clock lock
                    # ends before the WAL flush; the barrier after COMMIT is a
                    # synchronous commit of its own whose flush covers this
                    # record, and the write returns only after it.
                    ["BEGIN", write, "COMMIT", Durability.barrier_step(@config)]
                  else
                    ["BEGIN", write, "COMMIT"]
                  end
          stamped = @conn.pipeline(steps)[steps.index(write)]
          stamped.values.each_with_index.map do |(position, causation, time), i|
            [items[i], position.to_i, causation, Float(time)]
          end
        rescue Exception # rubocop:disable Lint/RescueException -- a Timeout or Interrupt must roll back too
          @conn.rollback
          raise
        end

        # The write statement's parameters. Where each item stands in its
        # key's chain through the batch is worked out here, so the server
        # sorts nothing: per key (sorted, the order the heads are locked in)
        # the index of its last item, its item count and the index of its
        # first item; per item the index of its key, its rank among its
        # key's items, how many of them follow it, and its causation when
        # the caller or an earlier item of the batch gives it. Integers go
        # through a typed encoder, and a column that is all NULL (causation,
        # verbatim times: the usual batch) as one NULL, which `unnest` pads:
        # fewer array elements to encode and parse. The bodies travel as one
        # text joined by {Rows::BODY_SEPARATOR}, split by the server without
        # the escaping an array literal of JSON texts would need.
        def write_step(items)
          chain = chain_columns(items)
          verbatim_times = items.map { |i| i.verbatim ? i.fact.transaction_time.to_f : nil }
          floor = verbatim_times.compact.max || 0.0
          stores, names, last, counts, first = chain[:keys]
          ["igniter_write", @sql[:write],
           [Rows.text_array(stores), Rows.text_array(names), Rows.int_array(last), Rows.int_array(counts),
            Rows.int_array(first), items.size, floor.to_s, Rows.text_array(items.map(&:id)), Rows.int_array(chain[:key_index]),
            Rows.text_array_or_null(chain[:causation]), Rows.float_array_or_null(verbatim_times),
            Rows.int_array(chain[:nth]), Rows.int_array(chain[:behind]), Rows.joined_bodies(items.map(&:body)),
            @config.channel, @config.group_commit ? "off" : "on"]]
        end

        # Per item: causation (the caller's; else, unless verbatim, the
        # previous item of its key in the batch; nil leaves it to the head),
        # rank among its key's items, how many of them follow it, and the
        # (1-based) index of its key. Per key, sorted by (store, key): store,
        # key, (1-based) indexes of its last and first items, item count.
        def chain_columns(items)
          n = items.size
          causation = Array.new(n)
          nth = Array.new(n, 1)
          keys = {}
          items.each_with_index do |item, i|
            of_store = (keys[item.store] ||= {})
            causation[i] = item.causation
            # [index of the key's last item so far, index of its first]
            entry = of_store[item.key]
            if entry
              causation[i] ||= items[entry[0]].id unless item.verbatim
              nth[i] = nth[entry[0]] + 1
              entry[0] = i
            else
              of_store[item.key] = [i, i]
            end
          end
          chain_keys(items, keys, nth).merge(causation: causation, nth: nth)
        end

        def chain_keys(items, keys, nth)
          stores = []
          names = []
          lasts = []
          counts = []
          firsts = []
          keys.keys.sort.each do |store|
            of_store = keys[store]
            of_store.keys.sort.each do |key|
              entry = of_store[key]
              last, first = entry
              stores << store
              names << key
              lasts << (last + 1)
              counts << nth[last]
              firsts << (first + 1)
              # From here on the entry also holds the key's (1-based) index.
              entry << stores.size
            end
          end
          key_index = Array.new(items.size)
          behind = Array.new(items.size)
          items.each_with_index do |item, i|
            entry = keys[item.store][item.key]
            key_index[i] = entry[2]
            behind[i] = nth[entry[0]] - nth[i]
          end
          { keys: [stores, names, lasts, counts, firsts], key_index: key_index, behind: behind }
        end

        def stamped_fact(item, causation, time)
          return item.fact if item.verbatim
          return item.fact._stamped(item.id, causation, time) if item.fact.respond_to?(:_stamped)

          Fact.from_h(item.fact.to_h.merge(id: item.id, causation: causation, transaction_time: time))
        end

        def statements
          facts = @config.table("facts")
          heads = @config.table("heads")
          {
            keys_of_ids: "SELECT DISTINCT store, key FROM #{facts} WHERE id = ANY($1::text[]) ORDER BY store, key",
            lock_existing_heads: "SELECT 1 FROM #{heads} h JOIN unnest($1::text[], $2::text[]) AS u(s, k) " \
                                 "ON h.store = u.s AND h.key = u.k ORDER BY h.store, h.key FOR UPDATE OF h",
            delete_facts: "DELETE FROM #{facts} WHERE id = ANY($1::text[]) RETURNING position",
            drop_empty_heads: "DELETE FROM #{heads} h USING unnest($1::text[], $2::text[]) AS u(s, k) " \
                              "WHERE h.store = u.s AND h.key = u.k AND NOT EXISTS " \
                              "(SELECT 1 FROM #{facts} f WHERE f.store = h.store AND f.key = h.key)",
            repair_heads: <<~SQL,
              UPDATE #{heads} h
              SET fact_id = l.id, key_version = l.key_version, replaced_fact_id = NULL,
                  first_fact_id = (SELECT id FROM #{facts} m WHERE m.store = u.s AND m.key = u.k ORDER BY position LIMIT 1)
              FROM unnest($1::text[], $2::text[]) AS u(s, k)
              CROSS JOIN LATERAL (SELECT id, key_version FROM #{facts} f
                                  WHERE f.store = u.s AND f.key = u.k ORDER BY key_version DESC LIMIT 1) l
              WHERE h.store = u.s AND h.key = u.k
            SQL
            uncount: "UPDATE #{@config.table("clock")} SET fact_count = fact_count - $1",
            write: <<~SQL
              WITH input AS (
                SELECT u.store, u.key, ($8::text[])[u.last] AS fact_id, u.n, ($8::text[])[u.first] AS first_fact_id, u.ord
                FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[])
                  WITH ORDINALITY AS u(store, key, last, n, first, ord)
              ), updated AS (
                -- Step 1, in the order of the sorted keys. A plain UPDATE moves
                -- an existing head (locked to COMMIT; a HOT update, no index
                -- entry): unlike the upsert's DO UPDATE it writes no separate
                -- row-lock WAL record and makes no speculative insertion. SET
                -- reads the row's old values (after a concurrent writer's
                -- commit, its new ones).
                UPDATE #{heads} h
                SET fact_id = u.fact_id, key_version = h.key_version + u.n, replaced_fact_id = h.fact_id
                FROM input u WHERE h.store = u.store AND h.key = u.key
                RETURNING u.ord, h.store, h.key, h.key_version, h.replaced_fact_id
              ), inserted AS (
                -- A key without a head gets one inserted, after the existing
                -- ones; a concurrent first write of the same key waits here and
                -- then moves the head its rival inserted.
                INSERT INTO #{heads} AS h (store, key, fact_id, key_version, first_fact_id)
                SELECT u.store, u.key, u.fact_id, u.n, u.first_fact_id FROM input u
                WHERE NOT EXISTS (SELECT 1 FROM updated d WHERE d.store = u.store AND d.key = u.key)
                ORDER BY u.ord
                ON CONFLICT (store, key) DO UPDATE
                SET fact_id = EXCLUDED.fact_id, key_version = h.key_version + EXCLUDED.key_version,
                    replaced_fact_id = h.fact_id
                RETURNING h.store, h.key, h.key_version, h.replaced_fact_id
              ), moved AS (
                SELECT * FROM updated
                UNION ALL
                SELECT u.ord, n.* FROM inserted n JOIN input u ON u.store = n.store AND u.key = n.key
              ), tick AS (
                -- Step 2: the clock's row is locked when it is updated, which is
                -- after the count below has read every moved head.
                UPDATE #{@config.table("clock")}
                SET position = position + $6,
                    transaction_time = greatest(transaction_time + #{TICK}, extract(epoch FROM clock_timestamp())::float8,
                                                $7::float8) + ($6 - 1) * #{TICK},
                    fact_count = fact_count + $6
                FROM (SELECT count(*) AS heads, set_config('synchronous_commit', $16, true) FROM moved) locked
                RETURNING position, transaction_time
              ), stamped AS (
                SELECT i.ord, i.id, m.store, m.key, i.body,
                       t.position - $6 + i.ord AS position,
                       CASE WHEN i.verbatim_time IS NOT NULL THEN i.verbatim_time
                            ELSE t.transaction_time - ($6 - i.ord) * #{TICK} END AS transaction_time,
                       CASE WHEN i.verbatim_time IS NOT NULL OR i.nth > 1 THEN i.causation
                            ELSE coalesce(i.causation, m.replaced_fact_id) END AS causation,
                       m.key_version - i.behind AS key_version
                FROM unnest($8::text[], $9::int8[], $10::text[], $11::float8[], $12::int[], $13::int[],
                            string_to_array($14, #{Rows::BODY_SEPARATOR_SQL}))
                  WITH ORDINALITY AS i(id, key_index, causation, verbatim_time, nth, behind, body, ord)
                CROSS JOIN tick t
                JOIN moved m ON m.ord = i.key_index
              ), new_facts AS (
                -- Step 3.
                INSERT INTO #{facts} (position, id, store, key, key_version, causation, transaction_time, body)
                SELECT position, id, store, key, key_version, causation, transaction_time, body FROM stamped
              )
              SELECT s.position, s.causation, s.transaction_time
              FROM stamped s CROSS JOIN (SELECT pg_notify($15, position::text) FROM tick) notified
              ORDER BY s.ord
            SQL
          }
        end

        def constraint(error)
          error.result&.error_field(PG::Result::PG_DIAG_CONSTRAINT_NAME)
        end

        # After a lost connection: end the old session, then look for the facts.
        # @return [Array<Committed>, nil] nil when nothing of the batch committed
        def settle(pid, items)
          ids = items.map { |i| i.id }
          terminate(pid) if pid
          committed = found(items)
          # Found, but maybe not flushed yet (its barrier was lost with the session).
          Durability.barrier(@conn, @config) if committed
          committed
        rescue ConnectionError, *Connection::LOST => e
          raise WriteOutcomeUnknownError.new(
            "lost the connection to #{@config.display_url} during a write and could not reconnect to settle it " \
            "(#{e.message.lines.first&.strip}); look up fact ids #{ids.join(", ")}",
            url: @config.display_url, fact_ids: ids
          )
        end

        def terminate(pid)
          @conn.exec("igniter_terminate", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1", [pid])
          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + SETTLE_TIMEOUT
          while @conn.exec("igniter_session_alive", "SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).ntuples.positive?
            raise ConnectionError, "session #{pid} did not end" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

            sleep 0.01
          end
        end

        def found(items)
          ids = items.map { |i| i.id }
          rows = @conn.exec("igniter_facts_by_ids",
                            "SELECT #{Rows::COLUMNS} FROM #{@config.table("facts")} WHERE id = ANY($1::text[]) ORDER BY position",
                            [Rows.text_array(ids)])
          return nil if rows.ntuples.zero?
          raise InternalError, "a batch of #{ids.size} facts was found #{rows.ntuples} times committed" if rows.ntuples != ids.size

          rows.map { |r| Committed.new(Rows.fact(r, @config), r["position"].to_i) }
        end
      end
    end
  end
end
