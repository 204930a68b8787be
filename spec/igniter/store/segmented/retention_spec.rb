# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::SegmentedFileBackend, "retention and purge" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  # One sealed segment per key: write, checkpoint!, ... then close.
  def sealed_segments(keys, **opts)
    b = open_backend(dir, **opts)
    keys.each do |k|
      b.write_fact(reading(k))
      b.checkpoint!
    end
    b.close
  end

  it "rolling_window purges a segment whose max_timestamp is older than the window" do
    sealed_segments(%w[k0])
    backdate(manifests(dir).first, 120)
    b = open_backend(dir, retention: { readings: { strategy: :rolling_window, duration: 60 } })
    receipts = b.purge!
    expect(receipts.size).to eq(1)
    expect(receipts.first).to include("purge_strategy" => "rolling_window", "purge_duration" => 60, "store" => "readings",
                                      "segment_path" => File.join(dir, "wal", "store=readings", "date=#{today}",
                                                                  "segment-000001.wal"))
    expect(receipts.first["reason"]).to match(%r{\Arolling_window: segment readings/#{today}/000001 \(store=readings\) max_timestamp 12\d\.\ds older than retention window of 60s\z})
    expect(segment_files(dir)).to eq([])
    expect(manifests(dir)).to eq([])
    expect(File.exist?(receipts.first["segment_path"] + described_class::PURGED_SUFFIX)).to be(true)
    expect(b.storage_stats["stores"]["readings"]["purge_receipt_count"]).to eq(1)
  end

  it "rolling_window keeps segments inside the window and never touches live segments" do
    sealed_segments(%w[k0])
    backdate(manifests(dir).first, 120)
    b = open_backend(dir, retention: { "readings" => { strategy: :rolling_window, duration: 3600 } })
    expect(b.purge!).to eq([])
    b.set_retention(:readings, strategy: :rolling_window, duration: 0)
    b.write_fact(reading("live"))
    expect(b.purge!.size).to eq(1)
    expect(b.replay.map(&:key)).to eq(["live"])
  end

  it "ephemeral keeps only the newest sealed segment, even if that loses a key" do
    sealed_segments(%w[k0 k1 k2])
    b = open_backend(dir, retention: { readings: { strategy: :ephemeral } })
    receipts = b.purge!(store: :readings)
    expect(receipts.size).to eq(2)
    expect(receipts.map { |r| r["reason"] }).to all(match(/\Aephemeral: segment readings\/.+\/\d{6} \(store=readings\) superseded by newer sealed segment\z/))
    expect(manifests(dir).size).to eq(1)
    expect(b.replay.map(&:key)).to eq(["k2"])
    expect(b.purge!).to eq([])
  end

  it "permanent and unknown strategies purge nothing; stores without policy give []" do
    sealed_segments(%w[k0 k1])
    b = open_backend(dir, retention: { readings: { strategy: :permanent } })
    expect(b.purge!).to eq([])
    expect(b.purge!(store: :nobody)).to eq([])
    expect(b.set_retention(:readings, strategy: "ephemeral")).to eq(strategy: :ephemeral, duration: nil)
    expect(b.purge!.size).to eq(1)
  end

  it "lists receipts from a fresh instance, sorted, filtered by time and limited" do
    sealed_segments(%w[k0 k1 k2 k3])
    with_backend(dir, retention: { readings: { strategy: :ephemeral } }, &:purge!)
    fresh = open_backend(dir)
    receipts = fresh.purge_receipts(store: :readings)
    expect(receipts.size).to eq(3)
    expect(receipts.map { |r| r["purged_at"] }).to eq(receipts.map { |r| r["purged_at"] }.sort)
    expect(receipts.first["purged_at"]).to be_a(Float)
    expect(fresh.purge_receipts(since: realtime + 100)).to eq([])
    expect(fresh.purge_receipts(since: 0.0).size).to eq(3)
    expect(fresh.purge_receipts(until_: 0.0)).to eq([])
    expect(fresh.purge_receipts(limit: 2).size).to eq(2)
    expect(fresh.storage_stats["stores"]["readings"]["purge_receipt_count"]).to eq(3)
  end

  it "never reuses a segment id after every segment of a directory was purged" do
    sealed_segments(%w[k0])
    backdate(manifests(dir).first, 120)
    with_backend(dir, retention: { readings: { strategy: :rolling_window, duration: 60 } }, &:purge!)
    first_receipt = Dir.glob(File.join(dir, "wal", "**", "*.purged.json")).first
    before = File.read(first_receipt)
    b = open_backend(dir)
    b.write_fact(reading("again"))
    b.close
    expect(File.basename(segment_files(dir).first)).to eq("segment-000002.wal")
    expect(File.read(first_receipt)).to eq(before)
  end

  it "orders ephemeral candidates by bucket and numeric segment number" do
    sealed_segments(%w[k0 k1])
    bucket_dir = File.dirname(segment_files(dir).first)
    # Simulate a store that passed segment 999999: rename the newer one.
    %w[.wal .wal.manifest.json].each do |ext|
      File.rename(File.join(bucket_dir, "segment-000002#{ext}"), File.join(bucket_dir, "segment-1000000#{ext}"))
    end
    receipts = open_backend(dir, retention: { readings: { strategy: :ephemeral } }).purge!
    expect(receipts.map { |r| File.basename(r["segment_path"]) }).to eq(["segment-000001.wal"])
  end
end
