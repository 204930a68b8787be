# frozen_string_literal: true

RSpec.describe "Open protocol fact IO" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }

  it "writes with auto-chained causation and echoes the caller's key" do
    first = proto.write(store: "tasks", key: "t1", value: { status: :open })
    second = proto.write(store: :tasks, key: "t1", value: { status: :done })
    expect([second.store, second.key]).to eq([:tasks, "t1"])
    chain = proto.causation_chain(store: :tasks, key: "t1")
    expect(chain.map { |e| e[:causation] }).to eq([nil, first.fact_id])
    expect(proto.read(store: :tasks, key: "t1")).to eq(status: :done)
  end

  it "appends under a generated key readable through history_partition with its producer" do
    r = proto.append(history: :events, event: { task_id: "t1", kind: :opened }, key: "client", partition_key: :task_id,
                     producer: { system: :spec })
    expect(r.key).not_to eq("client")
    facts = store.history_partition(store: :events, partition_key: :task_id, partition_value: "t1")
    expect(facts.map(&:producer)).to eq([{ system: :spec }])
    expect(facts.first.producer).to be_frozen
  end

  describe "#write_fact" do
    let(:packet) do
      { kind: :fact, store: :readings, key: :r1, value: { value: 7.0 }, valid_time: 1_714_200_123.5,
        producer: { system: :sensor }, derivation: { source_fact_ids: ["source-1"] } }
    end

    it "stores valid_time, producer and derivation and echoes the key as given" do
      r = proto.write_fact(packet)
      stored = proto.instance_variable_get(:@store).history(store: :readings, key: "r1").last
      expect([r.key, r.fact_id, stored.key]).to eq([:r1, stored.id, "r1"])
      expect([stored.valid_time, stored.producer, stored.derivation[:source_fact_ids]])
        .to eq([1_714_200_123.5, { system: :sensor }, ["source-1"]])
    end

    it "accepts the keyword style and chains causation" do
      proto.write_fact(kind: "fact", store: "r", key: "k", value: 1)
      proto.write_fact(kind: :fact, store: "r", key: "k", value: 2)
      chain = store.causation_chain(store: :r, key: "k")
      expect(chain[1][:causation]).to eq(chain[0][:id])
    end

    it "rejects a wrong kind and missing fields with kind :fact" do
      expect(proto.write_fact(packet.merge(kind: :store)).errors).to eq(["write_fact: expected kind: :fact, got :store"])
      expect(proto.write_fact(packet.merge(kind: nil)).errors).to eq(["write_fact: expected kind: :fact, got nil"])
      expect(proto.write_fact(packet.merge(store: nil)).errors).to eq(["write_fact: missing store:"])
      expect(proto.write_fact(packet.merge(value: false)).errors).to eq(["write_fact: missing value:"])
      expect(store.fact_count).to eq(0)
    end

    it "warns that engine-assigned packet fields were ignored" do
      r = proto.write_fact(packet.merge(id: "mine", transaction_time: 1.0))
      expect(r.fact_id).not_to eq("mine")
      expect(r.warnings).to eq(["write_fact: ignored id, transaction_time (assigned by the engine; fact schema_version is 1)"])
      expect(proto.write_fact(packet.merge(schema_version: 1)).warnings).to eq([])
    end
  end

  describe "#query" do
    before do
      proto.write(store: :q, key: "b", value: { n: 2, s: :x })
      proto.write(store: :q, key: "a", value: { n: 1, s: :y })
      proto.write(store: :q, key: "b", value: { n: 3, s: :x })
      proto.write(store: :q, key: "c", value: { n: 0, s: :x })
    end

    it "returns the latest value per key in first-appearance order" do
      expect(proto.query(store: :q).map { |i| [i[:key], i[:value][:n]] }).to eq([["b", 3], ["a", 1], ["c", 0]])
    end

    it "filters by exact equality, orders and limits with String field names" do
      expect(proto.query(store: "q", where: { "s" => :x }, order: "n", limit: 1)).to eq([{ key: "c", value: { n: 0, s: :x } }])
      expect(proto.query(store: :q, where: { s: "x" })).to eq([])
    end

    it "orders missing values last and skips non-Hash values in where" do
      proto.write(store: :q, key: "d", value: 5)
      expect(proto.query(store: :q, order: :n).map { |i| i[:key] }).to eq(%w[c a b d])
      expect(proto.query(store: :q, where: { n: 5 })).to eq([])
    end

    it "raises clear errors for a negative limit, a non-Hash where and incomparable order values" do
      expect { proto.query(store: :q, limit: -1) }.to raise_error(ArgumentError, /limit must be >= 0/)
      expect { proto.query(store: :q, where: nil) }.to raise_error(ArgumentError, /where must be a Hash/)
      proto.write(store: :q, key: "e", value: { n: "text" })
      expect { proto.query(store: :q, order: :n) }.to raise_error(ArgumentError, /cannot order by :n/)
    end
  end

  describe "relations" do
    before do
      proto.register(kind: :relation, name: :project_tasks, from: { store: :projects, key: :id },
                     to: { store: :tasks, field: :project_id })
      proto.write(store: :tasks, key: "t1", value: { title: "A", project_id: "p1" })
      proto.write(store: :tasks, key: "t2", value: { title: "B", project_id: "p1" })
      proto.write(store: :tasks, key: "t3", value: { title: "C", project_id: "p2" })
    end

    it "resolves values and items" do
      expect(proto.resolve(:project_tasks, from: "p1").map { |t| t[:title] }).to eq(%w[A B])
      expect(proto.resolve_items(:project_tasks, from: "p2")).to eq([{ key: "t3", value: { title: "C", project_id: "p2" } }])
      expect(proto.resolve_items(:project_tasks, from: "p9")).to eq([])
    end

    it "raises for an unknown or String-named relation" do
      expect { proto.resolve_items("project_tasks", from: "p1") }
        .to raise_error(ArgumentError, 'No relation registered: "project_tasks"')
    end
  end

  it "answers lineage and fact_ref shapes" do
    r = proto.write(store: "tasks", key: "t1", value: { n: 1 })
    lineage = proto.lineage(store: "tasks", key: "t1")
    expect([lineage[:subject], lineage[:depth], lineage[:proof_hash]]).to match([{ store: :tasks, key: "t1" }, 1, /\A\h{64}\z/])
    ref = proto.fact_ref(r.fact_id)
    expect(ref.keys).to eq(%i[id store key transaction_time valid_time value_hash])
    expect([proto.fact_ref(nil), proto.fact_ref("")]).to eq([nil, nil])
  end
end
