# frozen_string_literal: true

# The table of doc/bitemporal.md through the envelope ops with ISO-8601
# times, and through Igniter::Store.remote, against a running server.
RSpec.describe "Bitemporal reads of a remote store", :servers do
  include LedgerSpec::AdapterHelpers

  let(:server) { start_server }
  let(:names) { BitemporalTable.write(server.store) }
  let(:remote) { Igniter::Store.remote(server.bind_address).tap { |r| tracked_clients << r } }

  def time(name)
    name && names.fetch(name)
  end

  it "answers every read of the table" do
    BitemporalTable::READS.each do |as_of, valid_at, expected|
      expect(remote.read(store: :prices, key: "p1", as_of: time(as_of), valid_at: time(valid_at)))
        .to eq(expected), "as_of #{as_of.inspect} valid_at #{valid_at.inspect}"
    end
    expect(remote.time_travel(store: :prices, key: "p1", at: names[:t3], valid_at: names[:apr1])).to eq("b")
  end

  it "answers every valid-time history of the table" do
    BitemporalTable::HISTORIES.each do |as_of, from, to, expected|
      facts = remote.history(store: :prices, key: "p1", as_of: time(as_of), valid_from: time(from), valid_to: time(to))
      expect(facts.map(&:value)).to eq(expected), "#{from.inspect}..#{to.inspect} as of #{as_of.inspect}"
    end
  end

  it "takes ISO-8601 valid times" do
    names
    expect(remote.read(store: :prices, key: "p1", valid_at: "2026-02-15T00:00:00Z")).to eq("c")
    expect(remote.history(store: :prices, key: "p1", valid_from: "2026-03-01", valid_to: nil).map(&:value)).to eq(%w[b2 d])
    expect { remote.read(store: :prices, key: "p1", valid_at: "soon") }
      .to raise_error(ArgumentError, /valid_at must be seconds since the epoch or an ISO-8601 time/)
  end
end
