# frozen_string_literal: true

# Interpreter fact IO against spec 04 §7 and §17.3/§17.5: what is forwarded
# to the engine, exact fact counts and the shapes of provenance answers.
RSpec.describe "Open protocol fact IO conformance" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  describe "#write" do
    it "leaves producer and derivation nil by default" do
      fact = store.fact_by_id(proto.write(store: :tasks, key: "t1", value: { n: 1 }).fact_id)
      expect([fact.producer, fact.derivation, fact.valid_time, fact.causation]).to eq([nil, nil, nil, nil])
    end

    it "forwards causation, valid_time, producer and derivation" do
      r = proto.write(store: :tasks, key: "t1", value: { n: 1 }, causation: "c-0", valid_time: 1_714_200_123.5,
                      producer: { system: :spec }, derivation: { source_fact_ids: ["source-1"] })
      fact = store.fact_by_id(r.fact_id)
      expect([fact.causation, fact.valid_time, fact.producer, fact.derivation[:source_fact_ids]])
        .to eq(["c-0", 1_714_200_123.5, { system: :spec }, ["source-1"]])
      expect(fact.producer).to be_frozen
    end

    it "stores a String-keyed producer Symbol-keyed and frozen" do
      r = proto.write(store: :tasks, key: "t1", value: { n: 1 }, producer: { "system" => "sensor", "meta" => { "v" => 1 } })
      producer = store.fact_by_id(r.fact_id).producer
      expect(producer).to eq(system: "sensor", meta: { v: 1 })
      expect(producer).to be_frozen
    end

    it "stamps transaction_time from the realtime clock at write time, unrounded" do
      before = realtime
      r = proto.write(store: :tasks, key: "t1", value: { n: 1 })
      after = realtime
      tt = store.fact_by_id(r.fact_id).transaction_time
      expect(tt).to be_a(Float).and be_between(before, after)
      expect(proto.replay(from: tt, to: tt).map { |p| p[:id] }).to eq([r.fact_id])
    end

    it "takes term as the deprecated alias of valid_time" do
      r = proto.write(store: :tasks, key: "t1", value: { n: 1 }, term: 42.5)
      expect(store.fact_by_id(r.fact_id).valid_time).to eq(42.5)
    end

    it "returns a write receipt with a Symbol store and the caller's key" do
      r = proto.write(store: "tasks", key: :t1, value: { n: 1 })
      expect(r.to_h.except(:fact_id, :value_hash))
        .to eq(schema_version: 1, kind: :receipt, status: :accepted, store: :tasks, key: :t1, warnings: [], errors: [],
               derived: [])
      expect(store.fact_by_id(r.fact_id).key).to eq("t1")
    end

    it "finds a Symbol-keyed write with a String read and back" do
      proto.write(store: :tasks, key: :t1, value: { status: :open })
      expect([proto.read(store: :tasks, key: "t1"), proto.read(store: "tasks", key: :t1)])
        .to eq([{ status: :open }, { status: :open }])
    end

    it "adds exactly one fact per write and per append" do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      proto.write(store: :tasks, key: "t1", value: { n: 2 })
      proto.append(history: :events, event: { n: 3 })
      expect([store.fact_count, store.fact_log_all.size, proto.replay.size]).to eq([3, 3, 3])
    end
  end

  describe "#append" do
    it "stores the event under a generated UUID key and keeps the client key as metadata only" do
      r = proto.append(history: "events", event: { task_id: "t1" }, key: "client-key")
      expect([r.kind, r.store]).to eq(%i[append_receipt events])
      expect(r.key).to match(/\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/)
      expect(r.warnings).to eq(["append key is metadata only in protocol v0; generated fact key returned"])
      expect(proto.replay(filter: { store: :events, key: r.key }).map { |p| p[:id] }).to eq([r.fact_id])
      expect(proto.replay(filter: { store: :events, key: "client-key" })).to eq([])
    end

    it "has no warning without a client key" do
      expect(proto.append(history: :events, event: { n: 1 }).warnings).to eq([])
    end

    it "forwards valid_time, producer and derivation" do
      r = proto.append(history: :events, event: { n: 1 }, valid_time: 12.5, producer: { system: :spec },
                       derivation: { rule: :x })
      fact = store.fact_by_id(r.fact_id)
      expect([fact.valid_time, fact.producer, fact.derivation, fact.value]).to eq([12.5, { system: :spec }, { rule: :x }, { n: 1 }])
    end
  end

  describe "#read and #query" do
    it "reads the value as of a time" do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      mid = clock_boundary
      proto.write(store: :tasks, key: "t1", value: { n: 2 })
      expect([proto.read(store: :tasks, key: "t1", as_of: mid), proto.read(store: :tasks, key: "t1")]).to eq([{ n: 1 }, { n: 2 }])
      expect(proto.read(store: :tasks, key: "nope")).to be_nil
    end

    it "serves a non-Igniter client: where by Symbol value, {key:, value:} items" do
      proto.write(store: :tasks, key: "t1", value: { title: "A", status: :pending })
      proto.write(store: :tasks, key: "t2", value: { title: "B", status: :pending })
      proto.write(store: :tasks, key: "t3", value: { title: "C", status: :open })
      pending = proto.query(store: :tasks, where: { status: :pending })
      expect(pending.map { |i| i.keys }).to all(eq(%i[key value]))
      expect([pending.size, proto.query(store: :tasks, where: { status: :open }).size, proto.query(store: :tasks).size])
        .to eq([2, 1, 3])
      expect(proto.query(store: :tasks, where: { status: "pending" })).to eq([])
    end

    it "queries as of a time, with the latest fact per key at that time" do
      proto.write(store: :tasks, key: "t1", value: { status: :open })
      mid = clock_boundary
      proto.write(store: :tasks, key: "t1", value: { status: :done })
      proto.write(store: :tasks, key: "t2", value: { status: :open })
      expect(proto.query(store: :tasks, where: { status: :open }, as_of: mid)).to eq([{ key: "t1", value: { status: :open } }])
      expect(proto.query(store: :tasks, where: { status: :open }).map { |i| i[:key] }).to eq(["t2"])
    end

    it "agrees with read on the latest value of a key (last appended)" do
      3.times { |i| proto.write(store: :tasks, key: "t1", value: { n: i }) }
      expect(proto.query(store: :tasks).first[:value]).to eq(proto.read(store: :tasks, key: "t1"))
    end

    it "returns everything for an empty where and [] for an unknown store" do
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      expect([proto.query(store: :tasks, where: {}).size, proto.query(store: :ghosts)]).to eq([1, []])
    end
  end

  describe "names that are neither Symbol nor String" do
    it "raise one-line ArgumentErrors naming the argument, leaving the store usable" do
      expect { proto.write(store: 5, key: "k", value: 1) }.to raise_error(ArgumentError, "store: must be a Symbol or String, got 5")
      expect { proto.append(history: nil, event: {}) }.to raise_error(ArgumentError, "history: must be a Symbol or String, got nil")
      expect { proto.read(store: [], key: "k") }.to raise_error(ArgumentError, "store: must be a Symbol or String, got []")
      expect { proto.query(store: :t, order: 1) }.to raise_error(ArgumentError, "order: must be a Symbol or String, got 1")
      expect { proto.query(store: :t, where: { 1 => :x }) }.to raise_error(ArgumentError, /where field: must be/)
      expect { proto.replay(filter: { store: 1 }) }.to raise_error(ArgumentError, "filter store: must be a Symbol or String, got 1")
      expect { proto.sync_hub_profile(stores: [:a, 2]) }.to raise_error(ArgumentError, "stores: must be a Symbol or String, got 2")
      expect { proto.compaction_activity(store: 3) }.to raise_error(ArgumentError, "store: must be a Symbol or String, got 3")
      expect(proto.write(store: :t, key: "k", value: 1)).to be_accepted
      expect(store.fact_count).to eq(1)
    end

    it "become single-line internal errors over the wire" do
      resp = proto.dispatch({ protocol: :igniter_store, op: :write, packet: { store: 5, key: "k", value: 1 } })
      expect(resp[:error]).to eq("Internal error: store: must be a Symbol or String, got 5")
      resp = proto.dispatch({ protocol: :igniter_store, op: :resolve, packet: { relation: nil, from: "p" } })
      expect(resp[:error]).to eq("Internal error: relation: must be a Symbol or String, got nil")
    end
  end

  describe "provenance" do
    before do
      @first = proto.write(store: :tasks, key: "t1", value: { n: 1 })
      @second = proto.write(store: :tasks, key: "t1", value: { n: 2 })
    end

    it "walks the causation chain chronologically with a 12-character value hash" do
      chain = proto.causation_chain(store: "tasks", key: "t1")
      expect(chain.map(&:keys)).to all(eq(%i[id value_hash causation transaction_time]))
      expect(chain.map { |e| e[:id] }).to eq([@first.fact_id, @second.fact_id])
      expect(chain.last[:causation]).to eq(@first.fact_id)
      expect(chain.first[:value_hash]).to eq(@first.value_hash[0, 12])
    end

    it "describes lineage with full entries and a proof hash over id:value_hash:causation" do
      lineage = proto.lineage(store: "tasks", key: "t1")
      expect(lineage.keys).to eq(%i[subject chain depth derived_by proof_hash])
      expect([lineage[:subject], lineage[:depth], lineage[:derived_by]]).to eq([{ store: :tasks, key: "t1" }, 2, []])
      expect(lineage[:chain].first.keys).to eq(%i[id store key causation value_hash transaction_time valid_time schema_version])
      rendered = "#{@first.fact_id}:#{@first.value_hash}:|#{@second.fact_id}:#{@second.value_hash}:#{@first.fact_id}"
      expect(lineage[:proof_hash]).to eq(Digest::SHA256.hexdigest(rendered))
    end

    it "has an empty lineage with a nil proof hash for an unknown key" do
      expect(proto.lineage(store: :tasks, key: "zz")).to include(chain: [], depth: 0, proof_hash: nil)
    end

    it "lists rule derivations of the store in derived_by" do
      store.register_derivation(source_store: :tasks, target_store: :stats, target_key: "total", rule: ->(facts) { { n: facts.size } })
      expect(proto.lineage(store: :tasks, key: "t1")[:derived_by])
        .to eq([{ target_store: :stats, target_key: "total", source_filters: {} }])
    end

    it "references a live fact by id, without its value" do
      ref = proto.fact_ref(@second.fact_id)
      expect(ref).to eq(id: @second.fact_id, store: :tasks, key: "t1", transaction_time: store.fact_by_id(@second.fact_id).transaction_time,
                        valid_time: nil, value_hash: @second.value_hash)
      expect(proto.fact_ref("no-such-id")).to be_nil
    end
  end

  describe "#resolve_items" do
    before do
      proto.register(kind: :relation, name: :project_tasks, from: { store: :projects, key: :id },
                     to: { store: :tasks, field: :project_id })
      proto.write(store: :tasks, key: "t1", value: { title: "A", project_id: "p1" })
      @mid = clock_boundary
      proto.write(store: :tasks, key: "t2", value: { title: "B", project_id: "p1" })
    end

    it "keeps the source keys in first-indexed order, matching resolve" do
      items = proto.resolve_items(:project_tasks, from: "p1")
      expect(items.map { |i| i[:key] }).to eq(%w[t1 t2])
      expect(items.map { |i| i[:value] }).to eq(proto.resolve(:project_tasks, from: "p1"))
    end

    it "resolves as of a time" do
      expect(proto.resolve_items(:project_tasks, from: "p1", as_of: @mid).map { |i| i[:key] }).to eq(["t1"])
    end

    it "stringifies the partition value and raises for an unknown relation" do
      proto.write(store: :tasks, key: "t3", value: { title: "C", project_id: 7 })
      expect(proto.resolve(:project_tasks, from: 7)).to eq([{ title: "C", project_id: 7 }])
      expect { proto.resolve(:nope, from: "p1") }.to raise_error(ArgumentError, "No relation registered: :nope")
    end
  end
end
