# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::SegmentedFileBackend, "quarantine" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  def sealed_with(count, **opts)
    b = open_backend(dir, **opts)
    write_n(b, count)
    b.close
    segment_files(dir, "readings").first
  end

  it "quarantines a garbage-overwritten sealed segment without raising" do
    path = sealed_with(2)
    File.binwrite(path, "CORRUPT GARBAGE" * 10)
    b = open_backend(dir)
    expect(b.replay).to eq([])
    receipts = b.quarantine_receipts(store: :readings)
    expect(receipts.size).to eq(1)
    expect(receipts.first).to include("segment_path" => path, "store" => "readings", "codec" => "json_crc32",
                                      "sealed" => true, "error_class" => "RuntimeError",
                                      "error_message" => "segment not empty but decoded 0 facts")
    expect(receipts.first["quarantined_at"]).to be_a(Float)
    expect(File.exist?(path + described_class::QUARANTINE_SUFFIX)).to be(true)
    expect(File.exist?(path)).to be(true)
    b.replay
    b.close
    expect(b.quarantine_receipts(store: :readings).size).to eq(1)
    expect(open_backend(dir).storage_stats["stores"]["readings"]["quarantine_receipt_count"]).to eq(1)
  end

  it "serves the facts on both sides of a bad CRC mid-segment and says so in the receipt" do
    path = sealed_with(3)
    frames = parse_frames(path)
    bytes = File.binread(path)
    crc_at = frames[1][:offset] + frames[1][:size] - 1
    bytes.setbyte(crc_at, bytes.getbyte(crc_at) ^ 0xFF)
    File.binwrite(path, bytes)
    b = open_backend(dir)
    expect(b.replay.map(&:key)).to eq(%w[k0 k2])
    receipt = b.quarantine_receipts.first
    expect(receipt).to include("error_class" => "Igniter::Store::SegmentedFileBackend::CorruptSegmentError",
                               "fact_count" => 3, "segment_path" => path)
    expect(receipt["error_message"])
      .to eq("decoded 2 of 3 facts; 1 damaged span(s) skipped, the first bad_crc at byte #{frames[1][:offset]}")
    bin = "#{path}.quarantine/#{format("%020d", frames[1][:offset])}-#{frames[1][:size]}.bin"
    expect(receipt["quarantined"]).to eq([{ "file" => path, "offset" => frames[1][:offset], "length" => frames[1][:size],
                                            "reason" => "bad_crc", "quarantine_path" => bin }])
    expect(File.binread(bin)).to eq(bytes.byteslice(frames[1][:offset], frames[1][:size]))
    expect(File.binread(path)).to eq(bytes) # a sealed segment is never rewritten
  end

  it "reads a json segment whose manifest says compact by its bytes, losing nothing" do
    path = sealed_with(2)
    manifest = "#{path}.manifest.json"
    File.write(manifest, JSON.generate(JSON.parse(File.read(manifest)).merge("codec" => "compact_delta_zlib")))
    b = open_backend(dir)
    expect(b.replay.map(&:key)).to eq(%w[k0 k1])
    expect(b.quarantine_receipts).to eq([])
  end

  it "writes nothing new when an unchanged damaged segment is read again" do
    path = sealed_with(3)
    bytes = File.binread(path)
    bytes.setbyte(20, bytes.getbyte(20) ^ 0x01)
    File.binwrite(path, bytes)
    open_backend(dir).tap(&:replay).close
    tree = ->(root) { Dir.glob("**/*", base: root).sort.to_h { |rel| [rel, File.file?(File.join(root, rel)) && File.binread(File.join(root, rel))] } }
    before = tree.(dir)
    b = open_backend(dir)
    expect(b.replay.map(&:key)).to eq(%w[k1 k2])
    b.close
    expect(tree.(dir)).to eq(before)
  end

  it "keeps a segment with an unparsable manifest in filtered replay instead of raising" do
    sealed_with(2)
    File.write(manifests(dir).first, "{not json")
    b = open_backend(dir)
    expect(b.replay(since: realtime - 3600).size).to eq(2)
    expect(b.quarantine_receipts).to eq([])
  end
end
