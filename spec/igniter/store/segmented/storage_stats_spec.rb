# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::SegmentedFileBackend, "storage_stats and segment_manifest" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  def stable(view)
    view.reject { |k, _| k == "generated_at" }
  end

  it "reports a live segment with String keys and no segments array" do
    b = open_backend(dir)
    fact = reading
    b.write_fact(fact)
    stats = b.storage_stats
    expect(stats.keys).to eq(%w[schema_version generated_at stores recovery])
    expect(stats["recovery"]).to eq("mode" => "salvage", "read_only" => false, "files" => {}, "removed_empty" => [],
                                    "unrecognized" => [])
    expect(stats["schema_version"]).to eq(1)
    expect(stats["generated_at"]).to be_a(Float)
    expect(stats["stores"]["readings"]).to eq(
      "segment_count" => 1, "sealed_count" => 0, "live_count" => 1, "codecs" => ["json_crc32"],
      "byte_size" => File.size(segment_files(dir).first), "fact_count" => 1,
      "min_timestamp" => fact.transaction_time, "max_timestamp" => fact.transaction_time,
      "purge_receipt_count" => 0, "quarantine_receipt_count" => 0
    )
    expect(stable(b.storage_stats)).to eq(stable(stats))
  end

  it "reports sealed data after close and from a fresh instance" do
    b = open_backend(dir)
    write_n(b, 2)
    b.close
    expect(b.storage_stats["stores"]["readings"]).to include("sealed_count" => 1, "live_count" => 0, "fact_count" => 2)
    fresh = open_backend(dir).storage_stats["stores"]["readings"]
    expect(fresh).to include("sealed_count" => 1, "live_count" => 0, "fact_count" => 2)
    expect(fresh["byte_size"]).to be > 0
    expect(fresh["min_timestamp"]).to be_a(Float)
  end

  it "lists every store, sorted, and exactly the asked store (zeros when unknown)" do
    b = open_backend(dir, codec: { beta: :compact_delta, "alpha" => "json_crc32" })
    b.write_fact(reading(store: :beta))
    b.write_fact(reading(store: :alpha))
    expect(b.storage_stats["stores"].keys).to eq(%w[alpha beta])
    expect(b.storage_stats["stores"]["beta"]["codecs"]).to eq(["compact_delta_zlib"])
    expect(b.storage_stats(store: :beta)["stores"].keys).to eq(["beta"])
    expect(b.storage_stats(store: "ghost")["stores"]["ghost"]).to include(
      "segment_count" => 0, "fact_count" => 0, "byte_size" => 0, "codecs" => [], "min_timestamp" => nil
    )
  end

  it "counts buffered compact facts in the live fact_count" do
    b = open_backend(dir, codec: :compact_delta)
    write_n(b, 5)
    b.checkpoint!
    write_n(b, 2, prefix: "m")
    view = b.storage_stats["stores"]["readings"]
    expect(view).to include("fact_count" => 7, "sealed_count" => 1, "live_count" => 1, "segment_count" => 2)
  end

  it "lists sealed then live entries in segment_manifest" do
    b = open_backend(dir)
    b.write_fact(reading("a"))
    b.checkpoint!
    b.write_fact(reading("b"))
    segments = b.segment_manifest(store: :readings)["stores"]["readings"]["segments"]
    expect(segments.map { |s| s["sealed"] }).to eq([true, false])
    expect(segments.first.keys).to eq(%w[segment_id codec fact_count byte_size min_timestamp max_timestamp sealed sealed_at])
    expect(segments.first["sealed_at"]).to be_a(Float)
    expect(segments.last).to include("segment_id" => "readings/#{today}/000002", "codec" => "json_crc32",
                                     "fact_count" => 1, "sealed_at" => nil)
    expect(stable(b.segment_manifest)).to eq(stable(b.segment_manifest))
  end
end
