# frozen_string_literal: true

require_relative "segmented_spec_helper"

# SegmentedFileBackend#replay_into: how Igniter::Store.segmented loads the
# ledger. A native FactLog takes the decoded segments' records as they are
# (doc/performance.md "Segmented open"); whatever the route, the log holds
# the facts of #replay, in its order.
RSpec.describe "SegmentedFileBackend#replay_into" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  # What a decode keeps of a fact (compact segments give each fact a new id
  # at every decode, so ids are compared only where the segment stores them).
  def seen(facts, ids: false)
    facts.map do |f|
      row = [f.store, f.key, f.transaction_time, f.valid_time, f.value, f.value_hash, f.schema_version, f.causation]
      ids ? row << f.id : row
    end
  end

  def log_of(store)
    store.instance_variable_get(:@log)
  end

  def write_two_stores(codec)
    store = Igniter::Store.segmented(dir, codec: codec, time_bucket: :none)
    backend = store.instance_variable_get(:@backend)
    12.times do |i|
      store.write(store: i.even? ? :tasks : :notes, key: "k#{i % 3}",
                  value: { n: i, title: "t#{i}", tags: ["a", i.to_s], nested: { x: i * 0.5 } })
      backend.checkpoint! if i == 5 # more than one segment per store
    end
    store.close
  end

  %i[compact_delta_zlib json_crc32].each do |codec|
    it "opens a #{codec} ledger of two stores (out of time order across them) with the facts of #replay" do
      write_two_stores(codec)
      expected = replayed(dir)
      expect(expected.map(&:store).uniq.size).to eq(2)
      store = Igniter::Store.segmented(dir)
      facts = log_of(store).all_facts
      expect(seen(facts, ids: codec == :json_crc32)).to eq(seen(expected, ids: codec == :json_crc32))
      expect(facts.each_cons(2).all? { |a, b| a.transaction_time <= b.transaction_time }).to be(true)
      expect(store.read(store: :tasks, key: "k0")).to eq(n: 6, title: "t6", tags: %w[a 6], nested: { x: 3.0 })
      expect(store.fact_count).to eq(12)
      store.close
    end
  end

  it "gives a log that is not empty the facts of #replay through replay_from" do
    write_two_stores(:compact_delta_zlib)
    backend = open_backend(dir)
    log = Igniter::Store::FactLog.new
    log.append(reading("x", store: :other))
    backend.replay_into(log)
    expect(seen(log.all_facts.drop(1))).to eq(seen(backend.replay))
  end

  it "takes the live segments' buffered facts too" do
    backend = open_backend(dir, codec: :compact_delta_zlib, time_bucket: :none)
    written = Array.new(5) { |i| reading("k#{i}", value: { n: i }) }
    written.each { |f| backend.write_fact(f) }
    log = Igniter::Store::FactLog.new
    backend.replay_into(log)
    expect(log.all_facts).to eq(backend.replay)
    expect(log.all_facts.map(&:value)).to eq(written.map(&:value))
  end

  it "reads a segment only the Ruby decoder reads (a bin string) beside native ones" do
    write_two_stores(:compact_delta_zlib)
    mp = Igniter::Store::Codecs::MessagePack
    header = mp.pack("store" => "tasks", "fields" => %w[b n], "valid_time" => nil, "schema_version" => 1)
    batch = "\x82".b + mp.pack("km") + mp.pack("0" => "odd") + mp.pack("e") + "\x91\x93\x00".b +
            mp.pack(1_000) + "\x92\xC4\x02hi\x07".b
    body = [1].pack("N") + Zlib::Deflate.deflate(batch, Zlib::BEST_COMPRESSION)
    wire = Igniter::Store::WireProtocol
    File.binwrite(File.join(dir, "wal", "store=tasks", "date=flat", "segment-000009.wal"),
                  wire.encode_frame(header) + wire.encode_frame(body))
    expected = replayed(dir)
    store = Igniter::Store.segmented(dir)
    expect(seen(log_of(store).all_facts)).to eq(seen(expected))
    expect(store.read(store: :tasks, key: "odd")).to eq(b: "hi", n: 7)
    expect(store.fact_count).to eq(13)
    store.close
  end

  it "serves the 0.5.2 compact fixture as the codec decodes it" do
    FileUtils.cp_r(File.join(fixture_path("segmented_compact_delta_zlib"), "."), dir)
    expected = replayed(dir)
    store = Igniter::Store.segmented(dir)
    expect(seen(log_of(store).all_facts)).to eq(seen(expected))
    expect(expected.size).to eq(12)
    store.close
  end

  it "hands a native log the segments' records, which build the facts the codec's salvage builds" do
    skip "the native path's records" unless Igniter::Store::NATIVE
    write_two_stores(:compact_delta_zlib)
    path = Dir.glob(File.join(dir, "wal", "store=tasks", "*", "segment-*.wal")).min
    bytes = File.binread(path)
    records = Igniter::Store::Codecs.salvage(:compact_delta_zlib, bytes, records: true).facts
    facts = Igniter::Store::Codecs.salvage(:compact_delta_zlib, bytes).facts
    expect(records).to be_a(Igniter::Store::Codecs::NativeRecords)
    expect([records.size, records.in_time_order?]).to eq([facts.size, true])
    expect(seen(records.facts)).to eq(seen(facts))
    expect(seen(records.first(2).facts)).to eq(seen(facts.first(2)))
    log = Igniter::Store::FactLog.new
    expect(log.append_records(records)).to be(true)
    expect { log.append_records(records) }.to raise_error(RuntimeError, /handed to a FactLog already/)
    log.records_appended(true)
    expect(seen(log.all_facts)).to eq(seen(facts))
  end
end
