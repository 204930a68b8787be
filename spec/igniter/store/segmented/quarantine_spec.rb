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

  it "writes a receipt for a bad CRC mid-segment and still returns the facts before it" do
    path = sealed_with(3)
    frames = parse_frames(path)
    bytes = File.binread(path)
    crc_at = frames[1][:offset] + frames[1][:size] - 1
    bytes.setbyte(crc_at, bytes.getbyte(crc_at) ^ 0xFF)
    File.binwrite(path, bytes)
    b = open_backend(dir)
    expect(b.replay.map(&:key)).to eq(["k0"])
    receipt = b.quarantine_receipts.first
    expect(receipt).to include("error_class" => "Igniter::Store::SegmentedFileBackend::CorruptSegmentError",
                               "fact_count" => 3, "segment_path" => path)
    expect(receipt["error_message"]).to eq("decoded 1 of 3 facts; frames end bad_crc")
  end

  it "quarantines a json segment labelled compact (decode error class as a String)" do
    path = sealed_with(2)
    manifest = "#{path}.manifest.json"
    File.write(manifest, JSON.generate(JSON.parse(File.read(manifest)).merge("codec" => "compact_delta_zlib")))
    b = open_backend(dir)
    expect(b.replay).to eq([])
    expect(b.quarantine_receipts.first["error_class"]).to be_a(String)
    expect(b.quarantine_receipts.first["codec"]).to eq("compact_delta_zlib")
  end

  it "keeps a segment with an unparsable manifest in filtered replay instead of raising" do
    sealed_with(2)
    File.write(manifests(dir).first, "{not json")
    b = open_backend(dir)
    expect(b.replay(since: realtime - 3600).size).to eq(2)
    expect(b.quarantine_receipts).to eq([])
  end
end
