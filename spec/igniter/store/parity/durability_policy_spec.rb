# frozen_string_literal: true

# FileBackend.new accepts and refuses the same durability policies on both
# paths: `group:` is nil or any positive Integer (a Bignum just never comes
# due), `interval:` nil or any Numeric that is >= 0 (Rational, a Bignum,
# Infinity and 1e30 seconds mean "never by time"). The native path used to
# refuse nil members and Bignum groups, and to panic on huge intervals.
RSpec.describe "FileBackend durability policies on both paths" do
  accepted = [
    { group: nil, interval: 1 },
    { group: 3, interval: nil },
    { group: 2**64 },
    { group: 2**64, interval: Float::INFINITY },
    { group: 4, interval: 1e30 },
    { interval: 2**1100 },
    { interval: Rational(1, 3) },
    { group: 1, interval: -0.0 }
  ]
  refused = [
    {}, { group: nil }.merge(extra: 1), { group: 0 }, { group: -(2**64) }, { group: 1.5 },
    { group: "2" }, { interval: -1 }, { interval: Float::NAN }, { interval: "1" }, :sometimes
  ]

  def write_and_reopen(dir, policy)
    path = File.join(dir, "ledger.wal")
    backend = Igniter::Store::FileBackend.new(path, durability: policy)
    backend.write_fact(Igniter::Store::Fact.build(store: :s, key: "k", value: { n: 1 }))
    given = backend.durability
    backend.close
    reopened = Igniter::Store::FileBackend.new(path)
    keys = reopened.replay.map(&:key)
    reopened.close
    [given, keys]
  end

  accepted.each do |policy|
    it "accepts durability: #{policy.inspect} and keeps what it writes" do
      with_tmpdir do |dir|
        given, keys = write_and_reopen(dir, policy)
        expect(given).to eq(policy)
        expect(given).to be_frozen
        expect(keys).to eq(["k"])
      end
    end
  end

  refused.each do |policy|
    it "refuses durability: #{policy.inspect} with an ArgumentError naming it" do
      with_tmpdir do |dir|
        expect { Igniter::Store::FileBackend.new(File.join(dir, "ledger.wal"), durability: policy) }
          .to raise_error(ArgumentError, "unknown durability policy: #{policy.inspect} " \
                                         "(expected :flush, :fsync or {group: Integer, interval: seconds})")
        expect(Dir.children(dir)).to be_empty
      end
    end
  end
end
