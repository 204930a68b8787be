# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "#write_batch" do
  subject(:store) { ledger_store }

  it "writes and appends the entries in order, chaining causation through the batch" do
    before = store.write(store: :s, key: "k", value: 0)
    facts = store.write_batch([{ store: :s, key: "k", value: 1 }, { "store" => "s", "key" => "k", "value" => 2 },
                               { history: :events, event: { kind: :e } }])
    expect(facts.map(&:value)).to eq([1, 2, { kind: :e }])
    expect(facts.map(&:causation)).to eq([before.id, facts[0].id, nil])
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([0, 1, 2])
    expect(store.history(store: :events).map(&:id)).to eq([facts[2].id])
  end

  it "runs derivations after each written fact, not after appended ones" do
    store.register_derivation(source_store: :s, target_store: :totals, target_key: "sum",
                              rule: ->(facts) { { sum: facts.sum { |f| f.value[:n] } } })
    store.register_derivation(source_store: :events, target_store: :totals, target_key: "events",
                              rule: ->(facts) { { count: facts.size } })
    store.write_batch([{ store: :s, key: "a", value: { n: 1 } }, { store: :s, key: "b", value: { n: 2 } },
                       { history: :events, event: { n: 100 } }])
    expect(store.read(store: :totals, key: "sum")).to eq(sum: 3)
    expect(store.history(store: :totals, key: "sum").size).to eq(2)
    expect(store.read(store: :totals, key: "events")).to be_nil
  end

  it "returns [] for an empty batch and refuses an entry that is neither a write nor an append" do
    expect(store.write_batch([])).to eq([])
    expect { store.write_batch([{ value: 1 }]) }.to raise_error(ArgumentError, /batch entry needs store/)
    expect(store.fact_count).to eq(0)
  end

  it "raises for an entry that cannot be built before writing any entry of the batch" do
    store.write(store: :s, key: "k", value: 0)
    expect do
      store.write_batch([{ store: :s, key: "k", value: 1 }, { store: :s, key: nil, value: 2 }])
    end.to raise_error(ArgumentError, /key is required/)
    expect(store.history(store: :s, key: "k").map(&:value)).to eq([0])
  end

  context "on a file ledger" do
    let(:dir) { Dir.mktmpdir("igniter-ledger-write-batch") }
    let(:path) { File.join(dir, "ledger.wal") }
    let(:file) { Igniter::Store::FileBackend.new(path, durability: :fsync) }
    let(:on_file) { described_class.new(backend: file) }

    after do
      on_file.close
      FileUtils.rm_rf(dir)
    end

    it "writes the whole batch with one fdatasync under :fsync, and a reopen replays it in order" do
      on_file.write(store: :s, key: "k", value: -1)
      before = file.sync_stats[:count]
      entries = Array.new(50) { |i| i.even? ? { store: :s, key: "k", value: i } : { history: :events, event: { i: i } } }
      facts = on_file.write_batch(entries)
      expect(file.sync_stats[:count] - before).to eq(1)
      on_file.close
      again = Igniter::Store::FileBackend.new(path)
      expect(again.replay.map(&:id)[1..]).to eq(facts.map(&:id))
      again.close
      chain = facts.select { |f| f.store == :s }
      expect(chain.each_cons(2).all? { |a, b| b.causation == a.id }).to be(true)
    end

    it "leaves the file and memory as they were when an entry cannot be built" do
      on_file.write(store: :s, key: "k", value: 0)
      size = File.size(path)
      expect { on_file.write_batch([{ store: :s, key: "k", value: 1 }, { store: nil, key: "k", value: 2 }]) }
        .to raise_error(ArgumentError, /store is required/)
      expect(File.size(path)).to eq(size)
      expect(on_file.history(store: :s, key: "k").size).to eq(1)
    end
  end
end
