# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore do
  subject(:store) { described_class.new }

  describe "#write" do
    it "returns the Fact with store as a Symbol and key as a String" do
      fact = store.write(store: "tasks", key: :t1, value: { "title" => "x" })

      expect(fact).to be_a(Igniter::Store::Fact)
      expect(fact.store).to eq(:tasks)
      expect(fact.key).to eq("t1")
      expect(fact.value).to eq(title: "x")
    end

    it "defaults causation to the previous fact's id for the same store and key" do
      first = store.write(store: :tasks, key: "t1", value: { v: 1 })
      other_key = store.write(store: :tasks, key: "t2", value: { v: 1 })
      other_store = store.write(store: :notes, key: "t1", value: { v: 1 })
      second = store.write(store: :tasks, key: "t1", value: { v: 2 })

      expect(first.causation).to be_nil
      expect(other_key.causation).to be_nil
      expect(other_store.causation).to be_nil
      expect(second.causation).to eq(first.id)
    end

    it "keeps an explicit causation" do
      store.write(store: :tasks, key: "t1", value: { v: 1 })
      fact = store.write(store: :tasks, key: "t1", value: { v: 2 }, causation: "external-cause")

      expect(fact.causation).to eq("external-cause")
    end

    it "passes valid_time, term, schema_version, producer and derivation to the fact" do
      fact = store.write(store: :tasks, key: "t1", value: { v: 1 }, valid_time: 10, schema_version: 2,
                         producer: { system: :spec }, derivation: { name: :d })
      by_term = store.write(store: :tasks, key: "t2", value: { v: 1 }, term: 4)

      expect(fact.valid_time).to eq(10.0)
      expect(fact.schema_version).to eq(2)
      expect(fact.producer).to eq(system: :spec)
      expect(fact.derivation).to eq(name: :d)
      expect(by_term.valid_time).to eq(4.0)
    end
  end

  describe "#append" do
    it "stores an event under a fresh UUID key without causation" do
      fact = store.append(history: :events, event: { "kind" => "created" })

      expect(fact.store).to eq(:events)
      expect(fact.key).to match(/\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/)
      expect(fact.causation).to be_nil
      expect(fact.value).to eq(kind: "created")
      expect(store.history(store: :events).map(&:id)).to eq([fact.id])
    end

    it "gives every event its own key" do
      a = store.append(history: :events, event: { n: 1 })
      b = store.append(history: :events, event: { n: 1 })

      expect(a.key).not_to eq(b.key)
      expect(store.fact_count).to eq(2)
    end
  end

  describe "#read and #time_travel" do
    it "returns the latest value, nil when nothing was written" do
      expect(store.read(store: :tasks, key: "t1")).to be_nil
      store.write(store: :tasks, key: "t1", value: { v: 1 })
      store.write(store: :tasks, key: "t1", value: { v: 2, status: :done })

      expect(store.read(store: :tasks, key: "t1")).to eq(v: 2, status: :done)
      expect(store.read(store: "tasks", key: :t1)).to eq(v: 2, status: :done)
    end

    it "reads the value as of an inclusive CLOCK_REALTIME boundary" do
      first = store.write(store: :tasks, key: "t1", value: { v: 1 })
      boundary = clock_boundary
      store.write(store: :tasks, key: "t1", value: { v: 2 })

      expect(store.read(store: :tasks, key: "t1", as_of: boundary)).to eq(v: 1)
      expect(store.read(store: :tasks, key: "t1", as_of: first.transaction_time)).to eq(v: 1)
      expect(store.time_travel(store: :tasks, key: "t1", at: boundary)).to eq(v: 1)
      expect(store.time_travel(store: :tasks, key: "t1", at: realtime)).to eq(v: 2)
      expect(store.time_travel(store: :tasks, key: "t1", at: first.transaction_time - 1)).to be_nil
    end

    it "returns frozen values" do
      store.write(store: :tasks, key: "t1", value: { "nested" => { "list" => [1] } })

      expect(deeply_frozen?(store.read(store: :tasks, key: "t1"))).to be(true)
    end
  end

  describe "#history" do
    it "returns the key's facts in write order, [] for an unknown key" do
      facts = Array.new(3) { |i| store.write(store: :tasks, key: "t1", value: { v: i }) }
      store.write(store: :tasks, key: "t2", value: { v: 9 })

      expect(store.history(store: :tasks, key: "t1").map(&:id)).to eq(facts.map(&:id))
      expect(store.history(store: :tasks, key: "missing")).to eq([])
    end
  end

  describe "#fact_count" do
    it "counts writes and appends" do
      expect(store.fact_count).to eq(0)
      store.write(store: :tasks, key: "t1", value: {})
      store.append(history: :events, event: {})

      expect(store.fact_count).to eq(2)
    end
  end

  describe ".open and #close" do
    it "persists writes and appends through the WAL" do
      with_tmpdir do |dir|
        path = File.join(dir, "store.wal")
        opened = described_class.open(path)
        written = opened.write(store: :tasks, key: "t1", value: { v: 1 })
        appended = opened.append(history: :events, event: { kind: :created })
        opened.close

        reopened = described_class.open(path)
        expect(reopened.fact_count).to eq(2)
        expect(reopened.read(store: :tasks, key: "t1")).to eq(v: 1)
        expect(reopened.history(store: :events).map(&:id)).to eq([appended.id])
        expect(reopened.history(store: :events).first.value).to eq(kind: :created)
        expect(reopened.history(store: :tasks, key: "t1").first.id).to eq(written.id)
        reopened.close
      end
    end

    it "continues the causation chain from replayed facts" do
      with_tmpdir do |dir|
        path = File.join(dir, "store.wal")
        opened = described_class.open(path)
        first = opened.write(store: :tasks, key: "t1", value: { v: 1 })
        opened.close

        reopened = described_class.open(path)
        expect(reopened.write(store: :tasks, key: "t1", value: { v: 2 }).causation).to eq(first.id)
        reopened.close
      end
    end

    it "closes a memory store without error" do
      expect { store.close }.not_to raise_error
    end
  end
end
