# frozen_string_literal: true

require "pathname"

# The resync decides which bytes are facts, so both paths must salvage a damaged
# ledger identically: the same WAL bytes afterwards, the same quarantine files
# and receipts (but for the time), the same report and facts. The other path
# runs in a child process on a copy of the same damaged files.
RSpec.describe "Salvage is the same on both paths" do
  include LedgerSpec::WalDamage

  OPEN_SCRIPT = <<~RUBY
    require "igniter-ledger"
    require "json"
    store = Igniter::Store.open(ARGV.fetch(0))
    recovery = store.instance_variable_get(:@backend).recovery
    print JSON.generate("native" => Igniter::Store::NATIVE, "ids" => store.fact_log_all.map(&:id),
                        "recovery" => recovery)
    store.close
  RUBY

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  def other_path_open(path)
    env = Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV
    out, err, status = run_ruby(OPEN_SCRIPT, env: env, args: [path])
    raise "other path failed: #{err}" unless status.success?

    JSON.parse(out).tap { |doc| expect(doc["native"]).to eq(!Igniter::Store::NATIVE) }
  end

  # A ledger damaged in every way salvage handles, in +dir+.
  def damaged_ledger(dir)
    path = File.join(dir, "ledger.wal")
    write_facts(path)
    store = Igniter::Store.open(path)
    store.checkpoint
    store.close
    frames = parse_frames(path)
    bytes = xor_byte(xor_byte(File.binread(path), frames[2][:offset] + 9), frames[11][:offset] + 1, 0x10)
    odd = frames[15][:offset]
    bytes = bytes.byteslice(0, odd) + [3, "[1]", Zlib.crc32("[1]")].pack("Na*N") + bytes.byteslice(odd..)
    at = frames[6][:offset]
    bytes = bytes.byteslice(0, at) + "GARBAGE\x00\x01".b + bytes.byteslice(at..)
    File.binwrite(path, bytes.byteslice(0, bytes.bytesize - 7))
    snap = File.binread(path + ".snap")
    snap_frames = parse_frame_bytes(snap)
    File.binwrite(path + ".snap", xor_byte(snap, snap_frames[4][:offset] + 30))
    path
  end

  def relative(doc, dir)
    JSON.parse(JSON.generate(doc).gsub(dir, "DIR"))
  end

  def quarantine_files(path)
    Dir[File.join(File.dirname(path), "*.quarantine", "*")].sort.to_h do |file|
      body = File.binread(file)
      body = body.sub(/"quarantined_at":"[^"]*"/, "") if file.end_with?(".json")
      [file.delete_prefix(File.dirname(path)), body.sub(File.dirname(path), "DIR")]
    end
  end

  it "writes the same WAL, quarantine and report on both paths, and each path reopens the other's result" do
    here_dir = File.join(@dir, "here")
    there_dir = File.join(@dir, "there")
    [here_dir, there_dir].each { |d| Dir.mkdir(d) }
    here = damaged_ledger(here_dir)
    FileUtils.cp(Dir[File.join(here_dir, "*")], there_dir)
    there = File.join(there_dir, "ledger.wal")

    store = Igniter::Store.open(here)
    recovery = JSON.parse(JSON.generate(store.instance_variable_get(:@backend).recovery))
    ids = store.fact_log_all.map(&:id)
    store.close
    theirs = other_path_open(there)

    expect(recovery["quarantined"].map { |s| s["reason"] }).to include("bad_crc", "garbage", "torn", "undecodable")
    expect(theirs["ids"]).to eq(ids)
    expect(relative(theirs["recovery"], there_dir)).to eq(relative(recovery, here_dir))
    expect(File.binread(there)).to eq(File.binread(here))
    expect(File.binread(there + ".snap")).to eq(File.binread(here + ".snap"))
    expect(quarantine_files(there)).to eq(quarantine_files(here))
    expect(quarantine_files(here).keys.grep(/\.snap\.quarantine/)).not_to be_empty

    # Each path reopens what the other salvaged: nothing left to cut.
    again = other_path_open(here)
    expect(again["ids"]).to eq(ids)
    expect(again["recovery"]).to include("truncated_bytes" => 0)
    reopened = Igniter::Store::FileBackend.new(there)
    expect(reopened.replay.map(&:id).sort).to eq(ids.sort)
    expect(reopened.recovery[:truncated_bytes]).to eq(0)
    reopened.close
  end

  it "names the damaged file by the same absolute path on both paths when it is opened by a relative one" do
    path = File.join(@dir, "ledger.wal")
    write_facts(path, 3)
    frames = parse_frames(path)
    damaged = xor_byte(File.binread(path), frames[1][:offset] + 9)
    copy = File.join(@dir, "copy.wal")
    File.binwrite(path, damaged)
    File.binwrite(copy, damaged)
    # Relative to the repository root (both processes run there), through "./" and "..".
    relative = ->(p) { File.join(".", "spec", "..", Pathname.new(p).relative_path_from(Pathname.new(Dir.pwd)).to_s) }
    expect(Dir.pwd).to eq(LedgerSpec::ROOT)

    Igniter::Store::FileBackend.new(relative.call(path)).close
    other_path_open(relative.call(copy))
    mine = quarantine_receipts(path).first
    theirs = quarantine_receipts(copy).first

    expect(mine["file"]).to eq(path)
    expect(theirs["file"]).to eq(copy)
    expect(theirs.except("file", "quarantined_at")).to eq(mine.except("file", "quarantined_at"))
  end
end
