# frozen_string_literal: true

require "spec_helper"

# The pure Fact.build walks a value once (JsonCanon.build_fact: the normalized
# copy, the plain form for the WAL body and, sorted, the canonical form for
# value_hash; containers that are their own plain form are shared, not copied).
# These pin that the one walk gives what the separate rules give:
# JsonCanon.normalize, JsonCanon.value_hash of the normalized value, and the
# body JsonCanon.fact_body writes for a fact that was not just built.
RSpec.describe "pure Fact.build's single walk" do
  before { skip "the pure path's build" if Igniter::Store::NATIVE }

  latin1 = "caf\xE9".dup.force_encoding(Encoding::ISO_8859_1).freeze

  scalar = lambda do |rng|
    [rng.rand(1000), "s#{rng.rand(50)}", %i[open done].sample(random: rng), rng.rand * 100, true, false, nil,
     latin1.dup, latin1.to_sym, "café", :café, 2**70, "fr", "t#{rng.rand(5)}".encode(Encoding::US_ASCII)]
      .sample(random: rng)
  end
  key = ->(rng) { ["k#{rng.rand(6)}", latin1.to_sym, :café, latin1.dup, rng.rand(5), :a, :b, :n, :z].sample(random: rng) }
  value = lambda do |rng, depth = 0|
    next scalar.call(rng) if depth > 3 || rng.rand < 0.35

    if rng.rand < 0.5
      Array.new(rng.rand(6)).each_with_object({}) { |_, h| h[key.call(rng)] = value.call(rng, depth + 1) }
    else
      Array.new(rng.rand(5)) { value.call(rng, depth + 1) }
    end
  end

  it "stores the normalized value, its value_hash and the WAL body of the separate walks" do
    rng = Random.new(20)
    2_000.times do
      v = value.call(rng)
      fact = Igniter::Store::Fact.build(store: :t, key: "k", value: v)
      normalized = Igniter::Store::JsonCanon.normalize(v)
      expect(fact.value).to eq(normalized)
      expect(fact.value).to be_frozen
      expect(fact.value_hash).to eq(Igniter::Store::JsonCanon.value_hash(normalized))
      rebuilt = Igniter::Store::Fact.from_h(fact.to_h)
      expect(Igniter::Store::JsonCanon.fact_body(fact)).to eq(Igniter::Store::JsonCanon.fact_body(rebuilt))
    end
  end

  it "keeps text repeated across facts as one frozen String, not the caller's" do
    tags = [+"a", +"b"]
    first = Igniter::Store::Fact.build(store: :t, key: "k", value: { tags: tags })
    second = Igniter::Store::Fact.build(store: :t, key: "k", value: { tags: [+"a", +"b"] })
    expect(first.value[:tags][0]).to be_frozen
    expect(first.value[:tags][0]).not_to equal(tags[0])
    expect(tags[0]).not_to be_frozen
    expect(first.value[:tags][0]).to equal(second.value[:tags][0])
  end
end
