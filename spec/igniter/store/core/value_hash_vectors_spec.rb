# frozen_string_literal: true

# value_hash = lowercase hex SHA-256 of the canonical JSON of the value (spec 01 §2.4).
# Known answers: 0.5.2's own fixture, the §2.4 table, and extra canonical texts whose
# SHA-256 is computed here from the literal canonical string.
RSpec.describe "Fact value_hash known-answer vectors" do
  def value_hash(value, store: :vectors, key: "k")
    Igniter::Store::Fact.build(store: store, key: key, value: value).value_hash
  end

  describe "igniter-ledger 0.5.2 fixture (value_hash_vectors.json)" do
    let(:vectors) { JSON.parse(File.read(fixture_path("value_hash_vectors.json"))) }

    it "is a non-empty list of self-consistent vectors" do
      expect(vectors).not_to be_empty
      vectors.each do |v|
        expect(Digest::SHA256.hexdigest(v.fetch("canonical_json"))).to eq(v.fetch("value_hash"))
      end
    end

    it "reproduces every hash from the parsed value with String keys" do
      vectors.each do |v|
        expect(value_hash(JSON.parse(v["value_json"]))).to eq(v["value_hash"]), v["value_json"]
      end
    end

    it "reproduces every hash from the parsed value with Symbol keys" do
      vectors.each do |v|
        expect(value_hash(JSON.parse(v["value_json"], symbolize_names: true))).to eq(v["value_hash"]), v["value_json"]
      end
    end
  end

  describe "spec 01 §2.4 table" do
    {
      "{}" => [{}, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"],
      "{b: 2, a: 1}" => [{ b: 2, a: 1 }, "43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777"],
      "{status: :open}" => [{ status: :open }, "bc99066a8b813e763201c114d47dd9300710ba0acf1c4e522ae78e2c5c473b87"],
      "{\"x\" => [3, {z: 1, y: 2}, nil, true]}" => [
        { "x" => [3, { z: 1, y: 2 }, nil, true] }, "583dd45d89987732144a894c40a829100ca908c88c76b536c9534dead50e0fe7"
      ],
      "floats and integers" => [
        { t: 1.0, u: 1, v: 1e20, w: 0.0001, x: 1e-5, y: -0.0 }, "fd78806c15204685528f85bda1a8d6709112b66edc38c7ff13c83a4064df292d"
      ],
      "escapes" => [{ name: "é\n\"q\"/" }, "9e8d05c719fe9bfd6ad48f54147a4d0b1242f9029a3b51387f48f898c34f6842"],
      "[1, \"a\", :b]" => [[1, "a", :b], "26b81fd1c1a0118bd3b8950abe57bc0b9116925fe9bb2035b078ac53c4fa0271"]
    }.each do |label, (value, sha)|
      it "hashes #{label} to #{sha[0, 12]}…" do
        expect(value_hash(value)).to eq(sha)
      end
    end
  end

  describe "canonical JSON texts" do
    {
      "a 1.0e+20 Float" => [{ v: 1.0e20 }, '{"v":1.0e+20}'],
      "a 1.0e-05 Float" => [{ v: 1.0e-05 }, '{"v":1.0e-05}'],
      "negative zero" => [{ v: -0.0 }, '{"v":-0.0}'],
      "Ruby Float formatting at every boundary" => [
        { f: [1.0e15, 1.0e16, 123_456_789_012_345.0, 123_456_789_012_345.6, 9.9e-05, 5.0e-324,
              1.7976931348623157e+308, 0.1, 100.0, 0.0001, 1.234567890123456e+15, -2.5e-10, 1.0 / 3] },
        '{"f":[1.0e+15,1.0e+16,123456789012345.0,123456789012345.6,9.9e-05,5.0e-324,1.7976931348623157e+308,' \
        "0.1,100.0,0.0001,1.234567890123456e+15,-2.5e-10,0.3333333333333333]}"
      ],
      "big and boundary Integers" => [
        { n: 2**70, m: -(2**100), i: 9_223_372_036_854_775_807, j: 9_223_372_036_854_775_808 },
        '{"i":9223372036854775807,"j":9223372036854775808,"m":-1267650600228229401496703205376,"n":1180591620717411303424}'
      ],
      "unicode keys and values, raw" => [
        { "ünï" => "日本語 ✓", "é" => "\u2028/\u007f" },
        "{\"é\":\"\u2028/\u007f\",\"ünï\":\"日本語 ✓\"}"
      ],
      "control characters" => [
        { s: "\u0000\u0001\u001f\b\f\n\r\t\"\\" },
        '{"s":"\u0000\u0001\u001f\b\f\n\r\t\"\\\\"}'
      ],
      "nested arrays and hashes" => [
        [[1, [2, [3, []]]], { "b" => [{ "d" => 1, "c" => 2 }] }],
        '[[1,[2,[3,[]]]],{"b":[{"c":2,"d":1}]}]'
      ],
      "Symbol values" => [{ status: :open, tags: %i[a b] }, '{"status":"open","tags":["a","b"]}'],
      "bytewise key order" => [
        { "b" => 1, "B" => 2, "a" => 3, "_" => 4, "1" => 5, "é" => 6 },
        '{"1":5,"B":2,"_":4,"a":3,"b":1,"é":6}'
      ],
      "Integer keys" => [{ 1 => "a", 10 => "b", 2 => "c" }, '{"1":"a","10":"b","2":"c"}'],
      "a bare String" => ["str", '"str"'],
      "a bare Integer" => [42, "42"],
      "nil" => [nil, "null"],
      "true" => [true, "true"],
      "a bare Float" => [1.5, "1.5"],
      "a bare Symbol" => [:sym, '"sym"'],
      "other objects as their to_s" => [{ t: Time.at(0).utc, r: Rational(1) }, '{"r":"1/1","t":"1970-01-01 00:00:00 UTC"}']
    }.each do |label, (value, canonical)|
      it "hashes #{label} as #{canonical[0, 40]}" do
        expect(value_hash(value)).to eq(Digest::SHA256.hexdigest(canonical))
      end
    end

    it "has canonical texts that match Ruby's JSON.generate (vector self-check)" do
      expect(JSON.generate({ "s" => "\u0000\u0001\u001f\b\f\n\r\t\"\\" })).to eq('{"s":"\u0000\u0001\u001f\b\f\n\r\t\"\\\\"}')
      expect(JSON.generate([1.0e15, 1.0e-05, -0.0, 2**70])).to eq("[1.0e+15,1.0e-05,-0.0,1180591620717411303424]")
    end
  end

  describe "properties" do
    it "does not depend on store, key or other fact fields" do
      a = value_hash({ a: 1 }, store: :one, key: "x")
      b = Igniter::Store::Fact.build(store: "two", key: 9, value: { "a" => 1 }, causation: "c", valid_time: 5,
                                     producer: { system: :p }).value_hash

      expect(a).to eq(b)
    end

    it "does not depend on Hash insertion order at any depth" do
      expect(value_hash({ o: { z: [{ q: 1, p: 2 }], a: nil }, b: 1 }))
        .to eq(value_hash({ "b" => 1, "o" => { "a" => nil, "z" => [{ "p" => 2, "q" => 1 }] } }))
    end

    it "distinguishes 1 from 1.0 and Strings from numbers" do
      expect(value_hash({ n: 1 })).not_to eq(value_hash({ n: 1.0 }))
      expect(value_hash({ n: 1 })).not_to eq(value_hash({ n: "1" }))
    end

    it "transcodes Strings in other encodings to UTF-8 first" do
      expect(value_hash({ s: "café".encode(Encoding::ISO_8859_1) })).to eq(value_hash({ s: "café" }))
    end

    it "lets the last of two keys that collide after to_s win" do
      expect(value_hash({ a: 1, "a" => 2 })).to eq(Digest::SHA256.hexdigest('{"a":2}'))
    end

    it "is 64 lowercase hex characters" do
      expect(value_hash({ any: "thing" })).to match(/\A\h{64}\z/).and eq(value_hash({ any: "thing" }).downcase)
    end
  end
end
