# frozen_string_literal: true

# doc/format.md "Symbol extension": a fact body that carries the `symbols`
# member (already not 0.5.2's key list) leaves out `causation`, `valid_time`,
# `producer` and `derivation` when they hold null; a body without Symbols keeps
# 0.5.2's eleven members byte for byte. Readers take an absent member as null,
# so full Symbol frames written before the rule still read unchanged.
module LedgerSpec
  module SymbolFrames
    # ASCII-only Ruby source (passed to `ruby -e`); evaluated here too.
    FACTS_SOURCE = <<~'RUBY'
      [
        # A Symbol, every optional member null: all four left out.
        { id: "00000000-0000-4000-8000-00000000000a", store: "tasks", key: "k0",
          value: { n: 0, title: "task 0", status: :open }, causation: nil,
          transaction_time: 1_796_000_000.25, valid_time: nil, schema_version: 1, producer: nil, derivation: nil },
        # Set members stay in their places; the null derivation is left out.
        { id: "00000000-0000-4000-8000-00000000000b", store: "tasks", key: "k0",
          value: { status: "done" }, causation: "00000000-0000-4000-8000-00000000000a",
          transaction_time: 1_796_000_001.5, valid_time: 1_795_999_999.5, schema_version: 2,
          producer: { system: :spec }, derivation: nil },
        # The null producer is left out, the derivation stays.
        { id: "00000000-0000-4000-8000-00000000000c", store: "tasks", key: "k1", value: :ready, causation: nil,
          transaction_time: 1_796_000_002.0, valid_time: nil, schema_version: 1, producer: nil,
          derivation: { name: :rollup } },
        # No Symbol: 0.5.2's eleven members, nulls written.
        { id: "00000000-0000-4000-8000-00000000000d", store: "tasks", key: "k2", value: { status: "open" },
          causation: nil, transaction_time: 1_796_000_003.0, valid_time: nil, schema_version: 1, producer: nil,
          derivation: nil }
      ]
    RUBY

    WRITER_SCRIPT = <<~RUBY
      require "igniter-ledger"
      facts = #{FACTS_SOURCE}.map do |h|
        value_hash = Igniter::Store::Fact.build(store: h[:store], key: h[:key], value: h[:value]).value_hash
        Igniter::Store::Fact.from_h(h.merge(value_hash: value_hash))
      end
      print Igniter::Store::NATIVE
      backend = Igniter::Store::FileBackend.new(ARGV.fetch(0))
      facts.each { |fact| backend.write_fact(fact) }
      backend.write_snapshot(facts)
      backend.close
    RUBY
  end
end

RSpec.describe "Symbol frames leave out their null optional members" do
  let(:facts) do
    eval(LedgerSpec::SymbolFrames::FACTS_SOURCE).map do |h| # rubocop:disable Security/Eval
      value_hash = Igniter::Store::Fact.build(store: h[:store], key: h[:key], value: h[:value]).value_hash
      Igniter::Store::Fact.from_h(h.merge(value_hash: value_hash))
    end
  end

  # The bodies doc/format.md prescribes, spelled out.
  let(:expected_bodies) do
    a, b, c, d = facts.map(&:value_hash)
    [
      %({"id":"00000000-0000-4000-8000-00000000000a","store":"tasks","key":"k0",) +
        %("value":{"n":0,"title":"task 0","status":"open"},"value_hash":"#{a}",) +
        %("transaction_time":1796000000.25,"schema_version":1,"symbols":[["value","status"]]}),
      %({"id":"00000000-0000-4000-8000-00000000000b","store":"tasks","key":"k0","value":{"status":"done"},) +
        %("value_hash":"#{b}","causation":"00000000-0000-4000-8000-00000000000a",) +
        %("transaction_time":1796000001.5,"valid_time":1795999999.5,"schema_version":2,) +
        %("producer":{"system":"spec"},"symbols":[["producer","system"]]}),
      %({"id":"00000000-0000-4000-8000-00000000000c","store":"tasks","key":"k1","value":"ready",) +
        %("value_hash":"#{c}","transaction_time":1796000002.0,"schema_version":1,) +
        %("derivation":{"name":"rollup"},"symbols":[["value"],["derivation","name"]]}),
      %({"id":"00000000-0000-4000-8000-00000000000d","store":"tasks","key":"k2","value":{"status":"open"},) +
        %("value_hash":"#{d}","causation":null,"transaction_time":1796000003.0,"valid_time":null,) +
        %("schema_version":1,"producer":null,"derivation":null})
    ]
  end

  let(:expected_wal) { expected_bodies.map { |body| raw_frame(body) }.join }

  # The snapshot: its header frame, then the same fact frames.
  def snapshot_fact_frames(path)
    frames = parse_frames("#{path}.snap")
    expect(JSON.parse(frames.first[:body])["type"]).to eq("snapshot_header")
    frames.drop(1).map { |f| raw_frame(f[:body]) }.join
  end

  def write_with(env, path)
    run_writer(LedgerSpec::SymbolFrames::WRITER_SCRIPT, env, path)
  end

  def expect_same_facts(got)
    expect(got.map(&:to_h)).to eq(facts.map(&:to_h))
    expect(got.map(&:value)).to eq([{ n: 0, title: "task 0", status: :open }, { status: "done" }, :ready,
                                    { status: "open" }])
    expect(got[1].producer).to eq(system: :spec)
    expect(got[2].derivation).to eq(name: :rollup)
  end

  it "writes the documented bytes in this process, WAL and snapshot alike" do
    with_tmpdir do |dir|
      path = File.join(dir, "here.wal")
      backend = Igniter::Store::FileBackend.new(path)
      facts.each { |fact| backend.write_fact(fact) }
      backend.write_snapshot(facts)
      backend.close

      expect(File.binread(path)).to eq(expected_wal)
      expect(snapshot_fact_frames(path)).to eq(expected_wal)
      expect(Igniter::Store::FileBackend.new(path, read_only: true).replay.map(&:to_h)).to eq(facts.map(&:to_h))
    end
  end

  it "writes the same bytes on the pure and the native path" do
    require_native_library!
    with_tmpdir do |dir|
      pure = File.join(dir, "pure.wal")
      native = File.join(dir, "native.wal")

      expect(write_with(LedgerSpec::PURE_ENV, pure)).to eq("false")
      expect(write_with(LedgerSpec::NATIVE_ENV, native)).to eq("true")
      expect(File.binread(pure)).to eq(expected_wal)
      expect(File.binread(native)).to eq(expected_wal)
      expect(snapshot_fact_frames(pure)).to eq(expected_wal)
      expect(snapshot_fact_frames(native)).to eq(expected_wal)
    end
  end

  it "reads a WAL and snapshot the pure path wrote, and one the native path wrote" do
    with_tmpdir do |dir|
      require_native_library!
      [LedgerSpec::PURE_ENV, LedgerSpec::NATIVE_ENV].each_with_index do |env, i|
        path = File.join(dir, "#{i}.wal")
        write_with(env, path)
        expect_same_facts(Igniter::Store::FileBackend.new(path, read_only: true).replay)
        # Only the snapshot: every fact comes from its frames.
        File.binwrite(path, "")
        expect_same_facts(Igniter::Store::FileBackend.new(path, read_only: true).replay)
      end
    end
  end

  it "still reads full Symbol frames, as written before the rule, to the same facts" do
    with_tmpdir do |dir|
      path = File.join(dir, "full.wal")
      full = facts.zip(expected_bodies).map do |fact, body|
        paths = JSON.parse(body)["symbols"]
        # 0.5.2's eleven members, nulls written, then `symbols` (464 B a fact in the bench).
        raw_frame(JSON.generate(paths ? fact.to_h.merge(symbols: paths) : fact.to_h))
      end.join
      # Left out: `,"causation":null` 17 B, `,"valid_time":null` 18, `,"producer":null` 16,
      # `,"derivation":null` 18 (all four of the first fact, one of the second, three of the third).
      expect(full.bytesize - expected_wal.bytesize).to eq(69 + 18 + 51)
      File.binwrite(path, full)

      store = Igniter::Store.open(path, read_only: true)
      expect_same_facts(store.fact_log_all)
      expect(store.read(store: :tasks, key: "k0")).to eq(status: "done")
      store.close
    end
  end

  it "keeps 0.5.2's bytes for a Symbol-free frame: the 0.5.2 fixture WAL is rewritten byte for byte" do
    with_tmpdir do |dir|
      original = File.binread(fixture_path("file_backend", "ledger.wal"))
      copy = File.join(dir, "old.wal")
      File.binwrite(copy, original)
      by_id = Igniter::Store::FileBackend.new(copy, read_only: true).replay.to_h { |f| [f.id, f] }
      wal_facts = parse_frame_bytes(original).map { |frame| by_id.fetch(JSON.parse(frame[:body])["id"]) }
      expect(wal_facts).not_to be_empty

      path = File.join(dir, "new.wal")
      backend = Igniter::Store::FileBackend.new(path)
      wal_facts.each { |fact| backend.write_fact(fact) }
      backend.close
      expect(File.binread(path)).to eq(original)
    end
  end

  it "encodes the same body through every writer of a fact body" do
    segment = Igniter::Store::Codecs::JsonCrc32.new
    facts.zip(expected_bodies).each do |fact, body|
      expect(fact._dump(0)).to eq(body)
      expect(Marshal.load(Marshal.dump(fact)).to_h).to eq(fact.to_h)
      expect(segment.frame(fact)).to eq(raw_frame(body))
      expect(Igniter::Store::JsonCanon.fact_body(fact)).to eq(body)
    end
    decoded = Igniter::Store::Codecs::JsonCrc32.salvage(expected_wal).facts
    expect(decoded.map(&:to_h)).to eq(facts.map(&:to_h))
  end

  it "keeps 0.5.2's eleven members in a fact document, nulls included" do
    doc = Igniter::Store::Protocol::FactDocument.from(facts.first)
    expect(doc.keys).to eq(%w[id store key value value_hash causation transaction_time valid_time schema_version
                              producer derivation symbols transaction_time_iso valid_time_iso])
    expect(doc.values_at("causation", "valid_time", "producer", "derivation")).to eq([nil, nil, nil, nil])
  end
end
