# frozen_string_literal: true

# A run of zero bytes (preallocated space, or a crash that left zeros where a
# write never landed) reads as a row of empty frames whose CRC matches, since
# the CRC-32 of nothing is 0. No fact is shorter than 2 bytes, so such a run is
# damage: one span, one quarantine copy and one receipt, however long it is
# (doc/format.md "Recovery").
RSpec.describe "A run of zero bytes in a WAL" do
  include_context "a 20-fact WAL"

  def open_and_close(file)
    backend = Igniter::Store::FileBackend.new(file)
    ids = backend.replay.map(&:id)
    backend.close
    [backend.recovery, ids]
  end

  it "quarantines a zero-filled tail as one span with one receipt and cuts it" do
    File.binwrite(path, pristine + ("\0" * 4096))
    recovery, ids = open_and_close(path)

    expect(ids).to eq(facts.map(&:id))
    expect(recovery[:quarantined].map { |s| s.slice(:offset, :length, :reason) })
      .to eq([{ offset: pristine.bytesize, length: 4096, reason: :garbage }])
    expect(recovery).to include(tail: :garbage, damaged_spans: 1, truncated_bytes: 4096)
    expect(quarantined_bins(path)).to eq([[pristine.bytesize, "\0" * 4096]])
    expect(quarantine_receipts(path).size).to eq(1)
    expect(File.binread(path)).to eq(pristine)
  end

  it "quarantines zeros between two frames as one span and keeps every fact" do
    at = frames[9][:offset]
    File.binwrite(path, pristine.byteslice(0, at) + ("\0" * 1000) + pristine.byteslice(at..))
    recovery, ids = open_and_close(path)

    expect(ids).to eq(facts.map(&:id))
    expect(recovery[:quarantined].map { |s| s.slice(:offset, :length, :reason) })
      .to eq([{ offset: at, length: 1000, reason: :garbage }])
    expect(recovery[:salvaged_frames]).to eq(11)
    expect(File.binread(path)).to eq(pristine)
  end

  it "treats a one-byte body with a matching CRC as damage, not as a frame" do
    File.binwrite(path, pristine + raw_frame("x"))
    recovery, ids = open_and_close(path)

    expect(ids).to eq(facts.map(&:id))
    expect(recovery[:quarantined].map { |s| [s[:offset], s[:length], s[:reason]] }).to eq([[pristine.bytesize, 9, :garbage]])
  end

  it "raises under :strict at the start of the zeros and changes nothing" do
    damaged = pristine + ("\0" * 64)
    File.binwrite(path, damaged)
    expect { Igniter::Store::FileBackend.new(path, recovery: :strict) }
      .to raise_error(Igniter::Store::CorruptLedgerError) { |e| expect([e.offset, e.reason]).to eq([pristine.bytesize, :garbage]) }
    expect(File.binread(path)).to eq(damaged)
    expect(File.exist?(path + ".quarantine")).to be(false)
  end

  it "opens a file of nothing but zeros as a ledger whose bytes are one damaged span" do
    zeros = File.join(@dir, "zeros.wal")
    File.binwrite(zeros, "\0" * 8192)
    recovery, ids = open_and_close(zeros)

    expect(ids).to eq([])
    expect(recovery[:quarantined].map { |s| [s[:offset], s[:length], s[:reason]] }).to eq([[0, 8192, :garbage]])
    expect(File.size(zeros)).to eq(0)
  end

  it "refuses zeros followed by bytes that are not frames, untouched" do
    junk = File.join(@dir, "junk.bin")
    bytes = ("\0" * 16) + "not a ledger at all"
    File.binwrite(junk, bytes)
    expect { Igniter::Store::FileBackend.new(junk) }.to raise_error(Igniter::Store::NotALedgerError)
    expect(File.binread(junk)).to eq(bytes)
  end

  it "salvages to the same bytes, quarantine and report on the other path" do
    at = frames[4][:offset]
    damaged = pristine.byteslice(0, at) + ("\0" * 333) + pristine.byteslice(at..) + ("\0" * 5000)
    there = File.join(@dir, "there.wal")
    File.binwrite(path, damaged)
    File.binwrite(there, damaged)
    mine, = open_and_close(path)

    script = <<~SCRIPT
      require "igniter-ledger"
      require "json"
      backend = Igniter::Store::FileBackend.new(ARGV.fetch(0))
      backend.replay
      backend.close
      print JSON.generate("native" => Igniter::Store::NATIVE, "recovery" => backend.recovery)
    SCRIPT
    env = Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV
    out, err, status = run_ruby(script, env: env, args: [there])
    expect(status).to be_success, err
    theirs = JSON.parse(out)

    expect(theirs["native"]).to eq(!Igniter::Store::NATIVE)
    expect(mine[:quarantined].map { |s| [s[:offset], s[:length]] }).to eq([[at, 333], [pristine.bytesize + 333, 5000]])
    expect(theirs["recovery"]["quarantined"].map { |s| s.except("file", "quarantine_path") })
      .to eq(JSON.parse(JSON.generate(mine[:quarantined])).map { |s| s.except("file", "quarantine_path") })
    expect(File.binread(there)).to eq(File.binread(path))
    expect(File.binread(path)).to eq(pristine)
    strip = ->(r) { r.except("file", "quarantined_at") }
    expect(quarantine_receipts(there).map(&strip)).to eq(quarantine_receipts(path).map(&strip))
    expect(quarantined_bins(there)).to eq(quarantined_bins(path))
  end
end
