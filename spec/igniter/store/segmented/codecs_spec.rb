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

  # 0.5.2's reader (spec 03 §6.3): header frame, then per batch merge km and
  # chain the deltas; it knows nothing of t and h.
  def read_as_0_5_2(bytes)
    frames = parse_frame_bytes(bytes).map { |f| f[:body] }
    header = described_class::MessagePack.unpack(frames.shift)
    keys = {}
    ts = nil
    frames.flat_map do |body|
      batch = described_class::MessagePack.unpack(Zlib::Inflate.inflate(body.byteslice(4..)))
      batch["km"].each { |idx, key| keys[idx.to_i] = key }
      batch["e"].map do |idx, delta, vals|
        ts = ts.nil? ? delta : ts + delta
        [keys[idx], ts / 1000.0, header["fields"].zip(vals).to_h]
      end
    end
  end

  it "re-encodes the 0.5.2 json_crc32 fixture facts to the identical segment bytes" do
    expect(encode_all("json_crc32", fixture_facts("json_crc32"))).to eq(File.binread(fixture_segment("json_crc32")))
  end

  it "re-encodes the 0.5.2 compact fixture to its header and batch members byte for byte, plus t and h" do
    ours = parse_frame_bytes(encode_all("compact_delta_zlib", fixture_facts("compact_delta_zlib")))
    theirs = parse_frame_bytes(File.binread(fixture_segment("compact_delta_zlib")))
    expect(ours.first[:body]).to eq(theirs.first[:body])
    expect(ours.size).to eq(2)
    inflate = ->(frame) { Zlib::Inflate.inflate(frame[:body].byteslice(4..)) }
    old = inflate.(theirs[1])
    new = inflate.(ours[1])
    expect(old.getbyte(0)).to eq(0x82) # {km, e}
    expect(new.getbyte(0)).to eq(0x84) # {km, e, t, h}
    expect(new.byteslice(1, old.bytesize - 1)).to eq(old.byteslice(1..))
    extra = described_class::MessagePack.unpack(new)
    expect(extra["t"]).to eq((fixture_facts("compact_delta_zlib").first.transaction_time * 1000).round)
    expect(extra["h"]).to eq(described_class::MessagePack.unpack(theirs.first[:body]))
    expect(read_as_0_5_2(encode_all("compact_delta_zlib", fixture_facts("compact_delta_zlib"))))
      .to eq(read_as_0_5_2(File.binread(fixture_segment("compact_delta_zlib"))))
  end

  %w[json_crc32 compact_delta_zlib].each do |codec|

    it "decodes the 0.5.2 #{codec} fixture segment to what 0.5.2 replayed" do
      facts = File.open(fixture_segment(codec), "rb") { |io| described_class.build(codec).decode(io) }
      expect(without_id(facts)).to eq(without_id(fixture_facts(codec)))
    end

    it "detects #{codec} from the first frame, and from the next one when the first is damaged" do
      bytes = File.binread(fixture_segment(codec))
      expect(described_class.detect(bytes)).to eq(codec)
      damaged = bytes.dup
      damaged.setbyte(2, damaged.getbyte(2) ^ 0x01)
      expect(described_class.detect(damaged)).to eq(codec) if parse_frame_bytes(bytes).size > 1
      expect(described_class.detect("garbage".b)).to be_nil
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

    it "compresses batches with zlib level 9; every batch has t, the first the header, km the keys of the batch before too" do
      codec = described_class.new
      io = StringIO.new(+"".b)
      a = reading("a")
      codec.encode_fact(io, a, flush: true)
      b = reading("b")
      codec.encode_fact(io, b)
      codec.encode_fact(io, reading("a"), flush: true)
      codec.encode_fact(io, reading("a"), flush: true)
      bodies = parse_frame_bytes(io.string).map { |f| f[:body] }
      expect(bodies[1].byteslice(4, 2).bytes).to eq([0x78, 0xDA])
      mp = Igniter::Store::Codecs::MessagePack
      batches = bodies.drop(1).map { |body| mp.unpack(Zlib::Inflate.inflate(body.byteslice(4..))) }
      expect(batches.map(&:keys)).to eq([%w[km e t h], %w[km e t], %w[km e t]])
      expect(batches[0]["h"]).to eq(mp.unpack(bodies[0]))
      expect(batches.map { |batch| batch["km"] }).to eq([{ "0" => "a" }, { "0" => "a", "1" => "b" }, { "1" => "b" }])
      expect(batches[1]["e"].map(&:first)).to eq([1, 0])
      expect(batches[1]["t"]).to eq((b.transaction_time * 1000).round)
    end

    it "takes a fact back when its bytes cannot be written, so a retry writes it once" do
      failing = Class.new(StringIO) do
        attr_accessor :fail_next

        def write(bytes)
          raise Errno::ENOSPC, "test" if fail_next

          super
        end
      end
      codec = described_class.new
      io = failing.new(+"".b)
      io.fail_next = true
      expect { codec.encode_fact(io, reading("k0"), flush: true) }.to raise_error(Errno::ENOSPC)
      expect([codec.buffered_count, io.string]).to eq([0, ""])
      io.fail_next = false
      codec.encode_fact(io, reading("k0"), flush: true)
      io.fail_next = true
      expect { codec.encode_fact(io, reading("k1"), flush: true) }.to raise_error(Errno::ENOSPC)
      expect(codec.buffered_count).to eq(0)
      io.fail_next = false
      codec.encode_fact(io, reading("k2"), flush: true)
      facts = described_class.salvage(io.string).facts
      expect(facts.map(&:key)).to eq(%w[k0 k2])
      batch = Igniter::Store::Codecs::MessagePack.unpack(Zlib::Inflate.inflate(parse_frame_bytes(io.string)[2][:body].byteslice(4..)))
      expect(batch["km"]).to eq("0" => "k0", "1" => "k2")
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
