# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::SegmentedFileBackend, "lifecycle" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  it "replays written facts after reopen, sorted by transaction_time, with ids and times kept" do
    b = open_backend(dir)
    written = 3.times.map { |i| reading("k#{i}", value: { n: i }).tap { |f| b.write_fact(f) } }
    b.close
    replayed = open_backend(dir).replay
    expect(replayed.map(&:id)).to eq(written.map(&:id))
    expect(replayed.map(&:transaction_time)).to eq(written.map(&:transaction_time))
    expect(replayed.first.value).to eq(n: 0)
    expect(replayed.map(&:store).uniq).to eq([:readings])
  end

  it "lays out wal/store=<name>/date=<UTC day>/segment-000001.wal" do
    b = open_backend(dir)
    b.write_fact(reading)
    expect(File.file?(File.join(dir, "wal", "store=readings", "date=#{today}", "segment-000001.wal"))).to be(true)
    expect(b.stored_store_names).to eq(["readings"])
  end

  it "uses hour and flat buckets" do
    open_backend(dir, time_bucket: :hour).tap { |b| b.write_fact(reading) }.close
    open_backend(dir, time_bucket: :none).tap { |b| b.write_fact(reading(store: :other)) }.close
    expect(Dir.exist?(File.join(dir, "wal", "store=readings", "date=#{Time.now.utc.strftime("%Y-%m-%dT%H")}"))).to be(true)
    expect(Dir.exist?(File.join(dir, "wal", "store=other", "date=flat"))).to be(true)
  end

  { day: ["2030-01-01", "2030-01-02"], hour: ["2030-01-01T23", "2030-01-02T00"] }.each do |bucket, (before, after)|
    it "rotates into the next #{bucket} bucket on the first write after the UTC #{bucket} turns" do
      clock = Time.utc(2030, 1, 1, 23, 59, 59)
      allow(Time).to receive(:now) { clock }
      b = open_backend(dir, time_bucket: bucket)
      2.times { |i| b.write_fact(reading("a#{i}")) }
      clock = Time.utc(2030, 1, 2, 0, 0, 0)
      b.write_fact(reading("b"))
      b.close
      counts = [before, after].map do |name|
        Dir.glob(File.join(dir, "wal", "store=readings", "date=#{name}", "*.manifest.json"))
           .map { |m| JSON.parse(File.read(m))["fact_count"] }
      end
      expect(counts).to eq([[2], [1]])
      expect(open_backend(dir).replay.map(&:key)).to eq(%w[a0 a1 b])
    end
  end

  it "keeps stores apart and returns store names as Symbols" do
    b = open_backend(dir)
    b.write_fact(reading("a", store: :alpha))
    b.write_fact(reading("b", store: "beta"))
    expect(b.replay(store: :alpha).map(&:key)).to eq(["a"])
    expect(b.replay(store: "beta").map(&:store)).to eq([:beta])
    expect(b.replay.size).to eq(2)
    expect(b.replay(store: :nobody)).to eq([])
  end

  it "writes one compact manifest on close with the 0.5.2 keys in order" do
    b = open_backend(dir)
    fact = reading
    b.write_fact(fact)
    b.close
    files = manifests(dir)
    expect(files.size).to eq(1)
    doc = JSON.parse(File.read(files.first))
    expect(doc.keys).to eq(%w[segment_id store codec fact_count byte_size min_timestamp max_timestamp sealed sealed_at])
    expect(doc).to include("segment_id" => "readings/#{today}/000001", "store" => "readings", "codec" => "json_crc32",
                           "fact_count" => 1, "sealed" => true, "min_timestamp" => fact.transaction_time,
                           "max_timestamp" => fact.transaction_time)
    expect(doc["byte_size"]).to eq(File.size(segment_files(dir).first))
    expect(File.read(files.first)).not_to include(" ")
  end

  it "overwrites a stale manifest tmp file when sealing" do
    b = open_backend(dir)
    b.write_fact(reading)
    path = segment_files(dir).first
    File.write("#{path}.manifest.json.tmp", "CORRUPT")
    b.close
    expect(File.exist?("#{path}.manifest.json.tmp")).to be(false)
    expect(JSON.parse(File.read("#{path}.manifest.json"))["fact_count"]).to eq(1)
  end

  it "rotates by size, sealing synchronously, and replays every fact" do
    b = open_backend(dir, max_bytes: 1024)
    write_n(b, 20)
    expect(b.segment_count).to eq(5)
    expect(manifests(dir).size).to eq(4)
    expect(b.replay.size).to eq(20)
    b.close
    expect(open_backend(dir).replay.map(&:key)).to eq(20.times.map { |i| "k#{i}" })
  end

  it "checkpoint! seals the live segment and eagerly opens an empty one" do
    b = open_backend(dir)
    b.write_fact(reading("a"))
    b.checkpoint!
    live = segment_files(dir).reject { |p| File.exist?("#{p}.manifest.json") }
    expect(manifests(dir).size).to eq(1)
    expect(live.size).to eq(1)
    expect(File.size(live.first)).to eq(0)
    expect(b.durability_snapshot["stores"].keys).to eq(["readings"])
    b.write_fact(reading("b"))
    expect(b.segment_count).to eq(2)
    b.checkpoint!
    b.write_fact(reading("c"))
    b.close
    expect(open_backend(dir).replay.map(&:key)).to eq(%w[a b c])
  end

  it "deletes an empty live segment on close and leaves stores never written untouched" do
    b = open_backend(dir)
    b.write_fact(reading)
    b.checkpoint!
    b.close
    expect(b.segment_count).to eq(1)
    b.close # twice is harmless
    b.write_fact(reading("after-close")) # close is not terminal
    b.close
    expect(open_backend(dir).replay.map(&:key)).to eq(%w[k after-close])
  end

  it "has no live segment when freshly constructed" do
    open_backend(dir).tap { |b| b.write_fact(reading) }.close
    b = open_backend(dir)
    expect(b.durability_snapshot["stores"]).to eq({})
    expect(b.storage_stats["stores"]["readings"]).to include("live_count" => 0, "sealed_count" => 1)
    expect(b.segment_count).to eq(1)
  end

  it "skips sealed segments entirely older than since: but always keeps the live one" do
    b = open_backend(dir)
    b.write_fact(reading("old"))
    b.close
    backdate(manifests(dir).first, 600)
    b = open_backend(dir)
    b.write_fact(reading("new"))
    expect(b.replay(since: realtime - 60).map(&:key)).to eq(["new"])
    expect(b.replay(since: realtime + 10_000).map(&:key)).to eq(["new"])
    expect(b.replay(as_of: realtime - 10_000).map(&:key)).to eq(["new"])
    expect(b.replay.map(&:key)).to eq(%w[old new])
  end

  it "does not respond to replace_with_snapshot! or write_snapshot" do
    b = open_backend(dir)
    expect(b).not_to respond_to(:replace_with_snapshot!)
    expect(b).not_to respond_to(:write_snapshot)
  end

  it "never interleaves frames under concurrent writers" do
    b = open_backend(dir)
    8.times.map { |t| Thread.new { 50.times { |i| b.write_fact(reading("t#{t}-#{i}")) } } }.each(&:join)
    expect(b.storage_stats["stores"]["readings"]["fact_count"]).to eq(400)
    b.close
    expect(open_backend(dir).replay.map(&:key).uniq.size).to eq(400)
  end
end
