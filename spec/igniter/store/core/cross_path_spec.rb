# frozen_string_literal: true

# A WAL written by the pure path and one written by the native path must be
# byte-identical for the same facts, and each must replay on the other path
# with identity, times, causation, store and key unchanged. The writers run in
# subprocesses pinned to one path each; replay runs in this process (which is
# the native path in the REQUIRE_NATIVE run and the pure path in the PURE run).
module LedgerSpec
  module CrossPath
    # ASCII-only Ruby source (it is passed to `ruby -e`); evaluated here too.
    FACTS_SOURCE = <<~'RUBY'
      [
        { id: "00000000-0000-4000-8000-000000000001", store: "orders", key: "o-1",
          value: { "status" => "open", "total" => 12.5, "big" => 2**70, "neg_big" => -(2**64), "f" => 1.0e20,
                   "small" => 1.0e-05, "neg_zero" => -0.0, "third" => 1.0 / 3, "whole" => 100.0, "int" => 7,
                   "nested" => { "items" => [{ "sku" => "a", "qty" => 1 }, { "sku" => "b", "qty" => 2, "tags" => [] }],
                                 "empty" => {} },
                   "unicode" => "\u65e5\u672c\u8a9e \u2713 caf\u00e9 \u2028 / \u007f",
                   "ctrl" => "\u0001\u001f\t\n\b\f\r\"\\",
                   "cl\u00e9" => nil, "flag" => true },
          causation: nil, transaction_time: 1_700_000_000.123456, valid_time: 1_699_999_999.5, schema_version: 1,
          producer: { "system" => "checkout", "name" => "OrderWriter" }, derivation: nil },
        { id: "00000000-0000-4000-8000-000000000002", store: "orders", key: "o-1",
          value: { status: :closed, tags: [:a, "b", { deep: :c }], tiny: 1.0e-7, s: ":colon" },
          causation: "00000000-0000-4000-8000-000000000001", transaction_time: 1_700_000_001.5, valid_time: nil,
          schema_version: 2, producer: { system: :spec, name: "cross-path" },
          derivation: { name: :rollup, version: 1, source_fact_ids: ["00000000-0000-4000-8000-000000000001"] } },
        { id: "00000000-0000-4000-8000-000000000003", store: "events", key: "e-1",
          value: [1, "two", nil, true, 3.0, [[[]]], { "k" => [{ "x" => -1.5e-300 }] }],
          causation: nil, transaction_time: 1_700_000_002.25, valid_time: 0.0, schema_version: 1,
          producer: nil, derivation: nil },
        { id: "00000000-0000-4000-8000-000000000004", store: "events", key: "e-2", value: :bare_symbol,
          causation: "00000000-0000-4000-8000-000000000003", transaction_time: 1_700_000_002.25, valid_time: 5.0,
          schema_version: 1, producer: { "system" => "x", "tags" => [:t1] }, derivation: nil }
      ]
    RUBY

    SYMBOL_PATHS = {
      "00000000-0000-4000-8000-000000000002" => [
        ["value", "status"], ["value", "tags", 0], ["value", "tags", 2, "deep"],
        ["producer", "system"], ["derivation", "name"]
      ],
      "00000000-0000-4000-8000-000000000004" => [["value"], ["producer", "tags", 0]]
    }.freeze

    WRITER_SCRIPT = <<~RUBY
      require "igniter-ledger"
      facts = #{FACTS_SOURCE}
      print Igniter::Store::NATIVE
      backend = Igniter::Store::FileBackend.new(ARGV.fetch(0))
      facts.each do |h|
        value_hash = Igniter::Store::Fact.build(store: h[:store], key: h[:key], value: h[:value]).value_hash
        backend.write_fact(Igniter::Store::Fact.from_h(h.merge(value_hash: value_hash)))
      end
      backend.close
    RUBY
  end
end

RSpec.describe "Cross-path WAL compatibility" do
  let(:fact_hashes) { eval(LedgerSpec::CrossPath::FACTS_SOURCE) } # rubocop:disable Security/Eval
  let(:expected_facts) do
    fact_hashes.map do |h|
      value_hash = Igniter::Store::Fact.build(store: h[:store], key: h[:key], value: h[:value]).value_hash
      Igniter::Store::Fact.from_h(h.merge(value_hash: value_hash))
    end
  end

  # The bytes doc/format.md prescribes, computed without the library's writer.
  let(:expected_bytes) do
    expected_facts.map do |fact|
      members = fact.to_h
      paths = LedgerSpec::CrossPath::SYMBOL_PATHS[fact.id]
      # With `symbols`, the null optional members are left out (doc/format.md "Symbol extension").
      if paths
        members = members.reject { |k, v| v.nil? && %i[causation valid_time producer derivation].include?(k) }
                         .merge(symbols: paths)
      end
      raw_frame(JSON.generate(members))
    end.join
  end

  def write_with(env, path)
    run_writer(LedgerSpec::CrossPath::WRITER_SCRIPT, env, path)
  end

  def expect_replayed_unchanged(path)
    replayed = Igniter::Store::FileBackend.new(path).replay

    expect(replayed.map(&:id)).to eq(expected_facts.map(&:id))
    replayed.zip(expected_facts).each do |got, want|
      expect(got.store).to eq(want.store)
      expect(got.store).to be_a(Symbol)
      expect(got.key).to eq(want.key)
      expect(got.transaction_time).to eql(want.transaction_time)
      expect(got.valid_time).to eq(want.valid_time)
      expect(got.causation).to eq(want.causation)
      expect(got.schema_version).to eq(want.schema_version)
      expect(got.value_hash).to eq(want.value_hash)
      expect(got.value).to eq(want.value)
      expect(got.producer).to eq(want.producer)
      expect(got.derivation).to eq(want.derivation)
      expect(deeply_frozen?(got.value)).to be(true)
    end
    expect(replayed[0].value[:neg_zero].to_s).to eq("-0.0")
    expect(replayed[0].value[:big]).to eql(2**70)
    expect(replayed[1].value[:s]).to be_a(String)
    expect(replayed[3].value).to eq(:bare_symbol)
  end

  it "pins the expected frames to JSON.generate(fact.to_h) plus the symbols member" do
    frames = parse_frame_bytes(expected_bytes)

    expect(frames.size).to eq(4)
    expect(JSON.parse(frames[0][:body]).key?("symbols")).to be(false)
    expect(JSON.parse(frames[1][:body])["symbols"]).to eq(LedgerSpec::CrossPath::SYMBOL_PATHS.values.first)
  end

  it "writes the documented bytes on the pure path" do
    with_tmpdir do |dir|
      path = File.join(dir, "pure.wal")

      expect(write_with(LedgerSpec::PURE_ENV, path)).to eq("false")
      expect(File.binread(path)).to eq(expected_bytes)
    end
  end

  it "writes byte-identical frames on the native path" do
    require_native_library!
    with_tmpdir do |dir|
      pure_path = File.join(dir, "pure.wal")
      native_path = File.join(dir, "native.wal")

      expect(write_with(LedgerSpec::PURE_ENV, pure_path)).to eq("false")
      expect(write_with(LedgerSpec::NATIVE_ENV, native_path)).to eq("true")
      expect(File.binread(native_path)).to eq(File.binread(pure_path))
      expect(File.binread(native_path)).to eq(expected_bytes)
    end
  end

  it "writes the documented bytes in this process" do
    with_tmpdir do |dir|
      path = File.join(dir, "here.wal")
      backend = Igniter::Store::FileBackend.new(path)
      expected_facts.each { |f| backend.write_fact(f) }
      backend.close

      expect(File.binread(path)).to eq(expected_bytes)
    end
  end

  it "replays a pure-written WAL in this process with every field unchanged" do
    with_tmpdir do |dir|
      path = File.join(dir, "pure.wal")
      write_with(LedgerSpec::PURE_ENV, path)

      expect_replayed_unchanged(path)
    end
  end

  it "replays a native-written WAL in this process with every field unchanged" do
    require_native_library!
    with_tmpdir do |dir|
      path = File.join(dir, "native.wal")
      write_with(LedgerSpec::NATIVE_ENV, path)

      expect_replayed_unchanged(path)
    end
  end

  it "computes the same value_hash on both paths" do
    require_native_library!
    script = <<~RUBY
      require "igniter-ledger"
      facts = #{LedgerSpec::CrossPath::FACTS_SOURCE}
      print facts.map { |h| Igniter::Store::Fact.build(store: h[:store], key: h[:key], value: h[:value]).value_hash }.join(",")
    RUBY
    pure_out, pure_err, = run_ruby(script, env: LedgerSpec::PURE_ENV)
    native_out, native_err, = run_ruby(script, env: LedgerSpec::NATIVE_ENV)

    expect([pure_err, native_err]).to eq(["", ""])
    expect(pure_out.split(",").size).to eq(4)
    expect(native_out).to eq(pure_out)
    expect(pure_out).to eq(expected_facts.map(&:value_hash).join(","))
  end
end
