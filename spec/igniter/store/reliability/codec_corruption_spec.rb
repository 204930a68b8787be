# frozen_string_literal: true

# Randomized corruption of what the segment codecs decode (the Ruby-level
# counterpart of the cargo-fuzz targets): MessagePack on arbitrary bytes, and
# json_crc32 / compact_delta_zlib segments with raw damage (caught by the
# frame CRC) or with damaged bodies re-framed under a valid CRC (reaching the
# body decoders). Salvage returns exactly the facts of the frames the damage
# did not touch — before and after it — and never raises: no stack overflow,
# no huge allocation, no crash.
RSpec.describe "Segment codec decoders on corrupted input" do
  include LedgerSpec::Reliability

  let(:codecs) { Igniter::Store::Codecs }
  let(:msgpack) { Igniter::Store::Codecs::MessagePack }
  let(:rng) { Random.new(RSpec.configuration.seed) }

  def facts(count)
    Array.new(count) do |i|
      Igniter::Store::Fact.build(store: :gps, key: "v#{i % 3}", value: { lat: i * 1.5, name: "p#{i}", tags: [i, "x"] }) # compact_delta stores no Symbols
    end
  end

  # A whole segment of +name+ as bytes; compact writes one batch per fact.
  def segment_bytes(name, facts)
    codec = codecs.build(name)
    io = StringIO.new(+"".b)
    codec.start_segment(io, store: "gps")
    facts.each do |fact|
      codec.encode_fact(io, fact)
      codec.flush(io)
    end
    io.string
  end

  # Damages +bytes+ once; returns the damaged bytes and the byte ranges of
  # the original that the damage touched (inclusive; an insertion at i is the
  # empty range i..i-1, which touches only a frame it lands inside of; one
  # that could have been made at lo..hi as well is hi..lo-1).
  def mutate(bytes)
    data = bytes.b.dup
    touched = []
    case rng.rand(4)
    when 0
      rng.rand(1..4).times do
        i = rng.rand(data.bytesize)
        data.setbyte(i, data.getbyte(i) ^ rng.rand(1..255))
        touched << (i..i)
      end
    when 1
      i = rng.rand(data.bytesize)
      data = data.byteslice(0, i)
      touched << (i..bytes.bytesize)
    when 2
      i = rng.rand(data.bytesize)
      inserted = rng.bytes(rng.rand(1..8))
      data.insert(i, inserted)
      # The same bytes come from inserting at any of lo..hi (the inserted run
      # slides over equal neighbours); it touches a frame only if every one of
      # those positions lies inside it.
      n = inserted.bytesize
      lo = i
      lo -= 1 while lo.positive? && data.getbyte(lo - 1) == data.getbyte(lo - 1 + n)
      hi = i
      hi += 1 while hi < bytes.bytesize && data.getbyte(hi) == data.getbyte(hi + n)
      touched << (hi..(lo - 1))
    else
      i = rng.rand(data.bytesize)
      n = rng.rand(1..8)
      data = data.byteslice(0, i) + data.byteslice(i + n..).to_s
      # Likewise a deletion: removing the n bytes at any of lo..hi leaves the
      # same bytes when the run slides over equal neighbours, so it touches a
      # frame only if each of those n-byte runs reaches into it.
      lo = i
      lo -= 1 while lo.positive? && bytes.getbyte(lo - 1) == bytes.getbyte(lo - 1 + n)
      hi = i
      hi += 1 while hi + n < bytes.bytesize && bytes.getbyte(hi) == bytes.getbyte(hi + n)
      touched << (hi..(lo + n - 1))
    end
    [data, touched]
  end

  # Frames whose facts salvage can give when only +intact+ frames survive:
  # every intact json frame; an intact compact batch when the header is known
  # (the header frame or the first batch, which repeats it) and its key is
  # (named by the batch that introduced it or by the one after). The facts
  # of facts(n) use keys v0, v1, v2, introduced by batches 1, 2, 3.
  def kept_frames(name, intact)
    return intact if name == "json_crc32"

    header = intact.include?(0) || intact.include?(1)
    intact.select do |frame|
      introduced = ((frame - 1) % 3) + 1
      frame.positive? && header && (intact.include?(introduced) || intact.include?(introduced + 1))
    end
  end

  # The frame ranges of a pristine segment.
  def frame_ranges(bytes)
    parse_frame_bytes(bytes).map { |f| f[:offset]...(f[:offset] + f[:size]) }
  end

  def signature(fact)
    [fact.key, fact.value]
  end

  it "MessagePack.unpack returns or raises MalformedFormatError on 2,000 random and damaged inputs" do
    valid = msgpack.pack({ "km" => { "0" => "k" }, "e" => [[0, 12, [1.5, "x", [1, 2], { "a" => nil }]]] })
    odd = {}
    2_000.times do |i|
      input = i.even? ? rng.bytes(rng.rand(0..40)) : mutate(valid).first
      begin
        msgpack.unpack(input)
      rescue msgpack::MalformedFormatError
        nil
      rescue Exception => e # rubocop:disable Lint/RescueException
        odd[input] = "#{e.class}: #{e.message[0, 80]}"
      end
    end
    expect(odd).to be_empty
  end

  it "refuses MessagePack nesting beyond its limit and container counts beyond the input, without allocating them" do
    expect { msgpack.unpack("\x91".b * 100_000 + "\x01".b) }
      .to raise_error(msgpack::MalformedFormatError, /nested deeper than #{msgpack::MAX_DEPTH}/)
    expect { msgpack.unpack("\xDD\x7F\xFF\xFF\xFF".b) }.to raise_error(msgpack::MalformedFormatError, /truncated/)
    expect { msgpack.unpack("\xDF\x7F\xFF\xFF\xFF\x01".b) }.to raise_error(msgpack::MalformedFormatError, /truncated/)
    expect(msgpack.unpack(msgpack.pack([[[[1]]]]))).to eq([[[[1]]]])
  end

  { "json_crc32" => 0, "compact_delta_zlib" => 1 }.each do |name, header_frames|
    it "#{name}: raw damage costs exactly the facts of the frames it touched (300 random cases)" do
      originals = facts(8)
      pristine = segment_bytes(name, originals)
      ranges = frame_ranges(pristine)
      clean = codecs.salvage(name, pristine)
      expect(clean.facts.map { |f| signature(f) }).to eq(originals.map { |f| signature(f) })
      expect(clean.spans).to eq([])

      failures = Array.new(300) { mutate(pristine) }.filter_map do |damaged, touched|
        scan = codecs.salvage(name, damaged)
        intact = ranges.each_with_index.reject do |range, _|
          touched.any? { |t| t.begin < range.end && t.end >= range.begin }
        end
        expected = kept_frames(name, intact.map(&:last)).map { |i| signature(originals[i - header_frames]) }
        covered = (scan.frames + scan.spans).sort_by(&:first).sum { |_, length, _| length }
        next if scan.facts.map { |f| signature(f) } == expected && covered == damaged.bytesize

        "#{damaged.bytesize} bytes, touched #{touched}: #{scan.facts.size} facts (expected #{expected.size}), " \
          "spans #{scan.spans}"
      end
      expect(failures).to be_empty
    end

    it "#{name}: a damaged body under a valid CRC never raises and costs no other frame's facts (300 random cases)" do
      originals = facts(6)
      bodies = parse_frame_bytes(segment_bytes(name, originals)).map { |f| f[:body] }
      odd = []
      300.times do
        damaged = bodies.dup
        victim = rng.rand(damaged.size)
        damaged[victim] = mutate(damaged[victim]).first
        begin
          got = codecs.salvage(name, damaged.map { |b| raw_frame(b) }.join).facts.map { |f| signature(f) }
          next if victim < header_frames # a header altered under a valid CRC alters every value

          want = originals.map { |f| signature(f) }
          before = victim - header_frames
          after = want.size - before - 1
          ok = got.first(before) == want.first(before) && got.last(after) == want.last(after) &&
               got.size.between?(want.size - 1, want.size + 64)
          odd << "victim #{victim}: #{got.size} facts" unless ok
        rescue Exception => e # rubocop:disable Lint/RescueException
          odd << "#{e.class}: #{e.message[0, 80]}"
        end
      end
      expect(odd).to be_empty
    end
  end

  it "replays a store whose sealed compact segment holds an undecodable batch: only that batch lost, other stores intact" do
    with_tmpdir do |dir|
      store = open_segmented_store(dir, time_bucket: :none, codec: { gps: :compact_delta, notes: :json_crc32 },
                                        flush: :on_write)
      4.times { |i| store.write(store: :gps, key: "v#{i}", value: { lat: i }) }
      store.write(store: :notes, key: "n", value: { text: "kept" })
      store.close
      path = Dir.glob(File.join(dir, "wal", "store=gps", "date=*", "segment-*.wal")).first
      bodies = parse_frames(path).map { |f| f[:body] }
      # Valid count prefix and zlib stream, but MessagePack nested 100,000 deep.
      bodies[2] = bodies[2].byteslice(0, 4) + Zlib::Deflate.deflate("\x91".b * 100_000)
      File.binwrite(path, bodies.map { |b| raw_frame(b) }.join)

      reopened = open_segmented_store(dir, time_bucket: :none, codec: { gps: :compact_delta, notes: :json_crc32 })
      expect(reopened.read(store: :notes, key: "n")).to eq(text: "kept")
      expect(%w[v0 v1 v2 v3].map { |k| reopened.read(store: :gps, key: k) }).to eq([{ lat: 0 }, nil, { lat: 2 }, { lat: 3 }])
      receipts = backend_of(reopened).quarantine_receipts(store: :gps)
      expect(receipts.size).to eq(1)
      expect(receipts[0]["segment_path"]).to eq(path)
      expect(receipts[0]["quarantined"].map { |q| q["reason"] }).to eq(["undecodable"])
      reopened.write(store: :gps, key: "after", value: { lat: 9 })
      reopened.close
      again = open_segmented_store(dir, time_bucket: :none)
      expect(again.read(store: :gps, key: "after")).to eq(lat: 9)
      again.close
    end
  end
end
