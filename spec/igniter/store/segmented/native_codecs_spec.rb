# frozen_string_literal: true

require_relative "segmented_spec_helper"

# The codecs' byte work runs in Rust on the native path (Codecs::Native,
# Codecs::NativeCompactEncoder) and in Ruby on the pure path. These examples
# pin that both sides write the same bytes and read back the same facts,
# including damaged and unusual segments. Each runs on both suite paths; the
# cross-path ones also drive the other path in a subprocess.
RSpec.describe Igniter::Store::Codecs, "native and pure codec halves" do
  include LedgerSpec::Segmented

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  let(:codec_names) { %w[json_crc32 compact_delta_zlib] }

  # Facts with every value shape the codecs handle: nested Hashes and Arrays,
  # long and non-ASCII Strings, Symbols, 64-bit integers, negative numbers,
  # out-of-order times (negative deltas), 40 keys (a 16-bit key map) and
  # 150 facts per store (three batches).
  let(:writer) do
    <<~'RUBY'
      require "igniter-ledger"
      root = ARGV.fetch(0)
      b = Igniter::Store::SegmentedFileBackend.new(root, time_bucket: :none,
            codec: { "gps" => :compact_delta, "log" => :json_crc32 })
      150.times do |i|
        value = { lat: 33.9 + i / 1000.0, on: i.even?, tag: :"t#{i % 3}", n: nil, big: 2**63 - 1 - i,
                  neg: -70_000 * i, name: "näme-#{"x" * (i % 40)}", list: [i, "s", [nil, 1.5]],
                  nested: { "deep" => { level: i % 5, ok: true } } }
        %w[gps log].each do |store|
          b.write_fact(Igniter::Store::Fact.from_h(
            id: "00000000-0000-4000-8000-#{format("%012d", i)}", store: store, key: "k#{i % 40}",
            value: value, value_hash: "0" * 64, causation: nil,
            transaction_time: 1_700_000_000.125 + i - (i % 7) * 0.5, valid_time: nil, schema_version: 1,
            producer: nil, derivation: nil))
        end
      end
      b.close
    RUBY
  end

  # Prints the replayed facts of a directory as JSON (compact ids are fresh
  # on every decode, so they are dropped).
  let(:reader) do
    <<~'RUBY'
      require "igniter-ledger"
      require "json"
      facts = Igniter::Store::SegmentedFileBackend.new(ARGV.fetch(0)).replay
      rows = facts.map { |f| h = f.to_h; h.delete(:id) if f.store == :gps; h }
      puts JSON.generate([Igniter::Store::NATIVE, rows.map(&:inspect)])
    RUBY
  end

  def env_for(path)
    path == :pure ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV
  end

  def run_on(path, script, *args)
    out, err, status = run_ruby(script, env: env_for(path), args: args)
    expect(status).to be_success, err
    out
  end

  def relative_files(root)
    Dir.glob(File.join(root, "wal", "**", "segment-*.wal")).sort.map { |p| p.delete_prefix(root) }
  end

  it "writes byte-identical segments for both codecs on both paths, and either path replays both the same" do
    require_native_library!
    roots = { pure: File.join(dir, "pure"), native: File.join(dir, "native") }
    roots.each { |path, root| run_on(path, writer, root) }
    files = roots.transform_values { |root| relative_files(root) }
    expect(files[:pure].size).to eq(2)
    expect(files[:native]).to eq(files[:pure])
    files[:pure].each { |rel| expect(File.binread(roots[:native] + rel)).to eq(File.binread(roots[:pure] + rel)) }

    replays = roots.values.product(%i[pure native]).map { |root, path| JSON.parse(run_on(path, reader, root).lines.last) }
    expect(replays.map(&:first)).to eq([false, true, false, true])
    expect(replays.map(&:last).uniq.size).to eq(1)
    expect(replays.first.last.size).to eq(300)
  end

  it "round-trips the rich values through each codec in this process" do
    root = File.join(dir, "here")
    run_on(Igniter::Store::NATIVE ? :native : :pure, writer, root)
    facts = open_backend(root).replay
    gps = facts.select { |f| f.store == :gps }
    log = facts.select { |f| f.store == :log }
    expect([gps.size, log.size]).to eq([150, 150])
    expect(log.first.value).to include(tag: :t0, big: 2**63 - 1, nested: { deep: { level: 0, ok: true } })
    expect(gps.first.value).to include(tag: "t0", big: 2**63 - 1, neg: 0, list: [0, "s", [nil, 1.5]],
                                       nested: { deep: { level: 0, ok: true } })
    expect(gps.map(&:key).tally.values.tally).to eq(4 => 30, 3 => 10)
    expect(gps.map(&:value_hash)).to eq(gps.map { |f| Igniter::Store::JsonCanon.value_hash(f.value) })
  end

  describe "a compact segment cut at every byte" do
    # 3 batches: 64 + 64 + 12 facts.
    let(:bytes) do
      codec = described_class.build(:compact_delta)
      io = StringIO.new(+"".b)
      140.times { |i| codec.encode_fact(io, reading("k#{i % 9}", value: { x: i, s: "v#{i}" })) }
      codec.flush(io)
      io.string
    end

    let(:frame_ends) do
      ends = []
      pos = 0
      while pos < bytes.bytesize
        pos += bytes.byteslice(pos, 4).unpack1("N") + 8
        ends << pos
      end
      ends
    end

    it "keeps exactly the facts of the whole batches before the cut" do
      expect(frame_ends.size).to eq(4)
      whole = { 0 => 0, 1 => 0, 2 => 64, 3 => 128, 4 => 140 }
      (0..bytes.bytesize).step(7).to_a.push(*frame_ends, bytes.bytesize - 1).each do |cut|
        scan = described_class.salvage("compact_delta_zlib", bytes.byteslice(0, cut))
        done = frame_ends.count { |e| e <= cut }
        good = done.zero? ? 0 : frame_ends[done - 1]
        expect(scan.facts.size).to eq(whole.fetch(done)), "cut at #{cut}"
        expect(scan.frames.sum { |_, length, _| length }).to eq(good)
        expect(scan.spans).to eq(cut == good ? [] : [[good, cut - good, :torn]])
      end
    end

    it "loses only the facts of the frame a flipped byte lands in (none for the header)" do
      starts = [0] + frame_ends[0...-1]
      per_frame = [[], (0...64).to_a, (64...128).to_a, (128...140).to_a]
      (0...bytes.bytesize).step(11).each do |at|
        damaged = bytes.dup
        damaged.setbyte(at, damaged.getbyte(at) ^ 0x40)
        scan = described_class.salvage("compact_delta_zlib", damaged)
        hit = frame_ends.index { |e| at < e }
        expect(scan.facts.map { |f| f.value[:x] }).to eq((0...140).to_a - per_frame[hit]), "flip at #{at}"
        expect(scan.spans.map(&:first)).to eq([starts[hit]])
      end
    end
  end

  # Runs on the native path: damages a segment at random (a changed byte with
  # the CRC fixed up, a changed byte inside the inflated batch recompressed,
  # a cut body, a cut file) and decodes it with the Rust decoder and with the
  # Ruby one; prints how many outcomes (facts without ids, good bytes, tail,
  # or the exception class) differ.
  # Runs on the native path: damages segments of both codecs at random —
  # bodies re-framed under a valid CRC (a changed byte, a changed byte inside
  # the inflated batch recompressed, a cut body), and raw damage the CRC
  # catches (flipped, inserted and deleted bytes, a cut file) — and salvages
  # each with the Rust half and with the Ruby one; prints how many outcomes
  # (facts without ids, kept frames, damaged spans) differ, and how many the
  # Rust half decided itself.
  let(:differential) do
    <<~'RUBY'
      require "igniter-ledger"
      require "stringio"
      codecs = Igniter::Store::Codecs
      wire = Igniter::Store::WireProtocol
      rng = Random.new(Integer(ARGV.fetch(0)))
      rounds = Integer(ARGV.fetch(1))
      outcome = lambda do |scan|
        [scan.facts.map { |f| f.to_h.tap { |h| h.delete(:id) }.inspect }, scan.frames, scan.spans]
      end
      ruby = { json_crc32: ->(b) { codecs::JsonCrc32.ruby_salvage(b) },
               compact_delta: ->(b) { codecs::CompactSalvage.new(b).scan } }
      facts = Array.new(140) do |i|
        Igniter::Store::Fact.build(store: :s, key: "k#{i % 9}",
                                   value: { x: i, s: "v#{i}", f: i * 0.5, l: [i, nil, true], h: { "a" => i } })
      end
      differ = 0
      in_rust = 0
      # Segments of both codecs as this gem writes them, and 0.5.2's compact
      # fixture (batches without t and h).
      legacy = File.binread(Dir.glob(File.join(ARGV.fetch(2), "**", "segment-000001.wal")).first)
      [[:json_crc32, nil], [:compact_delta, nil], [:compact_delta, legacy]].each do |codec, given|
        c = codecs.build(codec)
        io = StringIO.new(+"".b)
        facts.each_with_index { |f, i| c.encode_fact(io, f, flush: (i % 23).zero?) }
        c.flush(io)
        io = StringIO.new(given.dup) if given
        base = wire.scan(io.string).first
        rounds.times do
          bodies = base.dup
          rng.rand(1..2).times do
            i = rng.rand(bodies.size)
            body = bodies[i].dup
            case rng.rand(3)
            when 0 then body.setbyte(rng.rand(body.bytesize), rng.rand(256)) unless body.empty?
            when 1
              payload = codec == :compact_delta && i.positive? ? (Zlib::Inflate.inflate(body.byteslice(4..)) rescue nil) : nil # rubocop:disable Style/RescueModifier
              if payload && !payload.empty?
                payload.setbyte(rng.rand(payload.bytesize), rng.rand(256))
                body = body.byteslice(0, 4) + Zlib::Deflate.deflate(payload, 9)
              else
                body = body.byteslice(0, rng.rand(body.bytesize + 1))
              end
            else body = body.byteslice(0, rng.rand(body.bytesize + 1))
            end
            bodies[i] = body
          end
          bytes = bodies.map { |b| wire.encode_frame(b) }.join
          bytes = io.string.dup if rng.rand(2).zero?
          rng.rand(0..3).times do
            at = rng.rand(bytes.bytesize)
            case rng.rand(3)
            when 0 then bytes.setbyte(at, bytes.getbyte(at) ^ (1 << rng.rand(8)))
            when 1 then bytes.insert(at, rng.bytes(rng.rand(1..9)))
            else bytes = bytes.byteslice(0, at) + bytes.byteslice(at + rng.rand(1..9)..).to_s
            end
          end
          bytes = bytes.byteslice(0, bytes.bytesize - rng.rand(6)) if rng.rand(4).zero?
          bytes = bytes.b
          in_rust += 1 if codec == :json_crc32 || codecs::Native.salvage_compact(bytes)
          differ += 1 unless outcome.call(codecs.salvage(codec, bytes)) == outcome.call(ruby[codec].call(bytes))
        end
      end
      puts "#{differ} of #{3 * rounds} differ, #{in_rust} salvaged in Rust"
    RUBY
  end

  it "salvages randomly damaged segments of both codecs exactly as the Ruby half does" do
    require_native_library!
    out = run_on(:native, differential, RSpec.configuration.seed.to_s, "150",
                 fixture_path("segmented_compact_delta_zlib"))
    differ, in_rust = out.lines.last.scan(/\d+/).values_at(0, 2).map(&:to_i)
    expect(differ).to eq(0), out
    expect(in_rust).to be > 300, out
  end

  it "refuses forged MessagePack counts and deep nesting with MalformedFormatError" do
    mp = described_class::MessagePack
    expect { mp.unpack("\xDD\xFF\xFF\xFF\xF0".b) }.to raise_error(mp::MalformedFormatError, /truncated/)
    expect { mp.unpack("\xDF\x00\x01\x00\x00\x01".b) }.to raise_error(mp::MalformedFormatError, /truncated/)
    expect { mp.unpack(("\x91" * 600 + "\x01").b) }.to raise_error(mp::MalformedFormatError, /nested/)
    expect(mp.unpack(("\x91" * 511 + "\x01").b).flatten).to eq([1])
  end

  it "reads a compact batch with a value only the Ruby decoder handles (a bin string) on both paths" do
    header = described_class::MessagePack.pack("store" => "s", "fields" => %w[b n], "valid_time" => nil,
                                               "schema_version" => 1)
    batch = "\x82".b + described_class::MessagePack.pack("km") + described_class::MessagePack.pack("0" => "k") +
            described_class::MessagePack.pack("e") + "\x91\x93\x00".b + described_class::MessagePack.pack(1_000) +
            "\x92\xC4\x02hi\x07".b
    body = [1].pack("N") + Zlib::Deflate.deflate(batch, Zlib::BEST_COMPRESSION)
    segment = Igniter::Store::WireProtocol.encode_frame(header) + Igniter::Store::WireProtocol.encode_frame(body)
    scan = described_class.salvage("compact_delta_zlib", segment)
    expect([scan.frames.sum { |_, length, _| length }, scan.spans]).to eq([segment.bytesize, []])
    expect(scan.facts.map { |f| [f.key, f.transaction_time, f.value] }).to eq([["k", 1.0, { b: "hi", n: 7 }]])
  end

  it "skips a CRC-valid batch that is not zlib as undecodable, keeping the batch after it, on both paths" do
    header = described_class::MessagePack.pack("store" => "s", "fields" => ["n"])
    codec = described_class.build(:compact_delta)
    io = StringIO.new(+"".b)
    codec.encode_fact(io, reading("a", value: { n: 1 }), flush: true)
    good = io.string.byteslice(parse_frame_bytes(io.string)[1][:offset]..)
    junk = Igniter::Store::WireProtocol.encode_frame([1].pack("N") + "not zlib")
    segment = Igniter::Store::WireProtocol.encode_frame(header) + junk + good
    scan = described_class.salvage("compact_delta_zlib", segment)
    expect(scan.spans).to eq([[header.bytesize + 8, junk.bytesize, :undecodable]])
    expect(scan.facts.map { |f| [f.key, f.value] }).to eq([["a", { n: 1 }]])
    expect(described_class::Native.salvage_compact(segment)).not_to be_nil if Igniter::Store::NATIVE
  end

  describe "a value the compact codec cannot hold" do
    it "is refused at write_fact with ArgumentError, leaving the store usable" do
      b = open_backend(dir, codec: :compact_delta, time_bucket: :none)
      b.write_fact(reading("a", value: { x: 1 }))
      expect { b.write_fact(reading("b", value: { x: 2**64 })) }.to raise_error(ArgumentError, /MessagePack/)
      b.write_fact(reading("c", value: { x: 3 }))
      b.close
      expect(replayed(dir).map { |f| [f.key, f.value[:x]] }).to eq([["a", 1], ["c", 3]])
    end

    it "stores any other object as its to_s, like the json codec" do
      at = Time.at(0).utc
      b = open_backend(dir, codec: :compact_delta, time_bucket: :none)
      b.write_fact(reading("a", value: { at: at }))
      b.close
      expect(open_backend(dir).replay.first.value).to eq(at: at.to_s)
    end
  end

  it "decodes both codecs to the same facts as the fixture on this path" do
    codec_names.each do |codec|
      path = Dir.glob(fixture_path("segmented_#{codec}", "wal", "**", "segment-000001.wal")).first
      scan = described_class.salvage(codec, File.binread(path))
      expect([scan.facts.size, scan.frames.sum { |_, length, _| length }, scan.spans]).to eq([12, File.size(path), []])
    end
  end
end
