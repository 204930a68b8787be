# frozen_string_literal: true

require "tmpdir"

# The table of doc/bitemporal.md, case by case. One key, five writes:
#
#   t1  "a"   valid_time Jan 1
#   t2  "b"   valid_time Mar 1
#   t3  "c"   valid_time Feb 1   (back-dated: recorded after "b")
#   t4  "b2"  valid_time Mar 1   (a correction of "b")
#   t5  "d"   no valid_time      (valid from when it was recorded, t5)
#
# Times in the table are names: t0 is just before t1, jan1..apr1 are 2026
# dates, dec31 is 2025-12-31, t5 is the fifth fact's transaction time,
# far is a valid time after every fact.
module BitemporalTable
  VALID = {
    dec31: Time.utc(2025, 12, 31).to_f, jan1: Time.utc(2026, 1, 1).to_f, jan15: Time.utc(2026, 1, 15).to_f,
    feb1: Time.utc(2026, 2, 1).to_f, feb15: Time.utc(2026, 2, 15).to_f, mar1: Time.utc(2026, 3, 1).to_f,
    mar15: Time.utc(2026, 3, 15).to_f, apr1: Time.utc(2026, 4, 1).to_f
  }.freeze
  WRITES = [["a", :jan1], ["b", :mar1], ["c", :feb1], ["b2", :mar1], ["d", nil]].freeze

  # [as_of, valid_at, value read]
  READS = [
    [nil, :dec31, nil], [nil, :jan1, "a"], [nil, :jan15, "a"], [nil, :feb15, "c"], [nil, :mar1, "b2"],
    [nil, :apr1, "b2"], [nil, :t5, "d"], [nil, :far, "d"], [nil, nil, "d"],
    [:t0, :apr1, nil], [:t1, :feb15, "a"], [:t2, :feb15, "a"], [:t2, :apr1, "b"], [:t3, :feb15, "c"],
    [:t3, :apr1, "b"], [:t4, :apr1, "b2"], [:t4, :far, "b2"], [:t2, nil, "b"], [:t3, nil, "c"]
  ].freeze

  # [as_of, valid_from, valid_to, values of the valid-time history]
  HISTORIES = [
    [nil, :dec31, :far, %w[a c b2 d]], [nil, :jan15, :mar15, %w[a c b2]], [nil, :feb1, :feb1, %w[c]],
    [nil, :feb15, :feb15, %w[c]], [nil, :mar1, nil, %w[b2 d]], [nil, nil, :dec31, []], [nil, :t5, nil, %w[d]],
    [nil, nil, :jan1, %w[a]], [:t2, :dec31, nil, %w[a b]], [:t3, :jan15, :mar15, %w[a c b]],
    [:t0, :dec31, nil, []]
  ].freeze
end

RSpec.describe Igniter::Store::IgniterStore, "bitemporal reads" do

  def write_table(store)
    times = BitemporalTable::WRITES.map do |value, valid|
      sleep 0.002 # distinct transaction times, so as_of t_n means "after the n-th write"
      store.write(store: :prices, key: "p1", value: value, valid_time: valid && BitemporalTable::VALID.fetch(valid)).transaction_time
    end
    BitemporalTable::VALID.merge(t0: times[0] - 1, t1: times[0], t2: times[1], t3: times[2], t4: times[3], t5: times[4],
                far: times[4] + 86_400)
  end

  def time(names, name)
    name && names.fetch(name)
  end

  shared_examples "the table" do
    BitemporalTable::READS.each do |as_of, valid_at, expected|
      it "reads #{expected.inspect} as of #{as_of || "now"} valid at #{valid_at || "(none)"}" do
        expect(store.read(store: :prices, key: "p1", as_of: time(names, as_of), valid_at: time(names, valid_at)))
          .to eq(expected)
      end
    end

    BitemporalTable::HISTORIES.each do |as_of, from, to, expected|
      it "has the valid-time history #{expected.inspect} for #{from || "-∞"}..#{to || "∞"} as of #{as_of || "now"}" do
        facts = store.history(store: :prices, key: "p1", as_of: time(names, as_of),
                              valid_from: time(names, from), valid_to: time(names, to))
        expect(facts.map(&:value)).to eq(expected)
      end
    end

    it "answers time_travel(at:, valid_at:) as read(as_of:, valid_at:)" do
      expect(store.time_travel(store: :prices, key: "p1", at: names[:t3], valid_at: names[:apr1])).to eq("b")
      expect(store.time_travel(store: :prices, key: "p1", at: names[:t3])).to eq("c")
    end

    it "takes Times as well as seconds" do
      expect(store.read(store: :prices, key: "p1", valid_at: Time.at(names[:feb15]))).to eq("c")
      expect(store.history(store: :prices, key: "p1", valid_from: Time.at(names[:mar1])).map(&:value)).to eq(%w[b2 d])
    end

    it "returns the fact itself through fact_valid_at" do
      fact = store.fact_valid_at(store: :prices, key: "p1", valid_at: names[:feb15])
      expect([fact.value, fact.valid_time]).to eq(["c", BitemporalTable::VALID[:feb1]])
      expect(store.fact_valid_at(store: :prices, key: "nope", valid_at: names[:feb15])).to be_nil
    end
  end

  context "in the engine's store" do
    subject(:store) { ledger_store }

    let!(:names) { write_table(store) }

    include_examples "the table"

    it "refuses a valid time that is not a time, naming it" do
      expect { store.read(store: :prices, key: "p1", valid_at: "soon") }
        .to raise_error(ArgumentError, /valid_at must be seconds since the epoch .*"soon"/)
      expect { store.history(store: :prices, key: "p1", valid_to: Float::NAN) }
        .to raise_error(ArgumentError, /valid_to must be seconds since the epoch/)
      expect { store.fact_valid_at(store: :prices, key: "p1", valid_at: nil) }
        .to raise_error(ArgumentError, "valid_at is required (seconds since the epoch or a Time)")
    end

    it "refuses valid bounds without a key, and together with since" do
      expect { store.history(store: :prices, valid_from: 0) }
        .to raise_error(ArgumentError, "history with valid_from/valid_to needs a key")
      expect { store.history(store: :prices, key: "p1", since: 0, valid_from: 0) }
        .to raise_error(ArgumentError, /takes since \(transaction time\) or valid_from\/valid_to/)
    end

    it "applies coercions to valid-time reads" do
      store.register_coercion(:prices) { |value, _| value.upcase }
      expect(store.read(store: :prices, key: "p1", valid_at: names[:feb15])).to eq("C")
      expect(store.history(store: :prices, key: "p1", valid_from: names[:mar1]).map(&:value)).to eq(%w[B2 D])
    end
  end

  context "after a reopen of a file ledger (the index rebuilt by replay)", not_on_postgres: "a file ledger" do
    around { |example| Dir.mktmpdir { |dir| @dir = dir; example.run } }

    let!(:names) do
      written = Igniter::Store::IgniterStore.open(File.join(@dir, "ledger.wal"))
      write_table(written).tap { written.close }
    end
    let(:store) { Igniter::Store::IgniterStore.open(File.join(@dir, "ledger.wal")) }

    after { store.close }

    include_examples "the table"
  end
end
