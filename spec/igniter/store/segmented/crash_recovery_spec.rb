# frozen_string_literal: true

require_relative "segmented_spec_helper"

# The crash matrix of spec 03 §7.2: the raw segment IO is closed under the
# backend (nothing sealed, buffered compact facts lost) and its lock dropped,
# as a dying process's would be; then a second backend opens the same root in
# the same process.
RSpec.describe Igniter::Store::SegmentedFileBackend, "crash recovery" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  def recovered_after_crash(written, crash_form: :one_store, root: dir, **opts)
    b = open_backend(root, **opts)
    write_n(b, written)
    crash_form == :one_store ? crash(b, "readings") : crash(b)
    with_backend(root) { |reopened| reopened.replay(store: :readings) }
  end

  {
    [{ codec: :json_crc32 }, 10] => 10,
    [{ codec: :compact_delta }, 3] => 0,
    [{ codec: :compact_delta }, 64] => 64,
    [{ codec: :compact_delta }, 70] => 64,
    [{ codec: :compact_delta }, 128] => 128,
    [{ codec: :compact_delta, flush: :on_write }, 10] => 10,
    [{ codec: :compact_delta, flush: :on_write }, 1] => 1,
    [{ codec: :compact_delta, flush: { every_n: 5 } }, 13] => 10,
    [{ codec: :compact_delta, flush: { every_n: 5 } }, 7] => 5,
    [{ codec: :compact_delta, flush: { every_n: 5 } }, 4] => 0
  }.each do |(opts, written), expected|
    it "recovers #{expected} of #{written} facts with #{opts.inspect}" do
      expect(recovered_after_crash(written, **opts).size).to eq(expected)
      expect(recovered_after_crash(written, crash_form: :all, root: File.join(dir, "all"), **opts).size).to eq(expected)
    end
  end

  it "keeps the first and last keys of 64 flushed compact facts" do
    keys = recovered_after_crash(64, codec: :compact_delta).map(&:key)
    expect(keys).to include("k0", "k63")
  end

  it "persists sub-batch compact facts on checkpoint! and on close" do
    b = open_backend(dir, codec: :compact_delta)
    write_n(b, 5)
    b.checkpoint!
    crash(b, "readings")
    expect(replayed(dir).size).to eq(5)

    other = File.join(dir, "other")
    b = open_backend(other, codec: :compact_delta)
    write_n(b, 5)
    b.close
    expect(replayed(other).size).to eq(5)
  end

  it "recovers per store over two stores (json, and compact with on_write)" do
    [{ codec: :json_crc32 }, { codec: :compact_delta, flush: :on_write }].each_with_index do |opts, i|
      root = File.join(dir, "r#{i}")
      b = open_backend(root, **opts)
      write_n(b, 3, store: :alpha)
      write_n(b, 4, store: :beta)
      crash(b)
      with_backend(root) do |b2|
        expect([b2.replay(store: :alpha).size, b2.replay(store: :beta).size]).to eq([3, 4])
      end
    end
  end

  it "seals orphans at open with the detected codec, the disk count and null times" do
    b = open_backend(dir, codec: :compact_delta)
    write_n(b, 1)
    crash(b, "readings")
    b2 = open_backend(dir) # configured json: detection wins
    doc = JSON.parse(File.read(manifests(dir).first))
    expect(doc).to include("codec" => "compact_delta_zlib", "fact_count" => 0, "min_timestamp" => nil,
                           "max_timestamp" => nil, "sealed" => true)
    expect(b2.quarantine_receipts(store: :readings)).to eq([])
    b2.replay
    expect(b2.quarantine_receipts(store: :readings)).to eq([])
    report = b2.recovery[:files].fetch(segment_files(dir).first)
    expect(report).to include(state: :orphan, codec: "compact_delta_zlib", fact_count: 0, quarantined: [],
                              truncated_bytes: 0, tail: :clean)
  end

  it "does not create a second segment when reopening after a crash without writes" do
    b = open_backend(dir)
    b.write_fact(reading("before"))
    crash(b, "readings")
    b2 = open_backend(dir)
    b2.close
    expect(b2.segment_count).to eq(1)
    b.close rescue nil # rubocop:disable Style/RescueModifier
    expect(manifests(dir).size).to eq(1)
  end

  it "keeps writing after a crash: pre- and post-crash facts both replay" do
    b = open_backend(dir)
    b.write_fact(reading("before"))
    crash(b, "readings")
    b2 = open_backend(dir)
    b2.write_fact(reading("after"))
    b2.close
    expect(replayed(dir).map(&:key)).to eq(%w[before after])
  end

  it "copies the torn tail of an orphan into its quarantine sidecar, then cuts it" do
    b = open_backend(dir)
    write_n(b, 3)
    crash(b, "readings")
    path = segment_files(dir).first
    whole = File.size(path)
    torn = "\x00\x00\x01\x00{\"id".b
    File.open(path, "ab") { |io| io.write(torn) }
    b2 = open_backend(dir)
    expect(File.size(path)).to eq(whole)
    report = b2.recovery[:files].fetch(path)
    expect(report).to include(fact_count: 3, truncated_bytes: 8, original_bytes: whole + 8, valid_bytes: whole,
                              tail: :torn, damaged_spans: 1, salvaged_frames: 0, mode: :salvage)
    bin = "#{path}.quarantine/#{format("%020d", whole)}-8.bin"
    expect(report[:quarantined]).to eq([{ file: path, offset: whole, length: 8, reason: :torn, quarantine_path: bin }])
    expect(File.binread(bin)).to eq(torn)
    receipt = JSON.parse(File.read(bin.sub(/\.bin\z/, ".json")))
    expect(receipt).to include("file" => path, "offset" => whole, "length" => 8, "reason" => "torn",
                               "sha256" => Digest::SHA256.hexdigest(torn), "data" => File.basename(bin))
    expect(receipt.keys).to eq(%w[file offset length reason quarantined_at sha256 data])
    expect(receipt["quarantined_at"]).to match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/)
    expect(b2.replay.size).to eq(3)
    expect(b2.quarantine_receipts).to eq([])
    expect(b2.storage_stats["recovery"]["files"][path]["quarantined"].first)
      .to eq("file" => path, "offset" => whole, "length" => 8, "reason" => "torn", "quarantine_path" => bin)
  end

  it "reports the loss window in durability_snapshot" do
    b = open_backend(dir, codec: :compact_delta)
    write_n(b, 5)
    expect(b.durability_snapshot).to eq(
      "policy" => "batch", "sync" => "flush",
      "stores" => { "readings" => { "codec" => "compact_delta_zlib", "buffered_count" => 5,
                                    "facts_on_disk" => 0, "durability" => "buffered" } }
    )
    b.checkpoint!
    expect(b.durability_snapshot["stores"]["readings"]).to include("buffered_count" => 0, "durability" => "flushed")
    b.close
    expect(b.durability_snapshot["stores"]).to eq({})
  end

  it "names the flush policies and counts every_n per segment" do
    expect(open_backend(File.join(dir, "a"), flush: :on_write).durability_snapshot["policy"]).to eq("on_write")
    b = open_backend(File.join(dir, "b"), codec: :compact_delta, flush: { every_n: 5 })
    write_n(b, 7)
    expect(b.durability_snapshot["policy"]).to eq("every_n:5")
    expect(b.durability_snapshot["stores"]["readings"]).to include("facts_on_disk" => 5, "buffered_count" => 2)
    json = open_backend(File.join(dir, "c"))
    json.write_fact(reading)
    expect(json.durability_snapshot["stores"]["readings"]).to include("buffered_count" => 0, "durability" => "flushed")
  end
end
