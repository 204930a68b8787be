# frozen_string_literal: true

require "tmpdir"

# The table of doc/bitemporal.md (spec/support/bitemporal_table.rb), case by
# case, on the engine's store (in memory or PostgreSQL) and on a reopened
# file ledger.
RSpec.describe Igniter::Store::IgniterStore, "bitemporal reads" do
  def write_table(store)
    BitemporalTable.write(store)
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
