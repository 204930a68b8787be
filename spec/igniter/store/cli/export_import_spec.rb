# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger export and import", :ledger_cli do
  let!(:wal) { File.join(fixture_copy(@dir, "file_backend"), "ledger.wal") }
  let(:expected) { JSON.parse(File.read(fixture_path("file_backend", "expected.json"))) }

  def write_ledger(path)
    store = Igniter::Store.open(path)
    facts = [
      store.write(store: :orders, key: "o1", value: { state: :open, tags: [:rush, "gift"], n: 2**70 }),
      store.write(store: :orders, key: "o1", value: { state: :paid }, producer: { by: :cli }),
      store.write(store: :orders, key: "o2", value: :cancelled, valid_time: 1_700_000_000.5),
      store.append(history: :events, event: { kind: :audit, at: 1.5 })
    ]
    store.close
    facts
  end

  it "exports every fact as one NDJSON line in replay order, the WAL fact body" do
    ran = ledger_cli("export", wal, chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    lines = ran.out.lines
    expect(lines.map { |l| JSON.parse(l)["id"] }).to eq(expected.map { |f| f["id"] })
    expect(lines).to all(end_with("}\n"))
    facts = stored_facts(wal)
    expect(lines.map(&:chomp)).to eq(facts.map { |f| Igniter::Store::JsonCanon.fact_body(f) })
    expect(ran.err).to be_empty
  end

  it "selects by store and by transaction-time range (both ends inclusive)" do
    times = expected.map { |f| f["transaction_time"] }
    items = ledger_cli("export", wal, "--store", "items", chdir: @dir).out.lines
    expect(items.size).to eq(7)
    ranged = ledger_cli("export", wal, "--since", times[2].to_s, "--until", times[5].to_s, chdir: @dir).out.lines
    expect(ranged.map { |l| JSON.parse(l)["id"] }).to eq(expected[2..5].map { |f| f["id"] })
  end

  it "writes to a new --out file and prints a summary; refuses a file that exists" do
    ran = ledger_cli("export", wal, "--out", "all.ndjson", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to eq("exported 8 facts of 8 to all.ndjson (items 7, events 1)\n")
    expect(File.readlines(File.join(@dir, "all.ndjson")).size).to eq(8)
    again = ledger_cli("export", wal, "--out", "all.ndjson", chdir: @dir)
    expect(again.exit_code).to eq(1)
    expect(again.err).to include("all.ndjson exists and is not empty")
  end

  it "imports an export into a new ledger with ids, causation, times and Symbol values exactly as they were" do
    facts = write_ledger(File.join(@dir, "source.wal"))
    File.write(File.join(@dir, "source.ndjson"), ledger_cli("export", "source.wal", chdir: @dir).out)
    ran = ledger_cli("import", "copy.wal", "source.ndjson", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to eq("source.ndjson: 4 facts; imported 4 (orders 3, events 1), 0 already in copy.wal (same id)\n")
    expect(stored_facts(File.join(@dir, "copy.wal"))).to eq(facts)
    expect(stored_facts(File.join(@dir, "copy.wal")).first.value).to eq(state: :open, tags: [:rush, "gift"], n: 2**70)
  end

  it "is idempotent by fact id: importing the same file again adds nothing and writes no byte" do
    File.write(File.join(@dir, "all.ndjson"), ledger_cli("export", wal, chdir: @dir).out)
    first = ledger_cli("import", "target.wal", "all.ndjson", "--json", chdir: @dir)
    expect(first.json).to include("imported" => 8, "already_present" => 0)
    bytes = File.binread(File.join(@dir, "target.wal"))

    second = ledger_cli("import", "target.wal", "all.ndjson", "--json", chdir: @dir)
    expect(second.exit_code).to eq(0)
    expect(second.json).to include("facts_in_file" => 8, "imported" => 0, "already_present" => 8)
    expect(File.binread(File.join(@dir, "target.wal"))).to eq(bytes)
  end

  it "stops at a bad line, naming it, with nothing of the file applied" do
    write_ledger(File.join(@dir, "target.wal"))
    lines = ledger_cli("export", wal, chdir: @dir).out.lines
    File.write(File.join(@dir, "bad.ndjson"), lines.first(3).join + "{\"id\":\"x\",\"store\":\"items\"\n" + lines[3..].join)
    before = tree_state(@dir)
    ran = ledger_cli("import", "target.wal", "bad.ndjson", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    expect(ran.err).to eq("igniter-ledger import: bad.ndjson line 4: not a fact (not strict JSON); nothing was imported\n")
    expect(tree_state(@dir)).to eq(before)
    expect(ledger_cli("import", "new.wal", "bad.ndjson", chdir: @dir).exit_code).to eq(1)
    expect(File.exist?(File.join(@dir, "new.wal"))).to be(false)
  end

  it "refuses lines without an id, with a value_hash that does not match, and ids the ledger holds with other content" do
    line = ledger_cli("export", wal, chdir: @dir).out.lines.first
    doc = JSON.parse(line)
    cases = {
      "the fact has no id" => doc.except("id"),
      "does not match the value" => doc.merge("value_hash" => "0" * 64),
      "is in the ledger already, with other content" => doc.merge("causation" => "someone-else")
    }
    cases.each do |problem, body|
      File.write(File.join(@dir, "one.ndjson"), "#{JSON.generate(body)}\n")
      ran = ledger_cli("import", wal, "one.ndjson", chdir: @dir)

      expect(ran.exit_code).to eq(1)
      expect(ran.err).to include("one.ndjson line 1: ").and include(problem)
    end
  end

  it "reads the export from stdin with FILE -" do
    ran = ledger_cli("import", "piped.wal", "-", chdir: @dir, stdin_data: ledger_cli("export", wal, chdir: @dir).out)

    expect(ran.exit_code).to eq(0), ran.err
    expect(stored_facts(File.join(@dir, "piped.wal")).map(&:id)).to eq(expected.map { |f| f["id"] })
  end

  it "imports into a segmented ledger, new or existing, keeping each store's codec" do
    File.write(File.join(@dir, "all.ndjson"), ledger_cli("export", wal, chdir: @dir).out)
    ran = ledger_cli("import", "seg", "all.ndjson", "--segmented", chdir: @dir)
    expect(ran.exit_code).to eq(0), ran.err
    expect(stored_facts(File.join(@dir, "seg")).map(&:id)).to eq(expected.map { |f| f["id"] })

    root = fixture_copy(@dir, "segmented_compact_delta_zlib")
    ran = ledger_cli("import", root, "all.ndjson", "--codec", "json_crc32", chdir: @dir)
    expect(ran.exit_code).to eq(0), ran.err
    codecs = ledger_cli("verify", root, "--json", chdir: @dir).json["files"].to_h { |f| [f["store"], f["codec"]] }
    expect(codecs).to eq("gps" => "compact_delta_zlib", "items" => "json_crc32", "events" => "json_crc32")
  end

  it "calls --segmented or --codec for an existing WAL a usage mistake" do
    ran = ledger_cli("import", wal, "-", "--codec", "json_crc32", chdir: @dir)

    expect(ran.exit_code).to eq(64)
    expect(ran.err).to include("is a WAL: --segmented and --codec are for segmented ledgers")
  end

  it "writes the same WAL bytes on both paths from the same export" do
    write_ledger(File.join(@dir, "source.wal"))
    File.write(File.join(@dir, "source.ndjson"), ledger_cli("export", "source.wal", chdir: @dir).out)
    here = ledger_cli("import", "here.wal", "source.ndjson", chdir: @dir)
    there = ledger_cli("import", "there.wal", "source.ndjson", chdir: @dir, env: other_path_env)

    expect([here.exit_code, there.exit_code]).to eq([0, 0])
    expect(File.binread(File.join(@dir, "here.wal"))).to eq(File.binread(File.join(@dir, "source.wal")))
    expect(File.binread(File.join(@dir, "there.wal"))).to eq(File.binread(File.join(@dir, "source.wal")))
  end
end
