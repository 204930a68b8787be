# frozen_string_literal: true

# spec/fixtures/igniter-ledger-0.5.2/file_backend: a WAL plus snapshot written by
# igniter-ledger 0.5.2 (pure mode); expected.json is what 0.5.2 read back.
RSpec.describe "Opening a WAL written by igniter-ledger 0.5.2" do
  let(:expected) { JSON.parse(File.read(fixture_path("file_backend", "expected.json"))) }

  def with_fixture_store
    with_tmpdir do |dir|
      copy = copy_fixture("file_backend", dir)
      store = Igniter::Store.open(File.join(copy, "ledger.wal"))
      yield store, File.join(copy, "ledger.wal")
    ensure
      store&.close
    end
  end

  def symbolize(obj)
    case obj
    when Hash then obj.to_h { |k, v| [k.to_sym, symbolize(v)] }
    when Array then obj.map { |v| symbolize(v) }
    else obj
    end
  end

  def expect_matches_expected(facts)
    expect(facts.size).to eq(expected.size)
    facts.zip(expected).each do |fact, want|
      expect(fact.id).to eq(want["id"])
      expect(fact.store).to eq(want["store"].to_sym)
      expect(fact.key).to eq(want["key"])
      expect(fact.value).to eq(symbolize(want["value"]))
      expect(fact.value_hash).to eq(want["value_hash"])
      expect(fact.causation).to eq(want["causation"])
      expect(fact.transaction_time).to eql(want["transaction_time"])
      expect(fact.valid_time).to eq(want["valid_time"])
      expect(fact.schema_version).to eq(want["schema_version"])
      expect(fact.producer).to eq(symbolize(want["producer"]))
      expect(fact.derivation).to eq(symbolize(want["derivation"]))
    end
  end

  it "opens the fixture through Igniter::Store.open" do
    with_fixture_store do |store|
      expect(store).to be_a(Igniter::Store::IgniterStore)
      expect(store.fact_count).to eq(expected.size)
    end
  end

  it "restores every fact exactly as 0.5.2 did, through @log.all_facts" do
    with_fixture_store do |store|
      expect_matches_expected(store.instance_variable_get(:@log).all_facts)
    end
  end

  it "restores every fact exactly as 0.5.2 did, through fact_log_all" do
    with_fixture_store do |store|
      expect_matches_expected(store.fact_log_all)
    end
  end

  it "keeps exotic numbers exact: big Integers, exponent Floats and negative zero" do
    with_fixture_store do |store|
      first_k1 = store.history(store: :items, key: "k1").first.value

      expect(first_k1[:big]).to eql(100_000_000_000_000_000_000)
      expect(first_k1[:f]).to eql(1.0e20)
      expect(first_k1[:small]).to eql(1.0e-05)
      expect(first_k1[:neg].to_s).to eq("-0.0")
      expect(first_k1[:list]).to eq([1, "two", { k: nil }])
    end
  end

  it "serves reads, history and causation from the restored facts" do
    with_fixture_store do |store|
      expect(store.read(store: :items, key: "k0")).to eq(status: "closed")
      expect(store.read(store: :items, key: "k1")).to eq(after_snapshot: true)
      expect(store.history(store: :items, key: "k0").map(&:id)).to eq(
        expected.select { |f| f["key"] == "k0" }.map { |f| f["id"] }
      )
      expect(store.history(store: :items, key: "k0").last.causation).to eq("eae1bf7a-687a-4876-9fd7-7f35a53d58ed")
    end
  end

  it "does not modify the fixture WAL on open, and finds nothing to quarantine" do
    with_fixture_store do |store, wal|
      expect(File.binread(wal)).to eq(File.binread(fixture_path("file_backend", "ledger.wal")))
      expect(store.instance_variable_get(:@backend).recovery).to include(tail: :clean, damaged_spans: 0, quarantined: [])
      expect(Dir.children(File.dirname(wal)).grep(/quarantine/)).to be_empty
    end
  end

  it "re-encodes every 0.5.2 frame byte for byte" do
    with_tmpdir do |dir|
      facts = Igniter::Store::FileBackend.new(File.join(copy_fixture("file_backend", dir), "ledger.wal")).replay
      out = File.join(dir, "rewritten.wal")
      backend = Igniter::Store::FileBackend.new(out)
      facts.each { |f| backend.write_fact(f) }
      backend.close

      expect(File.binread(out)).to eq(File.binread(fixture_path("file_backend", "ledger.wal")))
    end
  end

  it "appends new facts after the 0.5.2 frames and keeps them across a reopen" do
    with_tmpdir do |dir|
      wal = File.join(copy_fixture("file_backend", dir), "ledger.wal")
      store = Igniter::Store.open(wal)
      added = store.write(store: :items, key: "k2", value: { added: :now })
      store.close

      reopened = Igniter::Store.open(wal)
      expect(reopened.fact_count).to eq(expected.size + 1)
      expect(reopened.read(store: :items, key: "k2")).to eq(added: :now)
      expect(reopened.history(store: :items, key: "k2").last.causation).to eq("e00ac80b-bfd0-4270-b0e5-853f98efd605")
      expect(reopened.history(store: :items, key: "k2").last.id).to eq(added.id)
      reopened.close
    end
  end
end
