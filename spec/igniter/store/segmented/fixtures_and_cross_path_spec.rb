# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::SegmentedFileBackend, "0.5.2 directories and cross-path files" do
  include LedgerSpec::Segmented
  include LedgerSpec::Reliability

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  def without_id(hashes)
    hashes.map { |h| h.transform_keys(&:to_s).reject { |k, _| k == "id" } }
  end

  %w[json_crc32 compact_delta_zlib].each do |codec|
    it "replays the 0.5.2 segmented_#{codec} directory as 0.5.2 did" do
      root = copy_fixture("segmented_#{codec}", dir)
      expected = JSON.parse(File.read(fixture_path("segmented_#{codec}.expected.json")))
      b = open_backend(root)
      facts = b.replay(store: :gps)
      got = facts.map { |f| JSON.parse(JSON.generate(f.to_h)) }
      expect(without_id(got).sort_by(&:to_s)).to eq(without_id(expected).sort_by(&:to_s))
      expect(got.map { |h| h["id"] }).to eq(expected.map { |h| h["id"] }) if codec == "json_crc32"
      expect(b.storage_stats["stores"]["gps"]).to include("sealed_count" => 1, "fact_count" => 12, "codecs" => [codec])
      expect(b.quarantine_receipts).to eq([])
    end
  end

  it "salvages a damaged 0.5.2 compact directory as far as its format allows" do
    root = copy_fixture("segmented_compact_delta_zlib", dir)
    path = segment_files(root).first
    header, batch = parse_frames(path)
    pristine = File.binread(path)
    # Garbage between the header and the batch: the batch names key 0, so it
    # is the segment's first and its times are known; nothing is lost.
    File.binwrite(path, pristine.byteslice(0, batch[:offset]) + "\x00\x01\x02".b + pristine.byteslice(batch[:offset]..))
    with_backend(root) do |b|
      expect(b.replay(store: :gps).size).to eq(12)
      expect(b.recovery[:quarantined].map { |s| s.values_at(:offset, :length, :reason) })
        .to eq([[batch[:offset], 3, :garbage]])
    end
    # A damaged header: 0.5.2's batches do not repeat it, so their facts
    # cannot be built; every byte stays in the file and in quarantine.
    File.binwrite(path, flip_bit(pristine, header[:offset] + 9, 2))
    with_backend(root) do |b|
      expect(b.replay(store: :gps)).to eq([])
      spans = b.recovery[:quarantined]
      expect(spans.map { |s| s[:reason] }).to eq(%i[bad_crc undecodable])
      expect(spans.sum { |s| s[:length] }).to eq(pristine.bytesize)
    end
  end

  it "keeps appending to a 0.5.2 directory with the next segment number" do
    root = copy_fixture("segmented_json_crc32", dir)
    b = open_backend(root, time_bucket: :none)
    b.write_fact(reading("new", store: :gps, value: { lat: 1.0 }))
    b.close
    expect(open_backend(root).replay(store: :gps).size).to eq(13)
  end

  # The writer runs in a subprocess pinned to one path; both must produce the
  # same bytes, and this process (the other path in one of the two suite runs)
  # must replay them.
  let(:writer) do
    <<~'RUBY'
      require "igniter-ledger"
      root = ARGV.fetch(0)
      b = Igniter::Store::SegmentedFileBackend.new(root, time_bucket: :none,
            codec: { "gps" => :compact_delta, "log" => :json_crc32 })
      10.times do |i|
        %w[gps log].each do |store|
          b.write_fact(Igniter::Store::Fact.from_h(
            id: "00000000-0000-4000-8000-#{format("%012d", i)}", store: store, key: "k#{i % 3}",
            value: { lat: 33.9 + i / 1000.0, on: i.even?, tag: :t, n: nil }, value_hash: "0" * 64, causation: nil,
            transaction_time: 1_700_000_000.125 + i, valid_time: nil, schema_version: 1, producer: nil, derivation: nil))
        end
      end
      b.close
    RUBY
  end

  it "writes identical segment bytes on the pure and native paths and reads them on either" do
    require_native_library!
    roots = { pure: File.join(dir, "pure"), native: File.join(dir, "native") }
    roots.each do |path, root|
      _out, err, status = run_ruby(writer, env: path == :pure ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV, args: [root])
      expect(status).to be_success, err
    end
    files = roots.transform_values { |root| segment_files(root).map { |p| p.delete_prefix(root) } }
    expect(files[:pure]).to eq(files[:native])
    files[:pure].each do |rel|
      expect(File.binread(roots[:native] + rel)).to eq(File.binread(roots[:pure] + rel))
    end
    replays = roots.transform_values { |root| open_backend(root).replay }
    expect(replays[:pure].size).to eq(20)
    expect(without_id(replays[:pure].map(&:to_h))).to eq(without_id(replays[:native].map(&:to_h)))
    log = replays[:pure].select { |f| f.store == :log }
    expect(log.map(&:id)).to eq(10.times.map { |i| "00000000-0000-4000-8000-#{format("%012d", i)}" })
    expect(log.first.value).to eq(lat: 33.9, on: true, tag: :t, n: nil)
    expect(replays[:pure].find { |f| f.store == :gps }.value).to eq(lat: 33.9, n: nil, on: true, tag: "t")
  end

  it "recovers a directory crashed on the other path" do
    require_native_library!
    crasher = <<~'RUBY'
      require "igniter-ledger"
      b = Igniter::Store::SegmentedFileBackend.new(ARGV.fetch(0), codec: :compact_delta)
      70.times { |i| b.write_fact(Igniter::Store::Fact.build(store: :readings, key: "k#{i}", value: { x: i })) }
      b.instance_variable_get(:@segments)["readings"][:file].close
      exit!(0)
    RUBY
    %i[pure native].each do |path|
      root = File.join(dir, path.to_s)
      _out, err, status = run_ruby(crasher, env: path == :pure ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV, args: [root])
      expect(status).to be_success, err
      expect(open_backend(root).replay.map(&:key)).to eq(64.times.map { |i| "k#{i}" })
    end
  end
end
