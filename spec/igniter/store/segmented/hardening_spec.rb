# frozen_string_literal: true

require_relative "segmented_spec_helper"

# Fixes of 0.5.2's weaknesses (spec 03 §18); each example fails on 0.5.2.
RSpec.describe Igniter::Store::SegmentedFileBackend, "hardening" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  describe "store names" do
    ["../escape", "../../etc", "/abs/path", "a/b", "nul\0byte", "*", "x?", "[a]", "{a,b}", ".", "..", "", "a\\b"].each do |bad|
      it "rejects #{bad.inspect} before touching the disk" do
        b = open_backend(dir)
        expect { b.write_fact(reading(store: bad)) }
          .to raise_error(Igniter::Store::InvalidStoreNameError, /\Ainvalid store name .*: (is empty|is a relative|contains a path)/m)
        expect(Dir.children(File.join(dir, "wal"))).to eq([])
        expect(Dir.children(dir).sort).to eq(%w[ledger.lock wal])
      end
    end

    it "rejects bad names in read and retention calls too" do
      b = open_backend(dir)
      expect { b.replay(store: "*") }.to raise_error(Igniter::Store::InvalidStoreNameError)
      expect { b.purge_receipts(store: "../x") }.to raise_error(ArgumentError, /invalid store name/)
      expect { b.set_retention("../x", strategy: :ephemeral) }.to raise_error(Igniter::Store::InvalidStoreNameError)
      expect { b.storage_stats(store: "a/b") }.to raise_error(Igniter::Store::InvalidStoreNameError)
    end

    it "keeps plain names verbatim" do
      b = open_backend(dir)
      %w[readings sensor_readings x Mixed-Case.v2].each { |name| b.write_fact(reading(store: name)) }
      expect(b.stored_store_names).to eq(%w[Mixed-Case.v2 readings sensor_readings x])
    end
  end

  describe "durability policy" do
    it "rejects unknown policies" do
      expect { open_backend(dir, durability: :sometimes) }
        .to raise_error(ArgumentError, "unknown durability policy: :sometimes (expected :flush or :fsync)")
    end

    it "fdatasyncs every write and fsyncs manifests and directories under :fsync" do
      synced = []
      allow_any_instance_of(File).to receive(:fdatasync).and_wrap_original { |m| synced << [:fdatasync, m.receiver.path]; m.call }
      allow_any_instance_of(File).to receive(:fsync).and_wrap_original { |m| synced << [:fsync, m.receiver.path]; m.call }
      b = open_backend(dir, durability: :fsync)
      write_n(b, 2)
      seg = segment_files(dir).first
      expect(synced.count { |kind, path| kind == :fdatasync && path == seg }).to eq(2)
      b.close
      expect(synced).to include([:fsync, seg], [:fsync, "#{seg}.manifest.json.tmp"], [:fsync, File.dirname(seg)])
      expect(b.durability_snapshot["sync"]).to eq("fsync")
    end

    it "does not fsync under the default :flush policy" do
      expect_any_instance_of(File).not_to receive(:fsync)
      expect_any_instance_of(File).not_to receive(:fdatasync)
      b = open_backend(dir)
      write_n(b, 2)
      b.close
      expect(b.durability).to eq(:flush)
    end
  end

  it "includes the live compact segment (flushed and buffered facts) in replay" do
    b = open_backend(dir, codec: :compact_delta)
    write_n(b, 70)
    # Order is by transaction_time, and the 64 flushed facts come back with
    # millisecond times: a fast writer can put k63 (rounded up) after k64.
    expect(b.replay.map(&:key)).to match_array(70.times.map { |i| "k#{i}" })
    expect(b.replay(store: :readings, since: realtime + 1000).size).to eq(70)
  end

  it "does not rescan the directory tree for storage_stats or segment_manifest" do
    b = open_backend(dir)
    write_n(b, 3)
    b.checkpoint!
    b.write_fact(reading("live"))
    expect(Dir).not_to receive(:glob)
    stats = b.storage_stats
    expect(stats["stores"]["readings"]).to include("sealed_count" => 1, "live_count" => 1, "fact_count" => 4)
    expect(b.segment_manifest(store: :readings)["stores"]["readings"]["segments"].size).to eq(2)
  end

  it "validates the codec before creating a segment file" do
    b = open_backend(dir, codec: :bogus)
    2.times { expect { b.write_fact(reading) }.to raise_error(ArgumentError, "Unknown codec: :bogus") }
    expect(b.segment_count).to eq(0)
  end
end
