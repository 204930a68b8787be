# frozen_string_literal: true

require_relative "segmented_spec_helper"

RSpec.describe Igniter::Store::Codecs do
  include LedgerSpec::Segmented

  def fixture_facts(codec)
    JSON.parse(File.read(fixture_path("segmented_#{codec}.expected.json"))).map { |h| Igniter::Store::Fact.from_h(h) }
  end

  def fixture_segment(codec)
    Dir.glob(fixture_path("segmented_#{codec}", "wal", "**", "segment-000001.wal")).first
  end

  def encode_all(codec, facts)
    instance = described_class.build(codec)
    io = StringIO.new(+"".b)
    facts.each { |f| instance.encode_fact(io, f) }
    instance.flush(io)
    io.string
  end

  def without_id(facts)
    facts.map { |f| f.to_h.reject { |k, _| k == :id } }
  end

  it "builds codecs by name and alias and rejects unknown names" do
    expect(described_class.build(:json_crc32).name).to eq("json_crc32")
    expect(described_class.build("compact_delta").name).to eq("compact_delta_zlib")
    expect(described_class.build(:compact_delta_zlib)).to be_a(described_class::CompactDelta)
    expect { described_class.build(:bogus) }.to raise_error(ArgumentError, "Unknown codec: :bogus")
    expect(described_class::CompactDelta::BATCH_SIZE).to eq(64)
  end

  %w[json_crc32 compact_delta_zlib].each do |codec|
    it "re-encodes the 0.5.2 #{codec} fixture facts to the identical segment bytes" do
      expect(encode_all(codec, fixture_facts(codec))).to eq(File.binread(fixture_segment(codec)))
    end

    it "decodes the 0.5.2 #{codec} fixture segment to what 0.5.2 replayed" do
      facts = File.open(fixture_segment(codec), "rb") { |io| described_class.build(codec).decode(io) }
      expect(without_id(facts)).to eq(without_id(fixture_facts(codec)))
    end

    it "detects #{codec} from the first frame" do
      expect(described_class.detect(fixture_segment(codec))).to eq(codec)
    end
  end

  it "keeps json ids exactly and gives compact facts fresh ids" do
    json = File.open(fixture_segment("json_crc32"), "rb") { |io| described_class.build(:json_crc32).decode(io) }
    expect(json.map(&:id)).to eq(fixture_facts("json_crc32").map(&:id))
    compact = File.open(fixture_segment("compact_delta_zlib"), "rb") { |io| described_class.build(:compact_delta).decode(io) }
    expect(compact.map(&:id) & fixture_facts("compact_delta_zlib").map(&:id)).to eq([])
  end

  describe described_class::CompactDelta do
    it "writes the header on the first fact and batches of 64" do
      codec = described_class.new
      io = StringIO.new(+"".b)
      first = codec.encode_fact(io, reading("k0"))
      expect(first).to eq(io.string.bytesize)
      expect(first).to be > 0
      expect(codec.buffered_count).to eq(1)
      62.times { |i| expect(codec.encode_fact(io, reading("k#{i + 1}"))).to eq(0) }
      expect(codec.encode_fact(io, reading("k63"))).to be > 0
      expect(codec.buffered_count).to eq(0)
      expect(parse_frame_bytes(io.string).size).to eq(2)
      expect(parse_frame_bytes(io.string)[1][:body].unpack1("N")).to eq(64)
    end

    it "compresses batches with zlib level 9 and stores the key dictionary once" do
      codec = described_class.new
      io = StringIO.new(+"".b)
      codec.encode_fact(io, reading("a"))
      codec.flush(io)
      codec.encode_fact(io, reading("a"))
      codec.flush(io)
      bodies = parse_frame_bytes(io.string).map { |f| f[:body] }
      expect(bodies[1].byteslice(4, 2).bytes).to eq([0x78, 0xDA])
      second = Igniter::Store::Codecs::MessagePack.unpack(Zlib::Inflate.inflate(bodies[2].byteslice(4..)))
      expect(second["km"]).to eq({})
      expect(second["e"].first[0]).to eq(0)
    end

    it "round-trips false, nil, true, Floats, Strings and Symbols (as Strings)" do
      io = StringIO.new(+"".b)
      codec = described_class.new
      values = [{ on: false, gone: nil, t: 42.0, unit: "celsius", s: :sym }, { on: true, gone: 1, t: -1.5, unit: "k", s: "x" }]
      values.each_with_index { |v, i| codec.encode_fact(io, reading("k#{i}", value: v)) }
      codec.flush(io)
      io.rewind
      decoded = described_class.new.decode(io).map(&:value)
      expect(decoded).to eq([{ gone: nil, on: false, s: "sym", t: 42.0, unit: "celsius" },
                             { gone: 1, on: true, s: "x", t: -1.5, unit: "k" }])
      expect(decoded.first).to have_key(:gone)
    end

    it "recomputes value_hash like Fact.build for losslessly round-tripped values" do
      fact = reading("k", value: { a: 1, b: "two" })
      io = StringIO.new(+"".b)
      codec = described_class.new
      codec.encode_fact(io, fact)
      codec.flush(io)
      io.rewind
      expect(described_class.new.decode(io).first.value_hash).to eq(fact.value_hash)
    end

    it "raises NoMethodError for a non-Hash value before writing anything" do
      io = StringIO.new(+"".b)
      expect { described_class.new.encode_fact(io, reading("k", value: 5)) }.to raise_error(NoMethodError)
      expect(io.string).to eq("")
    end
  end

  describe Igniter::Store::Codecs::MessagePack do
    it "round-trips every type the codecs use in the msgpack gem's byte forms" do
      mp = described_class
      expect(mp.pack(nil) + mp.pack(true) + mp.pack(false)).to eq("\xC0\xC3\xC2".b)
      expect(mp.pack(127)).to eq("\x7F".b)
      expect(mp.pack(128)).to eq("\xCC\x80".b)
      expect(mp.pack(-33)).to eq("\xD0\xDF".b)
      expect(mp.pack(1_795_675_821_461)).to eq("\xCF".b + [1_795_675_821_461].pack("Q>"))
      expect(mp.pack(1.5)).to eq("\xCB".b + [1.5].pack("G"))
      expect(mp.pack("ab")).to eq("\xA2ab".b)
      value = { "km" => { "0" => "k" }, "e" => [[0, -5, [1.5, "x" * 40, nil, [true], { "n" => -70_000 }]]] }
      expect(mp.unpack(mp.pack(value))).to eq(value)
    end

    it "reads bin strings and float32 and rejects truncated input" do
      expect(described_class.unpack("\xC4\x02hi".b)).to eq("hi")
      expect(described_class.unpack("\xCA".b + [1.5].pack("g"))).to eq(1.5)
      expect { described_class.unpack("\x92\x01".b) }.to raise_error(described_class::MalformedFormatError)
      expect { described_class.unpack("\xC1".b) }.to raise_error(described_class::MalformedFormatError)
    end
  end
end
