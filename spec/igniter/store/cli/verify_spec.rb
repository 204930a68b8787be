# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger verify", :ledger_cli do
  let!(:wal) { File.join(fixture_copy(@dir, "file_backend"), "ledger.wal") }

  it "finds 0.5.2's WAL and snapshot clean, exits 0 and changes no byte, mtime or file" do
    before = tree_state(@dir)
    ran = ledger_cli("verify", wal, chdir: @dir)

    expect(ran.exit_code).to eq(0)
    expect(ran.out).to include("file_backend/ledger.wal (WAL): 3.1 KiB (3,158 B), 8 frames, 8 facts, no damage")
      .and include("file_backend/ledger.wal.snap (snapshot)").and include("replayed: 8 facts")
      .and include("causation: 8 facts checked, every chain intact").and include("quarantine: empty")
    expect(ran.out.lines.last).to eq("clean\n")
    expect(ran.err).to be_empty
    expect(tree_state(@dir)).to eq(before)
  end

  it "finds both of 0.5.2's segmented fixtures clean, with their codecs, and changes nothing" do
    %w[segmented_json_crc32 segmented_compact_delta_zlib].each do |name|
      root = fixture_copy(@dir, name)
      before = tree_state(root)
      ran = ledger_cli("verify", root, "--json", chdir: @dir)

      expect(ran.exit_code).to eq(0), ran.err
      doc = ran.json
      expect(doc).to include("status" => "clean", "kind" => "segmented", "facts" => 12, "damaged_spans" => [])
      expect(doc["files"].map { |f| [f["role"], f["state"], f["codec"], f["facts"], f["expected_facts"]] })
        .to eq([["segment", "sealed", name.delete_prefix("segmented_"), 12, 12]])
      expect(tree_state(root)).to eq(before)
    end
  end

  it "reports a byte flipped in the middle of 0.5.2's WAL as a bad_crc span at its frame, exits 1, changes nothing" do
    frames = frame_spans(wal)
    offset = flip_byte(wal)
    frame = frames.find { |at, len| offset >= at && offset < at + len }
    before = tree_state(@dir)
    ran = ledger_cli("verify", wal, "--json", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    doc = ran.json
    expect(doc["status"]).to eq("damaged")
    expect(doc["damaged_spans"]).to eq([{ "file" => File.realpath(wal), "offset" => frame[0], "length" => frame[1],
                                          "reason" => "bad_crc" }])
    # The snapshot holds that fact too, so the replay still serves all eight.
    expect(doc["facts"]).to eq(8)
    expect(tree_state(@dir)).to eq(before)
  end

  it "reports the cut tail of 0.5.2's WAL as torn at the last frame, in text" do
    last_at, last_len = frame_spans(wal).last
    cut_tail(wal, 20)
    ran = ledger_cli("verify", wal, chdir: @dir)

    expect(ran.exit_code).to eq(1)
    expect(ran.out).to include("7 frames, 7 facts, 1 damaged span")
      .and include("damaged: #{last_len - 20} bytes at offset #{last_at}: torn")
      .and include("replayed: 7 facts")
    expect(ran.out.lines.last).to eq("damaged: 1 damaged span\n")
  end

  it "reports a damaged frame of a sealed 0.5.2 segment and keeps serving the other facts" do
    root = fixture_copy(@dir, "segmented_json_crc32")
    segment = Dir[File.join(root, "wal", "*", "*", "segment-*.wal")].first
    at, len = frame_spans(segment)[5]
    flip_byte(segment, at + 40)
    ran = ledger_cli("verify", root, "--json", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    file = ran.json["files"].first
    expect(file).to include("facts" => 11, "expected_facts" => 12,
                            "damaged" => [{ "offset" => at, "length" => len, "reason" => "bad_crc" }])
  end

  it "exits 2 naming a file that is not a ledger, and a directory without wal/, and leaves them as they were" do
    notes = File.join(@dir, "notes.txt")
    File.write(notes, "shopping: milk, eggs\n")
    Dir.mkdir(File.join(@dir, "empty"))
    before = tree_state(@dir)

    ran = ledger_cli("verify", "notes.txt", chdir: @dir)
    expect(ran.exit_code).to eq(2)
    expect(ran.err).to eq("igniter-ledger verify: notes.txt is not an igniter-ledger WAL: no valid frame at offset 0 " \
                          "or anywhere after it\n")
    ran = ledger_cli("verify", "empty", chdir: @dir)
    expect(ran.exit_code).to eq(2)
    expect(ran.err).to include("empty is a directory but not a segmented igniter-ledger (no wal/ in it)")
    expect(tree_state(@dir)).to eq(before)
  end

  it "names a path that does not exist, exit 74" do
    ran = ledger_cli("verify", "missing.wal", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger verify: cannot open missing.wal: no such file or directory; check the path\n")
  end

  it "reports causation that is not the key's previous fact, or no fact of the ledger" do
    path = File.join(@dir, "chains.wal")
    store = Igniter::Store.open(path)
    a = store.write(store: :orders, key: "o1", value: { n: 1 })
    store.write(store: :orders, key: "o1", value: { n: 2 })
    c = store.write(store: :orders, key: "o1", value: { n: 3 }, causation: a.id)
    d = store.write(store: :orders, key: "o2", value: { n: 1 }, causation: "no-such-fact")
    store.close
    ran = ledger_cli("verify", path, "--json", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    broken = ran.json["causation"]["broken"]
    expect(broken.map { |b| [b["id"], b["problem"], b["causation"]] })
      .to eq([[c.id, "not_previous", a.id], [d.id, "unknown", "no-such-fact"]])
    text = ledger_cli("verify", path, chdir: @dir).out
    expect(text).to include("fact #{c.id} (orders/o1): causation #{a.id} is not the key's previous fact")
      .and include("fact #{d.id} (orders/o2): causation no-such-fact is no fact of this ledger")
      .and include("damaged: 2 broken causation links")
  end

  it "does not count as broken the chains whose earlier facts a compaction removed" do
    path = File.join(@dir, "compacted.wal")
    store = Igniter::Store.open(path)
    3.times { |i| store.write(store: :orders, key: "o1", value: { n: i }) }
    store.set_retention(:orders, strategy: :ephemeral)
    store.compact
    store.close
    ran = ledger_cli("verify", path, "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.out
    expect(ran.json["causation"]).to include("broken" => [], "removed_by_retention" => 1)
  end

  context "with the quarantine a writer's open made" do
    let(:path) { File.join(@dir, "ledger.wal") }

    before do
      store = Igniter::Store.open(path)
      20.times { |i| store.write(store: :orders, key: "o#{i % 3}", value: { n: i }) }
      store.close
      flip_byte(path)
      Igniter::Store.open(path).close # salvage: copies the damaged frame to quarantine, then cuts it
    end

    it "lists each copy with its receipt and checks its sha256; the fact after the lost one names it in quarantine" do
      ran = ledger_cli("verify", path, "--json", chdir: @dir)

      doc = ran.json
      expect(doc["damaged_spans"]).to eq([])
      copies = doc["quarantine"]
      expect(copies.size).to eq(1)
      expect(copies.first).to include("file" => File.realpath(path), "reason" => "bad_crc", "ok" => true, "problem" => nil)
      expect(File.binread(copies.first["data"]).bytesize).to eq(copies.first["length"])
      # A fact was lost: its key's next fact names it, and its bytes are in quarantine.
      expect(ran.exit_code).to eq(1)
      expect(doc["causation"]["broken"].map { |b| [b["problem"], b["in_quarantine"]] })
        .to eq([["unknown", copies.first["data"]]])
    end

    it "calls a copy whose bytes no longer match its receipt damage" do
      bin = Dir[File.join("#{path}.quarantine", "*.bin")].first
      flip_byte(bin, 0)
      ran = ledger_cli("verify", path, chdir: @dir)

      expect(ran.exit_code).to eq(1)
      expect(ran.out).to include("NOT WHOLE: #{File.basename(bin)} does not match the receipt's sha256")
        .and include("broken quarantine copy")
    end
  end

  it "shares the lock with read-only opens: a ledger another reader has open verifies" do
    path = File.join(@dir, "shared.wal")
    Igniter::Store.open(path).tap { |s| s.write(store: :orders, key: "o1", value: { n: 1 }) }.close
    reader = Igniter::Store.open(path, read_only: true)

    expect(ledger_cli("verify", path, chdir: @dir).exit_code).to eq(0)
  ensure
    reader&.close
  end

  it "explains itself on --help, exit 0" do
    ran = ledger_cli("verify", "--help", chdir: @dir)

    expect(ran.exit_code).to eq(0)
    expect(ran.out).to start_with("Usage: igniter-ledger verify PATH [--json]").and include("--json")
  end
end
