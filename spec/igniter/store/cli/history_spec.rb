# frozen_string_literal: true

require_relative "support/ledger_cli"
require "time"

RSpec.describe "igniter-ledger history", :ledger_cli do
  let!(:wal) { File.join(fixture_copy(@dir, "file_backend"), "ledger.wal") }
  let(:k0) { JSON.parse(File.read(fixture_path("file_backend", "expected.json"))).select { |f| f["key"] == "k0" } }

  it "lists a key's facts in order: time, id, causation, value" do
    ran = ledger_cli("history", wal, "items", "k0", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    lines = ran.out.lines
    expect(lines.first).to eq("items/k0: 3 facts\n")
    k0.zip(lines.drop(1)).each do |fact, line|
      expect(line).to start_with("#{Time.at(Rational(fact["transaction_time"]).round(6)).utc.iso8601(6)}  id #{fact["id"]}  " \
                                 "causation #{fact["causation"] || "-"}")
    end
    expect(lines[1]).to include('{"title":"Buy milk","status":"open","n":1,"x":1.5}')
  end

  it "answers as of a time given in epoch seconds or ISO-8601, as JSON" do
    # Between the second and the third fact (about 80 µs apart).
    between = (k0[1]["transaction_time"] + k0[2]["transaction_time"]) / 2
    [between.to_s, Time.at(Rational(between)).utc.iso8601(6)].each do |as_of|
      ran = ledger_cli("history", wal, "items", "k0", "--as-of", as_of, "--json", chdir: @dir)

      expect(ran.exit_code).to eq(0), ran.err
      expect(ran.json["facts"].map { |f| f["id"] }).to eq(k0.first(2).map { |f| f["id"] })
    end
  end

  it "keeps Symbol values recognizable in JSON (the WAL body's symbols member)" do
    path = File.join(@dir, "sym.wal")
    Igniter::Store.open(path).tap { |s| s.write(store: :orders, key: "o1", value: { state: :open }) }.close
    fact = ledger_cli("history", path, "orders", "o1", "--json", chdir: @dir).json["facts"].first

    expect(fact["value"]).to eq("state" => "open")
    expect(fact["symbols"]).to eq([%w[value state]])
  end

  it "says so for a key without facts, exit 0" do
    ran = ledger_cli("history", wal, "items", "nope", chdir: @dir)

    expect(ran.exit_code).to eq(0)
    expect(ran.out).to eq("items/nope: 0 facts\n")
  end

  it "refuses a time that is neither epoch seconds nor ISO-8601 with a zone, and a missing KEY (exit 64)" do
    ["yesterday", "2026-11-26T10:00:00"].each do |bad|
      ran = ledger_cli("history", wal, "items", "k0", "--as-of", bad, chdir: @dir)

      expect(ran.exit_code).to eq(64)
      expect(ran.err).to include("--as-of #{bad.inspect}: give seconds since the epoch or an ISO-8601 time with a zone")
    end
    ran = ledger_cli("history", wal, "items", chdir: @dir)
    expect(ran.exit_code).to eq(64)
    expect(ran.err).to include("missing KEY")
  end
end
