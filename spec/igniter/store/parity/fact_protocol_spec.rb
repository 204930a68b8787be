# frozen_string_literal: true

# The native Fact is a full stand-in for the pure Struct: the same public
# methods, and the same answers to Struct's protocol. Each probe runs here and
# in a child process on the other path; the transcripts must be identical.
module LedgerSpec
  module FactProtocol
    # A fact with fixed identity and times, so that inspect and to_h compare.
    SETUP = <<~'RUBY'
      F = Igniter::Store::Fact unless defined?(F)
      fact = F.from_h(id: "00000000-0000-4000-8000-00000000000a", store: :orders, key: "o-1",
                      value: { "status" => "open", n: [1, 2.5, nil], deep: { x: :sym } },
                      value_hash: "ab" * 32, causation: "c-1", transaction_time: 1_700_000_000.5,
                      valid_time: 3, schema_version: 2**70, producer: { "system" => "spec" })
      other = F.from_h(fact.to_h.merge(value: 1))
      other_f = F.from_h(fact.to_h.merge(value: 1.0))
    RUBY

    # [label, Ruby expression] evaluated with `fact`, `other`, `other_f`, `F` bound.
    PROBES = [
      ["readers", "F.members.map { |m| fact.public_send(m) }"],
      ["aliases", "[fact.timestamp, fact.term]"],
      ["to_a", "fact.to_a"], ["deconstruct", "fact.deconstruct"], ["values", "fact.values"],
      ["to_h", "fact.to_h"], ["to_h block", "fact.to_h { |k, v| [k.to_s, v.class.name] }"],
      ["members", "fact.members"], ["class members", "F.members"], ["keyword_init?", "F.keyword_init?"],
      ["size", "[fact.size, fact.length]"],
      ["[] by Symbol", "fact[:key]"], ["[] by String", "fact['value']"], ["[] by index", "[fact[0], fact[-1], fact[2.7]]"],
      ["[] unknown member", "fact[:nope]"], ["[] too large", "fact[11]"], ["[] too small", "fact[-12]"],
      ["[] nil", "fact[nil]"], ["[] true", "fact[true]"],
      ["[]= frozen", "fact[:value] = 1"], ["[]= unknown", "fact[:nope] = 1"], ["setter frozen", "fact.value = 2"],
      ["values_at", "fact.values_at(0, 2, 1..2)"], ["dig", "[fact.dig(:value, :deep, :x), fact.dig(:nope), fact.dig(3, :n, 1)]"],
      ["each", "a = []; r = fact.each { |v| a << v }; [r.equal?(fact), a]"],
      ["each enumerator", "fact.each.size"],
      ["each_pair", "fact.each_pair.to_a"], ["select", "fact.select { |v| v.is_a?(String) }"],
      ["filter_map", "fact.filter_map { |v| v if v.is_a?(Float) }"], ["select args", "fact.select(1)"],
      ["deconstruct_keys nil", "fact.deconstruct_keys(nil)"],
      ["deconstruct_keys some", "fact.deconstruct_keys([:store, :key])"],
      ["deconstruct_keys stops at unknown", "fact.deconstruct_keys([:store, :nope, :key])"],
      ["deconstruct_keys too many", "fact.deconstruct_keys(Array.new(12, :id))"],
      ["deconstruct_keys type", "fact.deconstruct_keys('x')"],
      ["pattern match hash", "case fact; in { store: :orders, key: String => k } then k; end"],
      ["pattern match array", "case fact; in [id, :orders, *] then id; end"],
      ["== self copy", "[fact == F.from_h(fact.to_h), fact.eql?(F.from_h(fact.to_h))]"],
      ["== 1 vs 1.0", "[other == other_f, other.eql?(other_f)]"],
      ["== other class", "[fact == fact.to_h, fact == nil]"],
      ["hash agrees with eql?", "[fact.hash == F.from_h(fact.to_h).hash, fact.hash == other.hash]"],
      ["usable as Hash key", "{ fact => 1 }[F.from_h(fact.to_h)]"],
      ["inspect", "fact.inspect"], ["to_s", "fact.to_s"],
      ["frozen", "[fact.frozen?, fact.value.frozen?, fact.producer.frozen?, fact.key.frozen?, fact.id.frozen?]"],
      ["dup", "d = fact.dup; [d == fact, d.equal?(fact), d.frozen?, d.value.equal?(fact.value)]"],
      ["clone", "c = fact.clone; [c == fact, c.equal?(fact), c.frozen?]"],
      ["clone freeze false", "fact.clone(freeze: false).frozen?"],
      ["clone bad keyword", "fact.clone(nope: 1)"],
      ["Marshal round trip", "m = Marshal.load(Marshal.dump(fact)); [m == fact, m.frozen?, m.value]"],
      ["Marshal bytes", "Marshal.dump(fact).unpack1('H*')"],
      ["Marshal of a list", "Marshal.load(Marshal.dump([fact, other])) == [fact, other]"],
      ["_load garbage", "F._load('{\"key\":1}')"],
      ["keyword construction", "n = F.new(**fact.to_h); [n == fact, n.frozen?]"],
      ["[] construction", "F[**fact.to_h] == fact"],
      ["keyword construction defaults", "n = F.new(store: 's'); [n.key, n.value, n.transaction_time, n.schema_version, n.id.size]"],
      ["keyword construction unknown", "F.new(store: :s, bogus: 1)"],
      ["keyword construction positional", "F.new(1)"],
      ["keyword construction without store", "F.new(key: 'k')"],
      ["is_a? Enumerable", "fact.is_a?(Enumerable)"],
      ["public instance methods", "(F.public_instance_methods - Object.public_instance_methods).sort"],
      ["public class methods", "(F.public_methods - Class.public_instance_methods).sort"]
    ].freeze

    # Prints one JSON line per probe: its typed result or its exception.
    SCRIPT = <<~RUBY
      require "igniter-ledger"
      require "json"
      require #{File.expand_path("../../../support/differential/transcript.rb", __dir__).inspect}
      #{SETUP}
      JSON.parse(ARGV.fetch(0)).each do |label, code|
        result = begin
          LedgerSpec::Differential::Transcript.typed(eval(code))
        rescue Exception => e
          LedgerSpec::Differential::Transcript.error(e)
        end
        puts JSON.generate([label, result])
      end
    RUBY
  end
end

RSpec.describe "Fact protocol parity (native Fact = pure Struct)" do
  let(:other_env) { Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV }

  def transcript(env = {})
    out, err, status = run_ruby(LedgerSpec::FactProtocol::SCRIPT, env: env,
                                                                  args: [JSON.generate(LedgerSpec::FactProtocol::PROBES)])
    raise "probe script failed: #{err}" unless status.success?

    out.lines.map { |line| JSON.parse(line) }
  end

  it "answers every probe exactly as the other path does" do
    require_native_library!
    here = transcript(Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV)
    there = transcript(other_env)
    expect(here.size).to eq(LedgerSpec::FactProtocol::PROBES.size)
    differing = here.zip(there).reject { |mine, theirs| mine == theirs }
    expect(differing).to eq([])
  end

  it "loads a Marshal dump made on the other path, and the other path loads this one's" do
    require_native_library!
    fact = eval("#{LedgerSpec::FactProtocol::SETUP}; fact") # rubocop:disable Security/Eval
    out, err, status = run_ruby(<<~RUBY, env: other_env, args: [Marshal.dump(fact).unpack1("H*")])
      require "igniter-ledger"
      #{LedgerSpec::FactProtocol::SETUP}
      theirs = Marshal.load([ARGV.fetch(0)].pack("H*"))
      print Marshal.dump([fact, theirs == fact, theirs.value]).unpack1("H*")
    RUBY
    expect(status).to be_success, err
    their_fact, they_loaded_ours, value = Marshal.load([out].pack("H*")) # rubocop:disable Security/MarshalLoad
    expect(their_fact).to eq(fact)
    expect(their_fact).to be_frozen
    expect(they_loaded_ours).to be(true)
    expect(value).to eq(status: "open", n: [1, 2.5, nil], deep: { x: :sym })
  end

  context "on this path" do
    let(:fact) do
      Igniter::Store::Fact.build(store: :orders, key: "o-1", value: { "status" => "open" }, producer: { system: :x })
    end

    it "reads members by name and index, as a Struct does" do
      expect(fact[:store]).to eq(:orders)
      expect(fact["key"]).to eq("o-1")
      expect(fact[3]).to eq(status: "open")
      expect { fact[:nope] }.to raise_error(NameError, "no member 'nope' in struct")
      expect { fact[11] }.to raise_error(IndexError, "offset 11 too large for struct(size:11)")
    end

    it "pattern-matches by keys and by position" do
      matched = case fact
                in { store: :orders, key:, value: { status: } } then [key, status]
                end
      expect(matched).to eq(["o-1", "open"])
      expect(fact.deconstruct).to eq(fact.to_a)
      expect(fact.deconstruct_keys([:key])).to eq(key: "o-1")
    end

    it "compares with == per member (1 == 1.0) and eql? strictly" do
      int = Igniter::Store::Fact.from_h(fact.to_h.merge(value: 1))
      float = Igniter::Store::Fact.from_h(fact.to_h.merge(value: 1.0))
      expect(int).to eq(float)
      expect(int).not_to eql(float)
      expect(int.hash).to eq(Igniter::Store::Fact.from_h(int.to_h).hash)
    end

    it "copies into equal, distinct, frozen facts (dup, clone, Marshal, keyword construction)" do
      copies = [fact.dup, fact.clone, fact.clone(freeze: false), Marshal.load(Marshal.dump(fact)),
                Igniter::Store::Fact.new(**fact.to_h)]
      copies.each do |copy|
        expect(copy).to eq(fact)
        expect(copy).not_to equal(fact)
        expect(copy).to be_frozen
      end
      expect(Marshal.load(Marshal.dump(fact)).producer).to eq(system: :x)
    end

    it "refuses setters because facts are frozen" do
      expect { fact.value = 1 }.to raise_error(FrozenError, /can't modify frozen Igniter::Store::Fact/)
      expect { fact[:value] = 1 }.to raise_error(FrozenError)
    end
  end
end
