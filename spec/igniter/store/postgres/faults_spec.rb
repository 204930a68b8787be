# frozen_string_literal: true

RSpec.describe "PostgreSQL ledger under faults", :postgres do
  include LedgerSpec::Reliability
  include LedgerSpec::ServerHelpers

  let(:schema) { fresh_pg_schema }

  def terminate(pid)
    pg_session.exec_params("SELECT pg_terminate_backend($1)", [pid])
    poll_until { pg_session.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).ntuples.zero? }
  end

  def write_session_pid(store)
    store.instance_variable_get(:@backend).instance_variable_get(:@write_conn).backend_pid
  end

  it "fails to open a database that is down with an error naming the URL without its password" do
    url = "postgresql://ledger_user:s3cret@/ledger?host=/nonexistent-igniter-socket-dir&port=5999"
    expect { Igniter::Store.postgres(url, connect_timeout: 1) }.to raise_error(Igniter::Store::Postgres::ConnectionError) do |e|
      expect(e.message).to include("postgresql://ledger_user@[/nonexistent-igniter-socket-dir]:5999/ledger")
      expect(e.message).not_to include("s3cret")
      expect(e.url).not_to include("s3cret")
    end
  end

  it "reconnects after its session was killed and writes once, with nothing lost" do
    store = pg_store(schema: schema)
    first = store.write(store: :s, key: "k", value: 1)
    terminate(write_session_pid(store))
    terminate(store.instance_variable_get(:@backend).instance_variable_get(:@read_conn).backend_pid)
    second = store.write(store: :s, key: "k", value: 2)
    expect(second.causation).to eq(first.id)
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([1, 2])
    expect(pg_session.exec(%(SELECT count(*) FROM "#{schema}".facts)).getvalue(0, 0)).to eq("2")
  end

  it "settles a write whose connection died after COMMIT: the committed fact is returned, not written again" do
    store = pg_store(schema: schema)
    conn = store.instance_variable_get(:@backend).instance_variable_get(:@write_conn)
    # The session dies right after the server committed, before the reply is read.
    killer = Module.new do
      def pipeline(steps)
        value = super
        if steps.include?("COMMIT") && Thread.current[:igniter_spec_drop_reply]
          Thread.current[:igniter_spec_dropped] = true
          raise PG::ConnectionBad, "server closed the connection unexpectedly"
        end

        value
      end
    end
    conn.singleton_class.prepend(killer)
    Thread.current[:igniter_spec_drop_reply] = true
    begin
      fact = store.write(store: :s, key: "k", value: 1)
    ensure
      Thread.current[:igniter_spec_drop_reply] = nil
    end
    expect(Thread.current[:igniter_spec_dropped]).to be(true)
    expect(store.fact_by_id(fact.id)).to eq(fact)
    expect(store.fact_count).to eq(1)
  ensure
    Thread.current[:igniter_spec_dropped] = nil
  end

  it "raises a TimeoutError, writing nothing, when a key's row lock is held past lock_timeout" do
    store = pg_store(schema: schema, lock_timeout: 0.2)
    store.write(store: :s, key: "k", value: 1)
    holder = PG.connect(pg_url)
    holder.exec("BEGIN")
    holder.exec(%(SELECT * FROM "#{schema}".heads WHERE key = 'k' FOR UPDATE))
    expect { store.write(store: :s, key: "k", value: 2) }
      .to raise_error(Igniter::Store::Postgres::TimeoutError, /LockNotAvailable.*lock_timeout 0.2s/)
    holder.exec("ROLLBACK")
    expect(store.write(store: :s, key: "k", value: 3).value).to eq(3)
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([1, 3])
  ensure
    holder&.close
  end

  it "lets the others go on when a writer stalls idle inside its transaction: the server ends that session" do
    stalled = Igniter::Store::Postgres::Config.new(url: pg_url, schema: schema, idle_in_transaction_timeout: 0.3)
    pg_store(schema: schema).write(store: :s, key: "k", value: 1)
    session = stalled.connect("stalled")
    session.exec("BEGIN")
    session.exec(%(UPDATE "#{schema}".clock SET position = position + 1)) # holds the clock, then idles
    other = pg_store(schema: schema)
    started = monotonic
    expect(other.write(store: :s, key: "k", value: 2).value).to eq(2)
    expect(monotonic - started).to be < 5
    expect(pg_session.exec(%(SELECT position FROM "#{schema}".clock)).getvalue(0, 0)).to eq("2")
  ensure
    session&.close
  end

  it "leaves no partial batch and no gap when a writer is SIGKILLed inside its transaction" do
    pg_store(schema: schema).write(store: :s, key: "k", value: 0)
    script = <<~RUBY
      require "igniter-ledger"
      url, schema = ARGV
      store = Igniter::Store.postgres(url, schema: schema)
      # Stop inside the write transaction: everything but its COMMIT has run
      # (facts inserted, heads moved, the clock bumped and locked).
      Igniter::Store::Postgres::Connection.prepend(Module.new do
        def pipeline(steps)
          commit = steps.index("COMMIT")
          return super unless commit

          super(steps[0...commit])
          puts "inside"
          $stdout.flush
          sleep
        end
      end)
      store.write_batch(Array.new(5) { |i| { store: :s, key: "k", value: i + 1 } })
    RUBY
    pid, out = spawn_ruby(script, args: [pg_url, schema])
    expect(out.gets&.chomp).to eq("inside")
    Process.kill(:KILL, pid)
    Process.wait(pid)
    killed = monotonic
    store = pg_store(schema: schema)
    fact = store.write(store: :s, key: "k", value: 9)
    expect(monotonic - killed).to be < 1.0
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([0, 9])
    expect(pg_session.exec(%(SELECT position FROM "#{schema}".facts ORDER BY 1)).column_values(0)).to eq(%w[1 2])
    expect(fact.causation).to eq(store.history(store: :s, key: "k").first.id)
  ensure
    begin
      Process.kill(:KILL, pid) if pid
      Process.wait(pid) if pid
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
  end
end
