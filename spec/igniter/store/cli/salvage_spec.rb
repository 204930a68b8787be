# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger salvage", :ledger_cli do
  def members(facts)
    facts.map { |f| [f.id, f.store.to_s, f.key, f.value_hash, f.causation, f.transaction_time, f.valid_time] }
  end

  let(:expected_0_5_2) { JSON.parse(File.read(fixture_path("file_backend", "expected.json"))) }

  it "writes 0.5.2's WAL and snapshot into one clean WAL with every fact, ids, causation and times kept" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    before = tree_state(File.dirname(wal))
    ran = ledger_cli("salvage", wal, "--out", "clean.wal", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("kept: 8 facts (items 7, events 1)").and include("left behind: nothing")
      .and include("input: unchanged")
    kept = stored_facts(File.join(@dir, "clean.wal"))
    expect(kept.map { |f| [f.id, f.causation, f.transaction_time] })
      .to eq(expected_0_5_2.map { |f| [f["id"], f["causation"], f["transaction_time"]] })
    expect(File.exist?(File.join(@dir, "clean.wal.snap"))).to be(false)
    expect(tree_state(File.dirname(wal))).to eq(before)
  end

  it "keeps every fact around a damaged frame, lists what it left behind and changes no byte or mtime of the input" do
    path = File.join(@dir, "ledger.wal")
    store = Igniter::Store.open(path)
    written = Array.new(20) { |i| store.write(store: :orders, key: "o#{i % 3}", value: { n: i, tag: :open }) }
    store.close
    frames = frame_spans(path)
    offset = flip_byte(path, frames[9][0] + 30)
    before = tree_state(@dir)
    ran = ledger_cli("salvage", path, "--out", "clean.wal", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    doc = ran.json
    expect(doc).to include("kept_facts" => 19, "left_behind_bytes" => frames[9][1])
    expect(doc["left_behind"]).to eq([{ "file" => File.realpath(path), "offset" => frames[9][0],
                                        "length" => frames[9][1], "reason" => "bad_crc" }])
    expect(offset).to be_between(frames[9][0], frames[9][0] + frames[9][1])
    expect(members(stored_facts(File.join(@dir, "clean.wal")))).to eq(members(written.reject.with_index { |_, i| i == 9 }))
    expect(stored_facts(File.join(@dir, "clean.wal")).map { |f| f.value[:tag] }.uniq).to eq([:open])
    after = tree_state(@dir).reject { |p, _| p.start_with?(File.join(@dir, "clean.wal")) || p == @dir }
    expect(after).to eq(before.reject { |p, _| p == @dir })
  end

  it "writes the facts of 0.5.2's WAL with its tail cut, leaving the torn frame behind" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    last_at, last_len = frame_spans(wal).last
    File.delete("#{wal}.snap")
    cut_tail(wal, 10)
    ran = ledger_cli("salvage", wal, "--out", "clean.wal", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("kept: 7 facts")
      .and include("left behind (still in the input): 1 damaged span, #{last_len - 10} bytes")
      .and include("#{last_len - 10} bytes at offset #{last_at}: torn")
    expect(stored_facts(File.join(@dir, "clean.wal")).map(&:id)).to eq(expected_0_5_2.first(7).map { |f| f["id"] })
  end

  it "writes 0.5.2's segmented ledgers into segmented ledgers with the same codecs and facts" do
    %w[segmented_json_crc32 segmented_compact_delta_zlib].each do |name|
      root = fixture_copy(@dir, name)
      before = tree_state(root)
      ran = ledger_cli("salvage", root, "--out", "#{name}.clean", chdir: @dir)

      expect(ran.exit_code).to eq(0), ran.err
      out = File.join(@dir, "#{name}.clean")
      check = ledger_cli("verify", out, "--json", chdir: @dir).json
      expect(check["files"].map { |f| f["codec"] }.uniq).to eq([name.delete_prefix("segmented_")])
      expect(stored_facts(out).map { |f| [f.key, f.value, f.value_hash] })
        .to eq(stored_facts(root).map { |f| [f.key, f.value, f.value_hash] })
      expect(tree_state(root).reject { |p, _| p.end_with?("ledger.lock") || p == root })
        .to eq(before.reject { |p, _| p == root })
    end
  end

  it "keeps the eleven facts around a damaged frame of 0.5.2's json segment" do
    root = fixture_copy(@dir, "segmented_json_crc32")
    expected = JSON.parse(File.read(fixture_path("segmented_json_crc32.expected.json")))
    segment = Dir[File.join(root, "wal", "*", "*", "segment-*.wal")].first
    at, = frame_spans(segment)[3]
    flip_byte(segment, at + 50)
    ran = ledger_cli("salvage", root, "--out", "clean", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.json["left_behind"].map { |s| [s["offset"], s["reason"]] }).to eq([[at, "bad_crc"]])
    expect(stored_facts(File.join(@dir, "clean")).map(&:id))
      .to eq(expected.map { |f| f["id"] }.reject.with_index { |_, i| i == 3 })
  end

  it "refuses an --out that holds something, or the input itself, and touches neither (exit 1)" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    File.write(File.join(@dir, "taken.wal"), "keep me")
    before = tree_state(@dir)

    ran = ledger_cli("salvage", wal, "--out", "taken.wal", chdir: @dir)
    expect(ran.exit_code).to eq(1)
    expect(ran.err).to eq("igniter-ledger salvage: taken.wal exists and is not empty; give a new path\n")
    ran = ledger_cli("salvage", wal, "--out", wal, chdir: @dir)
    expect(ran.exit_code).to eq(1)
    expect(ran.err).to include("is the ledger itself")
    expect(tree_state(@dir)).to eq(before)
  end

  it "needs --out (exit 64)" do
    ran = ledger_cli("salvage", "ledger.wal", chdir: @dir)

    expect(ran.exit_code).to eq(64)
    expect(ran.err).to include("give --out NEW").and include("Usage: igniter-ledger salvage PATH --out NEW")
  end

  it "writes the same WAL bytes on both paths, and the other path reads the result" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    flip_byte(wal)
    here = ledger_cli("salvage", wal, "--out", "here.wal", chdir: @dir)
    there = ledger_cli("salvage", wal, "--out", "there.wal", chdir: @dir, env: other_path_env)

    expect([here.exit_code, there.exit_code]).to eq([0, 0])
    expect(File.binread(File.join(@dir, "here.wal"))).to eq(File.binread(File.join(@dir, "there.wal")))
    read = ledger_cli("verify", "here.wal", "--json", chdir: @dir, env: other_path_env)
    expect(read.json).to include("status" => "clean", "facts" => 8)
  end
end
