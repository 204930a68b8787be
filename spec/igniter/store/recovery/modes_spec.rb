# frozen_string_literal: true

# recovery: :strict refuses damage and changes nothing; recovery: :truncate keeps
# the frames before the first damage and quarantines everything after it.
RSpec.describe "Recovery modes" do
  include_context "a 20-fact WAL"

  describe ":strict" do
    {
      "a flipped body byte" => ->(b, f) { b.setbyte(f[8][:offset] + 20, b.getbyte(f[8][:offset] + 20) ^ 1) && b },
      "a torn tail" => ->(b, f) { b.byteslice(0, f.last[:offset] + 5) },
      "garbage between frames" => ->(b, f) { b.byteslice(0, f[3][:offset]) + "junk!".b + b.byteslice(f[3][:offset]..) },
      "an undecodable body" => lambda { |b, f|
        b.byteslice(0, f[3][:offset]) + [3, "[1]", Zlib.crc32("[1]")].pack("Na*N") + b.byteslice(f[3][:offset]..)
      }
    }.each do |damage, make|
      it "raises CorruptLedgerError for #{damage} and leaves the bytes, the mtime and the directory as they were" do
        damaged = make.call(pristine.b, frames)
        File.binwrite(path, damaged)
        File.utime(Time.at(1_600_000_000), Time.at(1_600_000_000), path)
        before = Dir.children(@dir).sort

        error = nil
        expect { Igniter::Store::FileBackend.new(path, recovery: :strict) }
          .to raise_error(Igniter::Store::CorruptLedgerError) { |e| error = e }
        expect(error.path).to eq(path)
        expect(error.offset).to be_between(0, damaged.bytesize)
        expect(error.reason).to be_a(Symbol)
        expect(error.message).to eq("#{path}: #{error.reason} at byte #{error.offset}")
        expect(File.binread(path)).to eq(damaged)
        expect(File.mtime(path)).to eq(Time.at(1_600_000_000))
        expect(Dir.children(@dir).sort).to eq(before)
      end
    end

    it "names the first damage" do
      File.binwrite(path, xor_byte(pristine, frames[8][:offset] + 20))
      expect { Igniter::Store.open(path, recovery: :strict) }
        .to raise_error(Igniter::Store::CorruptLedgerError, "#{path}: bad_crc at byte #{frames[8][:offset]}")
      expect { Igniter::Store::FileBackend.new(path).close }.not_to raise_error
    end

    it "refuses a damaged snapshot too" do
      File.binwrite(path + ".snap", raw_frame('{"type":"snapshot_header","fact_count":1,"written_at":1.0}') + "junk")
      expect { Igniter::Store::FileBackend.new(path, recovery: :strict) }
        .to raise_error(Igniter::Store::CorruptLedgerError) { |e| expect(e.path).to eq(path + ".snap") }
    end

    it "opens a clean ledger and writes to it" do
      store = Igniter::Store.open(path, recovery: :strict)
      store.write(store: :orders, key: "o9", value: 1)
      expect(store.instance_variable_get(:@backend).recovery[:mode]).to eq(:strict)
      store.close
      expect(stored_ids(path).size).to eq(21)
    end
  end

  describe ":truncate" do
    it "keeps the prefix before the first damage and quarantines the valid rest as after_damage" do
      damaged = xor_byte(pristine, frames[12][:offset] + 20)
      File.binwrite(path, damaged)
      backend = Igniter::Store::FileBackend.new(path, recovery: :truncate)
      recovery = backend.recovery

      expect(backend.replay.map(&:id)).to eq(facts.first(12).map(&:id))
      expect(File.binread(path)).to eq(pristine.byteslice(0, frames[12][:offset]))
      expect(recovery[:quarantined].map { |s| [s[:offset], s[:reason]] })
        .to eq([[frames[12][:offset], :bad_crc], [frames[13][:offset], :after_damage]])
      expect(recovery).to include(mode: :truncate, tail: :bad_crc, damaged_spans: 1, salvaged_frames: 0,
                                  truncated_bytes: damaged.bytesize - frames[12][:offset])
      expect(quarantined_bins(path).map(&:last).join).to eq(damaged.byteslice(frames[12][:offset]..))
      backend.close
    end

    it "treats an undecodable body as damage" do
      at = frames[4][:offset]
      File.binwrite(path, pristine.byteslice(0, at) + raw_frame("[1]") + pristine.byteslice(at..))
      expect(stored_ids(path, recovery: :truncate)).to eq(facts.first(4).map(&:id))
      expect(quarantine_receipts(path).map { |r| r["reason"] }).to eq(%w[undecodable after_damage])
    end
  end

  it "refuses an unknown mode with ArgumentError naming the allowed ones" do
    expect { Igniter::Store::FileBackend.new(path, recovery: :repair) }
      .to raise_error(ArgumentError, "unknown recovery mode: :repair (expected :salvage, :strict or :truncate)")
    expect { Igniter::Store.open(path, recovery: "salvage") }.to raise_error(ArgumentError, /unknown recovery mode: "salvage"/)
  end
end
