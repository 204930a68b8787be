# frozen_string_literal: true

RSpec.describe Igniter::Store::Fact do
  let(:uuid_v4) { /\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/ }
  let(:members) do
    %i[id store key value value_hash causation transaction_time valid_time schema_version producer derivation]
  end

  describe ".build: identity and hashing (0.5.2 fact_spec)" do
    it "gives the same value_hash regardless of Hash key order" do
      a = build_fact(value: { b: 2, a: 1 })
      b = build_fact(value: { a: 1, b: 2 })

      expect(a.value_hash).to eq(b.value_hash)
    end

    it "gives identical content different ids and the same value_hash" do
      a = build_fact(value: { title: "same" })
      b = build_fact(value: { title: "same" })

      expect(a.id).not_to eq(b.id)
      expect(a.value_hash).to eq(b.value_hash)
    end

    it "keeps causation as the id passed in, never the previous value_hash" do
      first = build_fact(value: { v: 1 })
      second = build_fact(value: { v: 1 }, causation: first.id)

      expect(second.causation).to eq(first.id)
      expect(second.causation).not_to eq(first.value_hash)
      expect(second.value_hash).to eq(first.value_hash)
    end

    it "exposes transaction_time, valid_time, producer and derivation through readers, aliases and to_h" do
      fact = build_fact(
        value: { title: "x" },
        valid_time: 1_714_200_123.5,
        producer: { system: :spec, name: :FactSpec },
        derivation: { name: :demo_derivation, source_fact_ids: ["source-1"] }
      )

      expect(fact.transaction_time).to be_a(Float)
      expect(fact.timestamp).to eq(fact.transaction_time)
      expect(fact.valid_time).to eq(1_714_200_123.5)
      expect(fact.term).to eq(1_714_200_123.5)
      expect(fact.producer[:system]).to eq(:spec)
      expect(fact.derivation[:name]).to eq(:demo_derivation)
      expect(fact.to_h).to include(
        transaction_time: fact.transaction_time,
        valid_time: fact.valid_time,
        producer: fact.producer,
        derivation: fact.derivation
      )
    end

    it "gives each fact a lowercase RFC-4122 v4 UUID" do
      ids = Array.new(20) { build_fact.id }

      expect(ids).to all(match(uuid_v4))
      expect(ids.uniq.size).to eq(20)
    end

    it "hashes Symbol and String keys and Symbol and String values identically" do
      expect(build_fact(value: { status: :open }).value_hash)
        .to eq(build_fact(value: { "status" => "open" }).value_hash)
    end

    it "is a lowercase 64-hex SHA-256 value_hash" do
      expect(build_fact(value: {}).value_hash)
        .to eq("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    end
  end

  describe ".build: field types and defaults" do
    it "stores store as a Symbol and key as a String" do
      fact = build_fact(store: "items", key: :k1)

      expect(fact.store).to eq(:items)
      expect(fact.key).to eq("k1")
      expect(build_fact(store: :items, key: 42).key).to eq("42")
    end

    it "copies the caller's key String, so mutating it later changes nothing" do
      key = +"k1"
      fact = build_fact(key: key)
      key << "-mutated"

      expect(fact.key).to eq("k1")
      expect(key).not_to be_frozen
    end

    it "reads transaction_time from CLOCK_REALTIME at build time" do
      before = realtime
      fact = build_fact
      after = realtime

      expect(fact.transaction_time).to be_a(Float)
      expect(fact.transaction_time).to be_between(before, after)
    end

    it "defaults causation, valid_time, term, producer and derivation to nil and schema_version to 1" do
      fact = build_fact

      expect(fact.causation).to be_nil
      expect(fact.valid_time).to be_nil
      expect(fact.term).to be_nil
      expect(fact.producer).to be_nil
      expect(fact.derivation).to be_nil
      expect(fact.schema_version).to eq(1)
    end

    it "converts schema_version with to_i" do
      expect(build_fact(schema_version: "2").schema_version).to eq(2)
      expect(build_fact(schema_version: 3).schema_version).to eq(3)
    end

    it "resolves valid_time with to_f, falling back to term" do
      expect(build_fact(valid_time: Time.at(100, in: "UTC")).valid_time).to eq(100.0)
      expect(build_fact(valid_time: "12.5").valid_time).to eq(12.5)
      expect(build_fact(valid_time: 7).valid_time).to eql(7.0)
      expect(build_fact(term: 0).valid_time).to eql(0.0)
      expect(build_fact(term: 5).term).to eql(5.0)
      expect(build_fact(valid_time: 1.5, term: 9).valid_time).to eq(1.5)
    end

    it "turns a falsy producer or derivation into nil" do
      fact = build_fact(producer: false, derivation: nil)

      expect(fact.producer).to be_nil
      expect(fact.derivation).to be_nil
    end

    it "accepts any JSON-able value, not only Hashes" do
      expect(build_fact(value: [1, "a", :b]).value).to eq([1, "a", :b])
      expect(build_fact(value: "text").value).to eq("text")
      expect(build_fact(value: 42).value).to eq(42)
      expect(build_fact(value: nil).value).to be_nil
    end

    it "rejects unknown keywords with ArgumentError" do
      expect { build_fact(colour: :red) }.to raise_error(ArgumentError)
    end

    it "requires store, key and value" do
      expect { described_class.build(store: :items, key: "k") }.to raise_error(ArgumentError)
      expect { described_class.build(store: :items, value: {}) }.to raise_error(ArgumentError)
      expect { described_class.build(key: "k", value: {}) }.to raise_error(ArgumentError)
    end
  end

  describe ".build: normalization" do
    it "turns String Hash keys into Symbols at every depth, inside Arrays too" do
      fact = build_fact(value: {
        "a" => { "b" => { "c" => 1 } },
        "list" => [{ "x" => 1 }, [{ "y" => [{ "z" => 2 }] }]],
        sym: { "inner" => true }
      })

      expect(fact.value).to eq(
        a: { b: { c: 1 } },
        list: [{ x: 1 }, [{ y: [{ z: 2 }] }]],
        sym: { inner: true }
      )
      expect(all_keys_symbols?(fact.value)).to be(true)
    end

    it "symbolizes the keys of producer and derivation too" do
      fact = build_fact(
        producer: { "system" => "app", "meta" => [{ "k" => 1 }] },
        derivation: { "name" => "d", "source_fact_ids" => ["a"], "opts" => { "deep" => { "x" => 1 } } }
      )

      expect(fact.producer).to eq(system: "app", meta: [{ k: 1 }])
      expect(fact.derivation).to eq(name: "d", source_fact_ids: ["a"], opts: { deep: { x: 1 } })
    end

    it "keeps Symbol values as Symbols and String values as Strings" do
      fact = build_fact(value: { status: :open, label: "open", colon: ":not_a_symbol", list: [:a, "b"] })

      expect(fact.value).to eq(status: :open, label: "open", colon: ":not_a_symbol", list: [:a, "b"])
      expect(fact.value[:colon]).to be_a(String)
    end

    it "keeps the types of scalars: Integers of any size, Floats, booleans, nil" do
      value = { big: 2**70, neg: -(2**65), f: 1.0, z: -0.0, t: true, n: nil }
      fact = build_fact(value: value)

      expect(fact.value).to eq(value)
      expect(fact.value[:big]).to eql(2**70)
      expect(fact.value[:f]).to eql(1.0)
      expect(fact.value[:z].to_s).to eq("-0.0")
    end

    it "preserves insertion order of value keys" do
      expect(build_fact(value: { "z" => 1, "a" => 2, "m" => 3 }).value.keys).to eq(%i[z a m])
    end

    it "deep-freezes value, producer and derivation" do
      fact = build_fact(
        value: { "s" => +"text", "nested" => { "list" => [+"a", { "x" => +"y" }] } },
        producer: { system: +"app", tags: [+"t"] },
        derivation: { name: +"d", source_fact_ids: [+"id-1"] }
      )

      expect(deeply_frozen?(fact.value)).to be(true)
      expect(deeply_frozen?(fact.producer)).to be(true)
      expect(deeply_frozen?(fact.derivation)).to be(true)
      expect { fact.value[:nested][:list] << 1 }.to raise_error(FrozenError)
    end

    it "neither freezes nor mutates the caller's structures" do
      inner = { "x" => +"y" }
      list = [inner, +"s"]
      value = { "list" => list, "title" => +"t" }
      producer = { "system" => +"app" }
      fact = build_fact(value: value, producer: producer)

      expect(fact.value).to eq(list: [{ x: "y" }, "s"], title: "t")
      expect(value.keys).to eq(%w[list title])
      expect(inner.keys).to eq(["x"])
      expect(producer.keys).to eq(["system"])
      [value, list, inner, inner["x"], list[1], value["title"], producer, producer["system"]].each do |obj|
        expect(obj).not_to be_frozen
      end
    end

    it "returns the same frozen value object on every read" do
      fact = build_fact(value: { a: { b: [1, 2] } }, producer: { system: :x })

      expect(fact.value).to equal(fact.value)
      expect(fact.producer).to equal(fact.producer)
    end

    it "is frozen and cannot be modified" do
      fact = build_fact

      expect(fact).to be_frozen
      expect { fact.instance_variable_set(:@value, {}) }.to raise_error(FrozenError)
      if fact.respond_to?(:value=)
        expect { fact.value = {} }.to raise_error(FrozenError)
      end
    end

    it "freezes id, key, value_hash and causation" do
      fact = build_fact(key: +"k", causation: +"cause")

      expect([fact.id, fact.key, fact.value_hash, fact.causation]).to all(be_frozen)
    end
  end

  describe ".build: rejected values" do
    it "raises NonFiniteNumberError, a JSON::GeneratorError, for NaN or Infinity in value" do
      expect(Igniter::Store::NonFiniteNumberError.ancestors).to include(JSON::GeneratorError)

      [Float::NAN, Float::INFINITY, -Float::INFINITY].each do |bad|
        expect { build_fact(value: { x: bad }) }.to raise_error(Igniter::Store::NonFiniteNumberError)
        expect { build_fact(value: { nested: [1, { y: bad }] }) }.to raise_error(JSON::GeneratorError)
      end
    end

    it "raises NonFiniteNumberError for NaN or Infinity in producer, derivation or valid_time" do
      expect { build_fact(producer: { w: Float::NAN }) }.to raise_error(Igniter::Store::NonFiniteNumberError)
      expect { build_fact(derivation: { w: [-Float::INFINITY] }) }.to raise_error(Igniter::Store::NonFiniteNumberError)
      expect { build_fact(valid_time: Float::NAN) }.to raise_error(Igniter::Store::NonFiniteNumberError)
      expect { build_fact(valid_time: Float::INFINITY) }.to raise_error(Igniter::Store::NonFiniteNumberError)
      expect { build_fact(term: -Float::INFINITY) }.to raise_error(Igniter::Store::NonFiniteNumberError)
    end

    it "raises JSON::GeneratorError for a String that is not valid UTF-8" do
      bad = "ok \xFF\xFE".dup.force_encoding(Encoding::UTF_8)

      expect { build_fact(value: { s: bad }) }.to raise_error(JSON::GeneratorError)
      expect { build_fact(value: [bad]) }.to raise_error(JSON::GeneratorError)
      expect { build_fact(producer: { s: bad }) }.to raise_error(JSON::GeneratorError)
    end

    it "raises JSON::NestingError for nesting deeper than 100 levels" do
      deep_hash = (1..101).reduce(1) { |acc, _| { "d" => acc } }
      deep_array = (1..101).reduce(1) { |acc, _| [acc] }
      shallow = (1..10).reduce(1) { |acc, _| { "d" => [acc] } }

      expect { build_fact(value: deep_hash) }.to raise_error(JSON::NestingError)
      expect { build_fact(value: deep_array) }.to raise_error(JSON::NestingError)
      expect { build_fact(value: shallow) }.not_to raise_error
    end
  end

  describe "#to_h" do
    it "returns exactly the 11 members in order, unfrozen, equal to the readers" do
      fact = build_fact(value: { a: 1 }, causation: "c-1", valid_time: 2.5, producer: { system: :s })
      hash = fact.to_h

      expect(hash.keys).to eq(members)
      expect(hash).not_to be_frozen
      members.each { |m| expect(hash[m]).to eq(fact.public_send(m)) }
      expect(hash[:store]).to eq(:items)
    end

    it "includes nil members" do
      hash = build_fact.to_h

      expect(hash).to include(causation: nil, valid_time: nil, producer: nil, derivation: nil)
      expect(hash.size).to eq(11)
    end

    it "returns a new Hash on every call" do
      fact = build_fact

      expect(fact.to_h).not_to equal(fact.to_h)
      fact.to_h[:key] = "changed"
      expect(fact.key).to eq("k")
    end
  end

  describe ".from_h" do
    it "accepts the legacy timestamp and term keys (0.5.2 fact_spec)" do
      fact = described_class.from_h(
        id: "fact-1",
        store: :legacy,
        key: "k",
        value: { title: "old" },
        value_hash: "hash-1",
        causation: nil,
        timestamp: 1_714_200_000.0,
        term: 1_714_200_123.5,
        schema_version: 1,
        producer: { system: :legacy },
        derivation: { name: :legacy_derivation }
      )

      expect(fact.transaction_time).to be_a(Float)
      expect(fact.transaction_time).to eq(1_714_200_000.0)
      expect(fact.valid_time).to eq(1_714_200_123.5)
      expect(fact.producer[:system]).to eq(:legacy)
      expect(fact.derivation[:name]).to eq(:legacy_derivation)
      expect(fact.id).to eq("fact-1")
      expect(fact.value_hash).to eq("hash-1")
    end

    it "round-trips to_h, preserving every field verbatim" do
      original = build_fact(
        store: :orders, key: "o-1", value: { total: 1.5, items: [{ sku: "a" }], state: :open },
        causation: "prev-id", valid_time: 10.25, schema_version: 3,
        producer: { system: :spec }, derivation: { name: :d, source_fact_ids: ["x"] }
      )
      restored = described_class.from_h(original.to_h)

      members.each do |m|
        expect(restored.public_send(m)).to eq(original.public_send(m)), "member #{m} differs"
      end
      expect(restored.transaction_time).to eql(original.transaction_time)
    end

    it "preserves id, value_hash and times without recomputing them" do
      fact = described_class.from_h(
        id: "given-id", store: "items", key: "k", value: { a: 1 }, value_hash: "not-a-real-hash",
        causation: "c", transaction_time: 12.0, valid_time: 3.0, schema_version: 1
      )

      expect(fact.id).to eq("given-id")
      expect(fact.value_hash).to eq("not-a-real-hash")
      expect(fact.transaction_time).to eq(12.0)
      expect(fact.valid_time).to eq(3.0)
      expect(fact.causation).to eq("c")
    end

    it "accepts String top-level keys and normalizes like build" do
      fact = described_class.from_h(
        "id" => "i", "store" => "items", "key" => 7, "value" => { "a" => { "b" => [{ "c" => 1 }] } },
        "transaction_time" => 1, "producer" => { "system" => "x" }
      )

      expect(fact.store).to eq(:items)
      expect(fact.key).to eq("7")
      expect(fact.value).to eq(a: { b: [{ c: 1 }] })
      expect(fact.producer).to eq(system: "x")
      expect(fact.transaction_time).to eql(1.0)
      expect(deeply_frozen?(fact.value)).to be(true)
      expect(fact).to be_frozen
    end

    it "defaults schema_version to 1, transaction_time to 0.0 and a missing id to a fresh UUID" do
      fact = described_class.from_h(store: :items, key: "k", value: {})

      expect(fact.schema_version).to eq(1)
      expect(fact.transaction_time).to eql(0.0)
      expect(fact.valid_time).to be_nil
      expect(fact.id).to match(uuid_v4)
    end

    it "converts schema_version with to_i" do
      expect(described_class.from_h(store: :s, key: "k", value: {}, schema_version: "2").schema_version).to eq(2)
    end

    it "raises KeyError without a store" do
      expect { described_class.from_h(key: "k", value: {}) }.to raise_error(KeyError)
    end

    it "ignores unknown keys" do
      fact = described_class.from_h(store: :s, key: "k", value: { a: 1 }, extra: "ignored", legacy_flag: true)

      expect(fact.to_h.keys).to eq(members)
    end
  end
end
