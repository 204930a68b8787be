# frozen_string_literal: true

# Several stores over one schema stand for several processes here (each has
# its own sessions); multi_process_spec.rb does the same with real processes.
RSpec.describe "PostgreSQL ledger shared by many writers", :postgres do
  let(:schema) { fresh_pg_schema }
  let(:a) { pg_store(schema: schema, group_commit: true) }
  let(:b) { pg_store(schema: schema, group_commit: true) }

  it "shows a write of one store to a read of the other as soon as it returned" do
    a.write(store: :tasks, key: "t", value: { v: 1 })
    expect(b.read(store: :tasks, key: "t")).to eq(v: 1)
    b.write(store: :tasks, key: "t", value: { v: 2 })
    expect(a.read(store: :tasks, key: "t")).to eq(v: 2)
    expect(a.fact_count).to eq(2)
    expect(b.history(store: :tasks, key: "t").map(&:value)).to eq([{ v: 1 }, { v: 2 }])
  end

  it "chains causation across writers in commit order and raises transaction time with position" do
    facts = Array.new(6) { |i| (i.even? ? a : b).write(store: :s, key: "k", value: i) }
    chain = a.causation_chain(store: :s, key: "k")
    expect(chain.map { |e| e[:causation] }).to eq([nil] + facts[0..-2].map(&:id))
    times = pg_session.exec(%(SELECT transaction_time FROM "#{schema}".facts ORDER BY position)).column_values(0).map(&:to_f)
    expect(times).to eq(times.sort.uniq)
    expect(facts.map(&:transaction_time)).to eq(times)
  end

  it "keeps chains whole and positions gapless with writers with and without group commit at once" do
    strict = pg_store(schema: schema, group_commit: false)
    writers = [a, b, strict].map do |store|
      Thread.new { Array.new(40) { |i| store.write(store: :s, key: "k#{i % 3}", value: i) } }
    end
    written = writers.flat_map(&:value)
    positions = pg_session.exec(%(SELECT position FROM "#{schema}".facts ORDER BY 1)).column_values(0).map(&:to_i)
    expect(positions).to eq((1..120).to_a)
    %w[k0 k1 k2].each do |key|
      history = strict.history(store: :s, key: key)
      expect(history.map(&:causation)).to eq([nil] + history.map(&:id)[0..-2])
    end
    expect(written.map(&:id).uniq.size).to eq(120)
    expect(written.values_at(0, 40, 80).map { |fact| b.fact_by_id(fact.id) }).to eq(written.values_at(0, 40, 80))
    # Every acknowledged write went through a durability barrier or a synchronous commit.
    expect(pg_session.exec(%(SELECT sum(n) FROM "#{schema}".flushes)).getvalue(0, 0).to_i).to be >= 80
    expect { pg_backend(schema: schema, group_commit: "yes") }.to raise_error(ArgumentError, /group_commit must be true or false/)
  end

  it "never serves a time-travel read older than a write committed elsewhere before the read" do
    first = a.write(store: :s, key: "k", value: 1)
    future = first.transaction_time + 3600
    expect(b.read(store: :s, key: "k", as_of: future)).to eq(1)
    a.write(store: :s, key: "k", value: 2)
    expect(b.read(store: :s, key: "k", as_of: future)).to eq(2)
  end

  it "answers scope queries from the database, with another writer's changes" do
    path = Igniter::Store::AccessPath.new(store: :tasks, lookup: :scope, scope: :open, filters: { status: :open })
    [a, b].each { |s| s.register_path(path) }
    a.write(store: :tasks, key: "1", value: { status: :open })
    expect(b.query(store: :tasks, scope: :open).map(&:key)).to eq(["1"])
    b.write(store: :tasks, key: "1", value: { status: :done })
    b.write(store: :tasks, key: "2", value: { status: :open })
    a.write(store: :tasks, key: "3", value: { status: "open" }) # a String is not the Symbol :open
    expect(a.query(store: :tasks, scope: :open).map(&:key)).to eq(["2"])
  end

  it "narrows scopes by the JSON text of string, Symbol and boolean filters and leaves numbers to Ruby" do
    path = Igniter::Store::AccessPath.new(store: :tasks, lookup: :scope, scope: :mine,
                                          filters: { owner: "ana", done: false, size: 1 })
    [a, b].each { |s| s.register_path(path) }
    a.write(store: :tasks, key: "int", value: { owner: "ana", done: false, size: 1 })
    b.write(store: :tasks, key: "float", value: { size: 1.0, done: false, owner: "ana" }) # 1 == 1.0 in Ruby
    a.write(store: :tasks, key: "nested", value: { meta: { owner: "ana", done: false }, size: 1 }) # text matches, Ruby does not
    b.write(store: :tasks, key: "symbol", value: { owner: :ana, done: false, size: 1 }) # :ana is not "ana"
    a.write(store: :tasks, key: "other", value: { owner: "bo", done: false, size: 1 })
    a.write(store: :tasks, key: "quoted", value: { note: 'say "owner":"ana"', done: false, size: 1 })
    expect(b.query(store: :tasks, scope: :mine).map(&:key)).to eq(%w[int float])
    b.write(store: :tasks, key: "int", value: { owner: "ana", done: true, size: 1 })
    expect(a.query(store: :tasks, scope: :mine).map(&:key)).to eq(%w[float])
  end

  it "commits a batch in one transaction: all facts with consecutive positions, or none" do
    facts = a.write_batch([{ store: :s, key: "x", value: 1 }, { store: :s, key: "x", value: 2 },
                           { history: :events, event: { kind: "e" } }])
    expect(facts.map(&:value)).to eq([1, 2, { kind: "e" }])
    expect(facts[1].causation).to eq(facts[0].id)
    positions = pg_session.exec(%(SELECT position FROM "#{schema}".facts ORDER BY position)).column_values(0)
    expect(positions).to eq(%w[1 2 3])

    expect { a.write_batch([{ store: :s, key: "y", value: 1 }, { value: 2 }]) }
      .to raise_error(ArgumentError, /batch entry needs store/)
    expect { a.write_batch([{ store: :s, key: "y", value: 1 }, { store: :s, key: "z", value: Float::NAN }]) }
      .to raise_error(Igniter::Store::NonFiniteNumberError)
    expect(b.read(store: :s, key: "y")).to be_nil
    expect(b.fact_count).to eq(3)
  end

  it "chains a batch over keys out of order, old and new, with several facts per key" do
    old = a.write(store: :s, key: "b", value: 0)
    facts = a.write_batch([{ store: :s, key: "c", value: 1 }, { store: :s, key: "b", value: 2 },
                           { store: :t, key: "a", value: 3 }, { store: :s, key: "c", value: 4 },
                           { store: :s, key: "b", value: 5, causation: "given" }, { store: :s, key: "a", value: 6 }])
    expect(facts.map(&:causation)).to eq([nil, old.id, nil, facts[0].id, "given", nil])
    expect(facts.map(&:transaction_time).each_cons(2).all? { |x, y| y > x }).to be(true)
    rows = pg_session.exec(%(SELECT store, key, key_version, id FROM "#{schema}".facts ORDER BY position)).values
    expect(rows).to eq([["s", "b", "1", old.id], ["s", "c", "1", facts[0].id], ["s", "b", "2", facts[1].id],
                        ["t", "a", "1", facts[2].id], ["s", "c", "2", facts[3].id], ["s", "b", "3", facts[4].id],
                        ["s", "a", "1", facts[5].id]])
    heads = pg_session.exec(%(SELECT store, key, fact_id, key_version, first_fact_id FROM "#{schema}".heads ORDER BY store, key))
    expect(heads.values).to eq([["s", "a", facts[5].id, "1", facts[5].id], ["s", "b", facts[4].id, "3", old.id],
                                ["s", "c", facts[3].id, "2", facts[0].id], ["t", "a", facts[2].id, "1", facts[2].id]])
    expect(b.history(store: :s, key: "b").map(&:value)).to eq([0, 2, 5])
    expect(b.write(store: :s, key: "c", value: 7).causation).to eq(facts[3].id)
  end

  it "keeps the exact transaction times of facts replayed in one batch" do
    times = [1.0000000000000002, 1_700_000_000.1234567, 1_796_322_282.6716871]
    backend = Igniter::Store::MemoryBackend.new
    times.each_with_index do |time, i|
      backend.write_fact(Igniter::Store::Fact.from_h(store: :s, key: "k#{i % 2}", value: i, value_hash: nil,
                                                     causation: nil, transaction_time: time))
    end
    a.replay_from(backend)
    expect(b.history(store: :s, key: "k0").map(&:transaction_time)).to eq([times[0], times[2]])
    expect(b.history(store: :s, key: "k1").map(&:transaction_time)).to eq([times[1]])
  end

  it "refuses an ingested fact whose id is taken, keeping the ledger as it was" do
    fact = a.write(store: :s, key: "k", value: 1)
    expect { b.ingest_fact(fact) }.to raise_error(Igniter::Store::InvalidFactError, /duplicate fact id/)
    expect(a.fact_count).to eq(1)
    b.write(store: :s, key: "k", value: 2)
    expect(a.history(store: :s, key: "k").map(&:value)).to eq([1, 2])
  end

  it "keeps an ingested fact's id, causation and transaction time" do
    foreign = Igniter::Store::Fact.from_h(store: :s, key: "k", value: { n: 1 }, value_hash: nil,
                                          causation: "elsewhere", transaction_time: 1_000.5)
    stored = a.ingest_fact(foreign)
    expect(b.fact_by_id(stored.id)).to eq(stored)
    expect(stored).to have_attributes(causation: "elsewhere", transaction_time: 1_000.5)
  end

  it "prunes facts for every writer, moving a pruned head back to the key's previous fact" do
    one = a.write(store: :s, key: "k", value: 1)
    two = a.write(store: :s, key: "k", value: 2)
    report = b.prune_fact_ids(fact_ids: [two.id], reason: :erasure)
    expect(report).to include(status: :ok, pruned_count: 1)
    expect(a.read(store: :s, key: "k")).to eq(1)
    three = a.write(store: :s, key: "k", value: 3)
    expect(three.causation).to eq(one.id)
    expect(a.fact_by_id(two.id)).to be_nil
    expect(a.fact_count).to eq(3) # one, the receipt, three
  end

  it "compacts durably: the dropped facts are gone for every writer" do
    3.times { |i| a.write(store: :things, key: "t", value: i) }
    b.set_retention(:things, strategy: :ephemeral)
    expect(b.compact.first).to include(dropped_count: 2, kept_count: 1, durable: true)
    expect(a.history(store: :things, key: "t").map(&:value)).to eq([2])
    expect(a.compaction_receipts(store: :things).size).to eq(1)
  end

  it "refuses NUL characters in store names and keys, which text columns cannot hold" do
    expect { a.write(store: :s, key: "a\u0000b", value: 1) }.to raise_error(ArgumentError, /NUL character/)
    expect(a.write(store: :s, key: "k", value: "nul \u0000 inside a value is fine").value).to include("\u0000")
    expect(b.read(store: :s, key: "k")).to include("\u0000")
  end

  it "reads back exactly the facts written: Symbols, nesting, valid time, producer and derivation" do
    fact = a.write(store: :s, key: "k", value: { status: :open, list: [1, 2.5, nil, { deep: :sym }], "str" => "x" },
                   valid_time: 12.5, producer: { system: :app }, derivation: { rule: "r" }, schema_version: 3)
    expect(b.fact_by_id(fact.id)).to eq(fact)
    # The body is the fact body of doc/format.md; causation and time live in columns.
    row = pg_session.exec(%(SELECT causation, transaction_time, body FROM "#{schema}".facts)).first
    body = Igniter::Store::JsonCanon.fact_body(Igniter::Store::Fact.from_h(fact.to_h.merge(transaction_time: 0.0)))
    expect(row["body"]).to eq(body)
    expect([row["causation"], Float(row["transaction_time"])]).to eq([nil, fact.transaction_time])
  end

  it "gives forked workers distinct fact ids, so preloaded Puma-style workers can all write" do
    a.write(store: :s, key: "warm", value: 0)
    reader, writer = IO.pipe
    pids = Array.new(3) do |w|
      fork do
        reader.close
        store = Igniter::Store.postgres(pg_url, schema: schema)
        writer.puts store.write(store: :s, key: "w#{w}", value: w).id
        store.close
        exit!(0)
      end
    end
    writer.close
    pids.each { |pid| Process.wait(pid) }
    ids = reader.read.split
    expect(ids.uniq.size).to eq(3)
    expect(a.fact_count).to eq(4)
  end

  it "opens in milliseconds whatever the ledger's size: nothing is replayed" do
    a.write_batch(Array.new(2_000) { |i| { store: :s, key: "k#{i % 50}", value: i } })
    reopened = pg_store(schema: schema)
    expect(reopened.instance_variable_get(:@log)).to be_a(Igniter::Store::Postgres::FactLog)
    expect(reopened.fact_count).to eq(2_000)
    expect(reopened.read(store: :s, key: "k49")).to eq(1_999)
  end
end
