# frozen_string_literal: true

# The native and the pure path share PostgreSQL ledgers: each reads the
# other's facts as written, and both store the same body bytes.
RSpec.describe "PostgreSQL ledger across the native and pure paths", :postgres do
  let(:schema) { fresh_pg_schema }
  let(:other_env) { Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV }

  VALUES = [
    { status: :open, list: [1, 2.5, nil, true, { deep: :sym }], "str" => "x", big: 2**70, tiny: 1.0e-7 },
    "plain string with unicode \u65e5\u672c and a \u0000 NUL",
    [:a, "b", [[]]],
    :bare_symbol
  ].freeze

  # In the child: reads the given ids and prints each fact body, then writes
  # one fact of its own and prints its id.
  CHILD = <<~RUBY
    require "igniter-ledger"
    url, schema, *ids = ARGV
    store = Igniter::Store.postgres(url, schema: schema)
    ids.each { |id| puts Igniter::Store::JsonCanon.fact_body(store.fact_by_id(id)) }
    puts store.write(store: :cross, key: "child", value: { from: Igniter::Store::NATIVE ? :native : :pure,
                                                           list: [1, 1.5, :s] }, valid_time: 3.25).id
    store.close
  RUBY

  it "reads the other path's facts back exactly, and stores the same body bytes" do
    require_native_library!
    store = pg_store(schema: schema)
    written = VALUES.each_with_index.map do |value, i|
      store.write(store: :cross, key: "k#{i}", value: value, producer: { system: :spec }, derivation: { n: i })
    end
    out, err, status = run_ruby(CHILD, env: other_env, args: [pg_url, schema, *written.map(&:id)])
    expect(status).to be_success, err
    *bodies, child_id = out.lines.map(&:chomp)
    expect(bodies).to eq(written.map { |fact| Igniter::Store::JsonCanon.fact_body(fact) })

    child_fact = store.fact_by_id(child_id)
    expect(child_fact.value).to eq(from: Igniter::Store::NATIVE ? :pure : :native, list: [1, 1.5, :s])
    expect(child_fact.causation).to be_nil
    stored = pg_session.exec_params(%(SELECT body FROM "#{schema}".facts WHERE id = $1), [child_id]).getvalue(0, 0)
    expect(stored).to eq(Igniter::Store::Postgres::Rows.body(child_fact))
  end

  it "stores, on either path, the body the pure encoder makes, with causation null and time 0.0 left to columns" do
    store = pg_store(schema: schema)
    first = store.write(store: :cross, key: "same", value: VALUES.first, producer: { system: :spec }, schema_version: 2**70)
    batch = store.write_batch(VALUES.each_with_index.map do |value, i|
      { store: :cross, key: i.even? ? "same" : "k#{i}", value: value, valid_time: 1.5 + i, derivation: { n: i, s: :x } }
    end)
    [first, *batch].each do |fact|
      stored = pg_session.exec_params(%(SELECT body FROM "#{schema}".facts WHERE id = $1), [fact.id]).getvalue(0, 0)
      expect(stored).to eq(Igniter::Store::Postgres::Rows.pure_body(fact))
      body = JSON.parse(stored)
      expect(body).to include("transaction_time" => 0.0, "id" => fact.id)
      # A body with `symbols` leaves the null causation out (doc/format.md "Symbol extension").
      expect(body.fetch("causation", nil)).to be_nil
      expect(body.key?("causation")).to be(!body.key?("symbols"))
    end
    # The facts handed back carry what the transaction settled, equal to the facts read back.
    expect(batch.first.causation).to eq(first.id)
    expect(batch.map { |f| store.fact_by_id(f.id) }).to eq(batch)
  end
end
