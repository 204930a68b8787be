# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "durability of compaction and checkpoints" do
  def wal(dir) = File.join(dir, "ledger.wal")

  def with_store(dir)
    store = described_class.open(wal(dir))
    yield store
  ensure
    store&.close
  end

  it "makes an ephemeral compaction durable on a FileBackend: dropped facts stay gone after reopen" do
    with_tmpdir do |dir|
      report = nil
      with_store(dir) do |s|
        s.set_retention(:things, strategy: :ephemeral)
        3.times { |i| s.write(store: :things, key: "a", value: { v: i }) }
        report = s.compact.first
        s.write(store: :things, key: "b", value: { v: :after })
      end
      expect(report[:durable]).to be(true)
      with_store(dir) do |s|
        expect(s.history(store: :things, key: "a").map(&:value)).to eq([{ v: 2 }])
        expect(s.read(store: :things, key: "b")).to eq(v: :after)
        expect(s.fact_count).to eq(3)
      end
    end
  end

  it "keeps the receipt across reopen and still finds it by store name" do
    with_tmpdir do |dir|
      with_store(dir) do |s|
        s.set_retention(:things, strategy: :ephemeral)
        2.times { s.write(store: :things, key: "a", value: {}) }
        s.compact
      end
      with_store(dir) do |s|
        receipts = s.compaction_receipts(store: :things)
        expect(receipts.size).to eq(1)
        expect(receipts.first.value[:compacted_store].to_sym).to eq(:things)
        expect(s.compaction_activity(store: :things).size).to eq(1)
      end
    end
  end

  it "documents the gap: rebuild_log! plus a plain snapshot lets dropped facts resurrect on reopen" do
    with_tmpdir do |dir|
      with_store(dir) do |s|
        s.write(store: :items, key: "keep", value: {})
        s.write(store: :items, key: "drop", value: {})
        log = s.instance_variable_get(:@log)
        s.send(:rebuild_log!, log.all_facts.reject { |f| f.store == :items && f.key == "drop" })
        s.instance_variable_get(:@backend).write_snapshot(s.instance_variable_get(:@log).all_facts)
        expect(s.read(store: :items, key: "drop")).to be_nil
      end
      with_store(dir) { |s| expect(s.read(store: :items, key: "drop")).to eq({}) }
    end
  end

  it "reports durable false in memory and for a backend with only write_snapshot" do
    mem = described_class.new
    mem.set_retention(:t, strategy: :ephemeral)
    2.times { mem.write(store: :t, key: "a", value: {}) }
    expect(mem.compact.first[:durable]).to be(false)

    snaps = []
    backend = Class.new do
      define_method(:capabilities) { Igniter::Store::Capabilities.declare(:snapshots) }
      define_method(:write_fact) { |_f| nil }
      define_method(:write_snapshot) { |facts| snaps << facts.size }
    end.new
    s = described_class.new(backend: backend)
    s.set_retention(:t, strategy: :ephemeral)
    2.times { s.write(store: :t, key: "a", value: {}) }
    expect(s.compact.first[:durable]).to be(false)
    expect(snaps).to eq([2])
  end

  describe "#checkpoint" do
    it "writes a snapshot of the live log and returns self" do
      with_tmpdir do |dir|
        with_store(dir) do |s|
          s.write(store: :a, key: "1", value: { v: 1 })
          expect(s.checkpoint).to be(s)
        end
        expect(File.size?("#{wal(dir)}.snap")).to be_truthy
        with_store(dir) { |s| expect([s.read(store: :a, key: "1"), s.fact_count]).to eq([{ v: 1 }, 1]) }
      end
    end

    it "is a no-op without a backend or without write_snapshot" do
      expect(described_class.new.checkpoint).to be_a(described_class)
      backend = Class.new { include Igniter::Store::Backend; def write_fact(_f) = nil }.new # rubocop:disable Style/Semicolon
      expect { described_class.new(backend: backend).checkpoint }.not_to raise_error
    end
  end

  describe ".open" do
    it "replays the WAL in order, keeping ids, causation and the latest value" do
      with_tmpdir do |dir|
        ids = nil
        with_store(dir) do |s|
          ids = 3.times.map { |i| s.write(store: :t, key: "k", value: { v: i }).id }
        end
        with_store(dir) do |s|
          chain = s.causation_chain(store: :t, key: "k")
          expect(chain.map { |e| e[:id] }).to eq(ids)
          expect(chain.map { |e| e[:causation] }).to eq([nil, ids[0], ids[1]])
          expect(s.read(store: :t, key: "k")).to eq(v: 2)
        end
      end
    end

    it "passes lru_cap through" do
      with_tmpdir do |dir|
        s = described_class.open(wal(dir), lru_cap: 2)
        s.write(store: :t, key: "a", value: {})
        3.times { |i| s.read(store: :t, key: "a", as_of: realtime + 10 + i) }
        expect(s.instance_variable_get(:@cache).lru_size).to eq(2)
        s.close
      end
    end
  end
end
