# frozen_string_literal: true

# The pure path's fact ids and history keys come from UuidPool, which makes
# them in batches (core/uuid_pool.rb). Batching must not cost what
# SecureRandom.uuid gave: version-4 text, never the same id twice, also when
# threads draw at once and across batch boundaries (forks: parity/fork_ids_spec.rb).
RSpec.describe Igniter::Store::UuidPool do
  let(:uuid_v4) { /\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/ }

  it "hands out UUID v4 text in UTF-8, a new String each time" do
    ids = Array.new(600) { described_class.next_uuid }

    expect(ids).to all(match(uuid_v4))
    expect(ids.map(&:encoding).uniq).to eq([Encoding::UTF_8])
    expect(ids.uniq.size).to eq(600)
    expect(ids.map(&:object_id).uniq.size).to eq(600)
  end

  it "uses all four RFC 4122 variant digits, as random ids do" do
    variants = Array.new(1024) { described_class.next_uuid[19] }.uniq.sort

    expect(variants).to eq(%w[8 9 a b])
  end

  it "never gives two threads drawing at once the same id" do
    threads = Array.new(6) { Thread.new { Array.new(1500) { described_class.next_uuid } } }
    ids = threads.flat_map(&:value)

    expect(ids.size).to eq(9000)
    expect(ids.uniq.size).to eq(9000)
  end

  it "is where a pure fact's id and a history key come from" do
    store = Igniter::Store.memory
    fact = store.append(history: :events, event: { n: 1 })

    expect([fact.id, fact.key]).to all(match(uuid_v4))
    expect([fact.id, fact.key].map(&:encoding)).to eq([Encoding::UTF_8, Encoding::UTF_8])
    expect(fact.id).to be_frozen
  end
end
