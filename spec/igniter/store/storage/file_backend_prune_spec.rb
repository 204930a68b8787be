# frozen_string_literal: true

RSpec.describe "FileBackend snapshots as a pruning barrier" do
  let(:igniter_store) { Igniter::Store::IgniterStore }

  def wal(dir)
    File.join(dir, "ledger.wal")
  end

  def log_of(store)
    store.instance_variable_get(:@log)
  end

  def backend_of(store)
    store.instance_variable_get(:@backend)
  end

  def without_drop(store)
    log_of(store).all_facts.reject { |f| f.store == :items && f.key == "drop" }
  end

  def seeded_store(dir)
    store = igniter_store.open(wal(dir))
    store.write(store: :items, key: "keep", value: { v: 1 })
    store.write(store: :items, key: "drop", value: { v: 2 })
    store
  end

  it "resurrects a fact dropped only from a later write_snapshot, because the WAL still holds it" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      store.checkpoint
      store.send(:rebuild_log!, without_drop(store))
      expect(store.history(store: :items, key: "drop")).to be_empty

      backend_of(store).write_snapshot(log_of(store).all_facts)
      backend_of(store).close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.history(store: :items, key: "drop")).not_to be_empty
      expect(reopened.history(store: :items, key: "keep")).not_to be_empty
    end
  end

  it "removes a fact for good with replace_with_snapshot!" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      backend_of(store).replace_with_snapshot!(without_drop(store))
      expect(File.size(wal(dir))).to eq(0)
      store.close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.history(store: :items, key: "drop")).to be_empty
      expect(reopened.read(store: :items, key: "keep")).to eq(v: 1)
    end
  end

  it "keeps writes made through the same backend after replace_with_snapshot!" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      surviving = without_drop(store)
      store.send(:rebuild_log!, surviving)
      backend_of(store).replace_with_snapshot!(surviving)
      store.write(store: :items, key: "after", value: { v: 3 })
      store.close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.read(store: :items, key: "after")).to eq(v: 3)
      expect(reopened.read(store: :items, key: "keep")).to eq(v: 1)
      expect(reopened.history(store: :items, key: "drop")).to be_empty
      expect(reopened.fact_count).to eq(2)
    end
  end

  it "survives two replace_with_snapshot! calls in a row" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      surviving = without_drop(store)
      expect do
        backend_of(store).replace_with_snapshot!(surviving)
        backend_of(store).replace_with_snapshot!(surviving)
      end.not_to raise_error
      store.close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.read(store: :items, key: "keep")).to eq(v: 1)
      expect(reopened.history(store: :items, key: "drop")).to be_empty
    end
  end

  it "makes a pruned fact unreachable by id immediately" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      id = store.history(store: :items, key: "drop").last.id
      expect(store.fact_by_id(id)).not_to be_nil

      store.prune_fact_ids(fact_ids: [id], reason: :test_prune)

      expect(store.fact_by_id(id)).to be_nil
      expect(store.history(store: :items, key: "drop")).to be_empty
      store.close
    end
  end

  it "keeps a pruned fact gone after the backend is closed and the WAL reopened" do
    with_tmpdir do |dir|
      store = seeded_store(dir)
      id = store.history(store: :items, key: "drop").last.id
      store.prune_fact_ids(fact_ids: [id], reason: :test_prune)
      backend_of(store).close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.fact_by_id(id)).to be_nil
      expect(reopened.history(store: :items, key: "drop")).to be_empty
      expect(reopened.read(store: :items, key: "keep")).to eq(v: 1)
    end
  end

  it "keeps stores that were only replayed when pruning after a reopen" do
    with_tmpdir do |dir|
      first = igniter_store.open(wal(dir))
      first.write(store: :a_only_replayed, key: "x", value: { v: 1 })
      first.close

      second = igniter_store.open(wal(dir))
      victim = second.write(store: :b, key: "y", value: { v: 2 })
      second.prune_fact_ids(fact_ids: [victim.id], reason: :test_prune)
      second.close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.read(store: :a_only_replayed, key: "x")).to eq(v: 1)
      expect(reopened.read(store: :b, key: "y")).to be_nil
    end
  end
end
