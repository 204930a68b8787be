# frozen_string_literal: true

# A PostgreSQL commit settles each fact's id, causation and transaction time in
# the transaction and hands back a stamped copy of the fact it was given
# (doc/postgres.md, "The write transaction"; `Writer#stamped_fact`: the native
# `Fact#_stamped`, the pure `Fact.from_h(to_h.merge(...))`). These examples pin
# what the copy must be on both paths: the three settled members, every other
# member equal, the value one deep-frozen object, and the value the caller
# wrote even if it changed its objects afterwards.
RSpec.describe "A fact stamped by a commit" do
  before { Igniter::Store::PostgresBackend } # loads the PostgreSQL writer

  let(:item) { Igniter::Store::Postgres::Writer::Item }
  let(:written) { { title: +"task", tags: [+"a", :b], nested: { x: 1.5 } } }
  let(:built) do
    build_fact(store: :tasks, key: "k1", value: written, producer: { by: :worker }, valid_time: 12.5)
  end
  let(:id) { "0f1fb14a-7a31-4c5e-9a59-2a4c1f0e6d11" }
  let(:causation) { "5a2c7c1e-1b53-4b6f-8f0c-3c0d1e2f3a4b" }

  def stamp(fact)
    writer = Igniter::Store::Postgres::Writer.allocate
    writer.send(:stamped_fact, item.new(fact, id, fact.store, fact.key, nil, false, nil), causation, 1_796_313_589.5)
  end

  it "carries the settled id, causation and time, and every other member of the fact built" do
    stamped = stamp(built)

    expect([stamped.id, stamped.causation, stamped.transaction_time]).to eq([id, causation, 1_796_313_589.5])
    %i[store key value value_hash valid_time schema_version producer derivation].each do |member|
      expect(stamped.public_send(member)).to eq(built.public_send(member)), member.to_s
    end
  end

  it "reads the value written even when the caller changed its objects before the stamp" do
    fact = built
    written[:title] << " changed"
    written[:tags] << "c"

    expect(stamp(fact).value).to eq({ title: "task", tags: ["a", :b], nested: { x: 1.5 } })
  end

  it "gives one deep-frozen value on every read of the copy" do
    stamped = stamp(built)

    expect(stamped.value).to equal(stamped.value)
    expect(stamped.to_h[:value]).to equal(stamped.value)
    expect(deeply_frozen?(stamped.value)).to be(true)
  end

  it "keeps the value_hash the value gives" do
    stamped = stamp(built)

    expect(stamped.value_hash).to eq(build_fact(store: :tasks, key: "k2", value: stamped.value).value_hash)
  end
end
