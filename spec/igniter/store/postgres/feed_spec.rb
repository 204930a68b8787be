# frozen_string_literal: true

RSpec.describe "PostgreSQL feed across processes", :postgres do
  include LedgerSpec::ServerHelpers

  let(:schema) { fresh_pg_schema }
  let(:backend) { pg_backend(schema: schema) }
  let(:writer) { pg_store(schema: schema) }

  # Runs a follower in a thread until +count+ facts arrived (or 5 s passed).
  def follow_in_thread(count, **opts)
    seen = Queue.new
    follower = backend.follow(**opts)
    thread = Thread.new do
      follower.run do |fact, position|
        seen << [fact, position]
        follower.stop if seen.size >= count
      end
    end
    poll_until(timeout: 5, message: "#{count} facts delivered") { seen.size >= count || !thread.alive? }
    follower.stop
    thread.join(2)
    thread.value # re-raises what the follower raised
    Array.new(seen.size) { seen.pop }
  end

  it "delivers every committed fact to a named consumer in commit order, with positions" do
    written = Array.new(5) { |i| writer.write(store: :s, key: "k#{i % 2}", value: i) }
    delivered = follow_in_thread(5, consumer: "projector")
    expect(delivered.map { |f, _| f }).to eq(written)
    expect(delivered.map { |_, p| p }).to eq([1, 2, 3, 4, 5])
  end

  it "resumes a consumer after its last handled fact, keeping the position in the cursors table" do
    3.times { |i| writer.write(store: :s, key: "k", value: i) }
    expect(follow_in_thread(3, consumer: "c").map { |f, _| f.value }).to eq([0, 1, 2])
    expect(pg_session.exec(%(SELECT position FROM "#{schema}".cursors WHERE consumer = 'c')).getvalue(0, 0)).to eq("3")
    writer.write(store: :s, key: "k", value: 3)
    expect(follow_in_thread(1, consumer: "c").map { |f, _| f.value }).to eq([3])
  end

  it "starts a new consumer at the end of the ledger with from: :now, and filters by store" do
    writer.write(store: :s, key: "before", value: 0)
    follower = backend.follow(consumer: "late", from: :now, stores: [:wanted])
    seen = Queue.new
    thread = Thread.new { follower.run { |fact| seen << fact.key } }
    poll_until { follower.position }
    writer.write(store: :other, key: "skip", value: 1)
    writer.write(store: :wanted, key: "take", value: 2)
    expect(pop_within(seen)).to eq("take")
    follower.stop
    thread.join(2)
  end

  it "lets one session at a time run a consumer name" do
    first = backend.follow(consumer: "solo")
    thread = Thread.new { first.run { nil } }
    poll_until { first.position }
    other = pg_backend(schema: schema)
    expect { other.follow(consumer: "solo") { nil } }
      .to raise_error(Igniter::Store::Postgres::ConsumerBusyError, /"solo".*already running/)
    first.stop
    thread.join(2)
  end

  it "claims its name again after its session was lost, and goes on from its cursor" do
    2.times { |i| writer.write(store: :s, key: "k", value: i) }
    follower = backend.follow(consumer: "resilient")
    seen = Queue.new
    thread = Thread.new { follower.run { |fact| seen << fact.value } }
    expect([pop_within(seen), pop_within(seen)]).to eq([0, 1])
    session = follower.instance_variable_get(:@conn).backend_pid
    pg_session.exec_params("SELECT pg_terminate_backend($1)", [session])
    writer.write(store: :s, key: "k", value: 2)
    expect(pop_within(seen)).to eq(2)
    other = pg_backend(schema: schema)
    expect { other.follow(consumer: "resilient") { nil } }.to raise_error(Igniter::Store::Postgres::ConsumerBusyError)
    follower.stop
    thread.join(2)
  end

  it "hands each fact over exactly once with its cursor in one transaction when transactional" do
    writer # creates the schema
    pg_session.exec(%(CREATE TABLE "#{schema}".effects (fact_id text PRIMARY KEY)))
    2.times { |i| writer.write(store: :s, key: "k", value: i) }
    calls = 0
    follower = backend.follow(consumer: "tx", transactional: true)
    expect do
      follower.run do |fact, _position, session|
        session.exec_params(%(INSERT INTO "#{schema}".effects VALUES ($1)), [fact.id])
        raise "crash while handling the second fact" if (calls += 1) == 2
      end
    end.to raise_error(RuntimeError, /second fact/)
    follower.close
    # The second fact's effect rolled back with its cursor: a restart redoes it, once.
    redone = []
    restarted = backend.follow(consumer: "tx", transactional: true)
    restarted.run do |fact, _position, session|
      session.exec_params(%(INSERT INTO "#{schema}".effects VALUES ($1)), [fact.id])
      redone << fact.value
      restarted.stop
    end
    expect(redone).to eq([1])
    effects = pg_session.exec(%(SELECT fact_id FROM "#{schema}".effects ORDER BY fact_id)).column_values(0)
    expect(effects).to eq(writer.history(store: :s, key: "k").map(&:id).sort)
  end

  it "feeds a store's changefeed with the writes of another store, in commit order" do
    feed = Igniter::Store::ChangefeedBuffer.new
    reader = pg_store(schema: schema, changefeed: feed)
    events = Queue.new
    feed.subscribe(stores: nil) { |event| events << event }
    writer.write(store: :s, key: "a", value: 1)
    reader.write(store: :s, key: "b", value: 2)
    writer.write(store: :s, key: "c", value: 3)
    keys = Array.new(3) { pop_within(events).fact.key }
    expect(keys).to eq(%w[a b c])
    feed.close
  end

  it "emits a local write to the changefeed before the write returns" do
    feed = Igniter::Store::ChangefeedBuffer.new
    store = pg_store(schema: schema, changefeed: feed)
    fact = store.write(store: :s, key: "k", value: 1)
    expect(feed.replay(cursor: nil)[:events].map { |event| event.fact.id }).to eq([fact.id])
    feed.close
  end

  it "notifies a store's point consumers of writes made through another store" do
    notified = Queue.new
    watcher = pg_store(schema: schema)
    watcher.register_path(Igniter::Store::AccessPath.new(store: :s, lookup: :primary_key, scope: nil,
                                                         consumers: [->(store, key) { notified << [store, key] }]))
    writer.write(store: :s, key: "k", value: 1)
    expect(pop_within(notified)).to eq([:s, "k"])
  end
end
