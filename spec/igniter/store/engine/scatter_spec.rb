# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "scatters" do
  subject(:store) { ledger_store }

  let(:counter) { ->(_pv, existing, _fact) { { count: (existing ? existing[:count] : 0) + 1 } } }

  describe "#register_scatter" do
    it "is chainable and registered in the schema graph" do
      expect(store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :by_sensor, rule: counter))
        .to be(store)
      expect(store.schema_graph.scatters_for_store(store: :readings).size).to eq(1)
      expect(store.schema_graph.scatter_snapshot.first).not_to have_key(:rule)
    end

    it "creates and accumulates one index entry per partition value" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :by_sensor, rule: counter)
      store.write(store: :readings, key: "r1", value: { sensor: "s1" })
      store.write(store: :readings, key: "r2", value: { sensor: "s1" })
      store.write(store: :readings, key: "r3", value: { sensor: :s2 })
      expect(store.read(store: :by_sensor, key: "s1")).to eq(count: 2)
      expect(store.read(store: :by_sensor, key: "s2")).to eq(count: 1)
      expect(store.fact_count).to eq(6)
    end

    it "passes the raw partition value, the existing (nil first) value and the source fact" do
      seen = []
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :idx,
                             rule: ->(pv, existing, fact) { seen << [pv, existing, fact.key]; { v: fact.key } })
      store.write(store: :readings, key: "r1", value: { sensor: :s1 })
      store.write(store: :readings, key: "r2", value: { sensor: :s1 })
      expect(seen).to eq([[:s1, nil, "r1"], [:s1, { v: "r1" }, "r2"]])
    end

    it "skips facts without the field, with a falsy field, or with a non-Hash value (no \"\" entry)" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :idx, rule: counter)
      store.write(store: :readings, key: "r1", value: { other: 1 })
      store.write(store: :readings, key: "r2", value: { sensor: false })
      store.write(store: :readings, key: "r3", value: [1, 2])
      expect(store.read(store: :idx, key: "")).to be_nil
      expect(store.fact_count).to eq(3)
    end

    it "skips the write when the rule returns nil" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :idx, rule: ->(*) { nil })
      store.write(store: :readings, key: "r1", value: { sensor: "s" })
      expect(store.fact_count).to eq(1)
    end

    it "fires once when the target is the source store" do
      calls = 0
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :readings,
                             rule: ->(*) { calls += 1; { sensor: "again" } })
      store.write(store: :readings, key: "r1", value: { sensor: "s" })
      expect(calls).to eq(1)
    end

    it "is isolated per store and runs several rules" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :a, rule: counter)
      store.register_scatter(source_store: :readings, partition_by: :site, target_store: :b, rule: counter)
      store.write(store: :other, key: "x", value: { sensor: "s" })
      store.write(store: :readings, key: "r", value: { sensor: "s", site: "x" })
      expect([store.read(store: :a, key: "s"), store.read(store: :b, key: "x")]).to eq([{ count: 1 }, { count: 1 }])
    end

    it "forms causation chains on the index key" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :idx, rule: counter)
      2.times { |i| store.write(store: :readings, key: "r#{i}", value: { sensor: "s" }) }
      chain = store.causation_chain(store: :idx, key: "s")
      expect(chain[1][:causation]).to eq(chain[0][:id])
    end

    it "looks up a String partition_by as the Symbol key values have" do
      store.register_scatter(source_store: :readings, partition_by: "sensor", target_store: :idx, rule: counter)
      store.write(store: :readings, key: "r1", value: { "sensor" => "s" })
      expect(store.read(store: :idx, key: "s")).to eq(count: 1)
    end

    it "coexists with derivations on the same source" do
      store.register_scatter(source_store: :readings, partition_by: :sensor, target_store: :idx, rule: counter)
      store.register_derivation(source_store: :readings, target_store: :stats, target_key: "n", rule: ->(f) { { n: f.size } })
      store.write(store: :readings, key: "r1", value: { sensor: "s" })
      expect([store.read(store: :idx, key: "s"), store.read(store: :stats, key: "n")]).to eq([{ count: 1 }, { n: 1 }])
    end
  end
end
