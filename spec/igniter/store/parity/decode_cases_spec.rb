# frozen_string_literal: true

# The checked-in decode table (spec/fixtures/decode_cases.json) fed to the
# Ruby half of the rules (FactDecode, on both runs) and to the decoder of the
# path under test (`Fact._load`: Rust on the native run). The Rust half reads
# the same table in ext/ledger_core/tests/decode_cases.rs.
RSpec.describe "Fact body decode rules, table-driven" do
  table = JSON.parse(File.read(File.join(LedgerSpec::ROOT, "spec/fixtures/decode_cases.json")))
  uuid = /\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/
  text_members = %w[id key value_hash causation].freeze

  define_method(:body_of) do |kase|
    kase.key?("body_hex") ? [kase["body_hex"]].pack("H*") : kase["body"].b
  end

  # The table's shorthand for a value too deep to spell out in the fixture.
  define_method(:expand) do |typed|
    if typed.is_a?(Hash) && typed.key?("nested_arrays")
      (1...typed["nested_arrays"]).reduce({ "array" => [] }) { |inner, _| { "array" => [inner] } }
    else
      typed
    end
  end

  define_method(:expect_members) do |members, decoded|
    decoded.each do |name, want|
      got = members.fetch(name.to_sym)
      if name == "id" && want == "generated"
        expect(got).to match(uuid)
      elsif name == "store"
        expect(got).to eq(want.to_sym)
      elsif text_members.include?(name)
        expect(got).to eq(want)
        expect(got.encoding).to eq(Encoding::UTF_8) if got
      else
        expect(LedgerSpec::Differential::Transcript.typed(got)).to eq(expand(want)), "member #{name}"
      end
    end
  end

  table.fetch("cases").each do |kase|
    context kase.fetch("name") do
      if kase.key?("decoded")
        it "decodes under FactDecode (the Ruby half)" do
          members, reason = Igniter::Store::FactDecode.decode_with_reason(body_of(kase))
          expect(reason).to be_nil
          expect_members(members, kase["decoded"])
          expect(members.values_at(:value, :producer, :derivation)).to all(be_frozen)
          # The pure replay takes decoded members as they are (Fact.from_decoded).
          expect(Igniter::Store::JsonCanon.stored_form?(members)).to be(true)
        end

        it "decodes under this path's decoder (Fact._load)" do
          fact = Igniter::Store::Fact._load(body_of(kase))
          expect(fact).to be_frozen
          expect_members(fact.to_h, kase["decoded"])
        end
      else
        it "is skipped by FactDecode, naming the rule" do
          expect(Igniter::Store::FactDecode.decode_with_reason(body_of(kase))).to eq([nil, kase["error"]])
        end

        it "is refused by this path's decoder with the same reason" do
          expect { Igniter::Store::Fact._load(body_of(kase)) }
            .to raise_error(ArgumentError, "marshal data is not a fact: #{kase["error"]}")
        end
      end
    end
  end
end
