# frozen_string_literal: true

require_relative "console_helpers"

RSpec.describe "Console time coordinates and diffs" do
  coordinates = Igniter::Ledger::Console::TimeCoordinates
  diff = Igniter::Ledger::Console::Diff

  describe Igniter::Ledger::Console::TimeCoordinates do
    it "takes epoch seconds exactly" do
      expect(coordinates.parse("as_of", "1796229276.5")).to eq(1_796_229_276.5)
      expect(coordinates.parse("as_of", " 17e8 ")).to eq(1.7e9)
    end

    it "reads an ISO-8601 time as the whole span of its last digit" do
      base = Time.utc(2026, 12, 2, 16, 34, 36).to_r
      {
        "2026-12-02T16:34:36.146244Z" => base + Rational(146_245, 1_000_000),
        "2026-12-02T16:34:36Z" => base + 1,
        "2026-12-02T16:34:36.5" => base + Rational(6, 10),
        "2026-12-02T16:34" => base - 36 + 60,
        "2026-12-02T17:34:36+01:00" => base + 1
      }.each do |text, bound|
        parsed = coordinates.parse("as_of", text)
        expect(parsed.to_r).to be < bound, text
        expect(parsed.next_float.to_r).to be >= bound, text
      end
    end

    it "includes a fact stamped inside the microsecond the page showed" do
      store = Igniter::Store.memory
      300.times do |i|
        fact = store.write(store: :t, key: "k#{i}", value: i)
        shown = Time.at(fact.transaction_time.to_r).utc.iso8601(6)
        expect(coordinates.parse("as_of", shown)).to be >= fact.transaction_time
      end
    end

    it "refuses anything else, naming the parameter" do
      expect { coordinates.parse("valid_at", "soon") }.to raise_error(
        Igniter::Ledger::Console::BadRequest,
        'valid_at must be seconds since the epoch or an ISO-8601 time (e.g. 2026-11-26T07:49:20.5Z), got "soon"'
      )
      expect(coordinates.parse("as_of", "")).to be_nil
    end
  end

  describe Igniter::Ledger::Console::Diff do
    it "reports added, removed and changed fields, recursing into Hashes" do
      expect(diff.between({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2, d: 4 }, e: 5 })).to eq([
        { path: "b.d", change: "changed", from: 3, to: 4 },
        { path: "e", change: "added", from: nil, to: 5 },
        { path: "a", change: "removed", from: 1, to: nil }
      ])
    end

    it "compares Arrays and scalars as whole values" do
      expect(diff.between([1, 2], [1, 3])).to eq([{ path: "(value)", change: "changed", from: [1, 2], to: [1, 3] }])
      expect(diff.between({ a: [1] }, { a: "x" })).to eq([{ path: "a", change: "changed", from: [1], to: "x" }])
      expect(diff.between("same", "same")).to eq([])
    end

    it "shows a first version as every field added" do
      expect(diff.initial({ a: 1 })).to eq([{ path: "a", change: "added", from: nil, to: 1 }])
      expect(diff.initial("text")).to eq([{ path: "(value)", change: "added", from: nil, to: "text" }])
    end
  end
end
