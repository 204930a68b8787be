# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger inspect", :ledger_cli do
  it "describes 0.5.2's WAL: stores, keys, facts, time ranges, sizes, format, snapshot, lock; changes nothing" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    expected = JSON.parse(File.read(fixture_path("file_backend", "expected.json")))
    before = tree_state(@dir)
    ran = ledger_cli("inspect", wal, "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    doc = ran.json
    times = expected.map { |f| f["transaction_time"] }
    expect(doc).to include("kind" => "wal", "facts" => 8, "frames" => 16)
    expect(doc["stores"].map { |s| s.values_at("name", "facts", "keys") }).to eq([["events", 1, 1], ["items", 7, 3]])
    expect(doc["transaction_time"]).to include("first_epoch" => times.min, "last_epoch" => times.max)
    expect(doc["valid_time"]["first_epoch"]).to eq(expected.filter_map { |f| f["valid_time"] }.min)
    expect(doc["size_on_disk"]).to include("total" => 3158 + 2887, "wal" => 3158, "snapshot" => 2887)
    expect(doc["snapshot"]).to include("fact_count" => 7)
    expect(doc["lock"]).to include("state" => "no lock file", "writer_pid" => nil)
    expect(doc["recovery"]).to include("clean" => true)
    expect(tree_state(@dir)).to eq(before)
  end

  it "prints the same in text, and what the next open would recover from a damaged copy" do
    wal = File.join(fixture_copy(@dir, "file_backend"), "ledger.wal")
    flip_byte(wal)
    ran = ledger_cli("inspect", wal, chdir: @dir)

    expect(ran.exit_code).to eq(0)
    expect(ran.out).to include("WAL: one file of CRC-32 framed JSON facts (doc/format.md), plus a snapshot")
      .and include("facts: 8 in 2 stores").and include("store items: 7 facts, 3 keys")
      .and match(/^recovery: 1 damaged span \(bad_crc 1\), \d+ bytes; the next writer's open copies them to quarantine and cuts/)
  end

  it "describes a segmented ledger per store: codec, segments, bytes" do
    root = fixture_copy(@dir, "segmented_compact_delta_zlib")
    ran = ledger_cli("inspect", root, "--json", chdir: @dir)

    store = ran.json["stores"].first
    expect(store).to include("name" => "gps", "facts" => 12, "keys" => 3, "codec" => "compact_delta_zlib",
                             "segments" => { "sealed" => 1, "orphan" => 0 }, "bytes" => 268)
    expect(ran.json["format"]).to include("segmented").and include("compact_delta_zlib")
  end

  it "reads a ledger a writer holds and names the writer's pid" do
    path = File.join(@dir, "live.wal")
    store = Igniter::Store.open(path)
    3.times { |i| store.write(store: :orders, key: "o1", value: { n: i }) }
    ran = ledger_cli("inspect", "live.wal", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("lock: held by a writer (pid #{Process.pid}): read without the lock")
      .and include("facts: 3 in 1 store")
  ensure
    store&.close
  end

  it "names an open segment a writer left unsealed" do
    root = File.join(@dir, "seg")
    store = Igniter::Store.segmented(root)
    store.write(store: :orders, key: "o1", value: { n: 1 })
    json = ledger_cli("inspect", "seg", "--json", chdir: @dir).json

    expect(json["lock"]).to include("state" => "held by a writer", "writer_pid" => Process.pid)
    expect(json["orphan_segments"].size).to eq(1)
  ensure
    store&.close
  end
end
