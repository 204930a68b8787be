# frozen_string_literal: true

# Randomized corruption of what the segment codecs decode (the Ruby-level
# counterpart of the cargo-fuzz targets, until codec decoding moves to Rust):
# MessagePack on arbitrary bytes, and json_crc32 / compact_delta_zlib segments
# with raw damage (caught by the frame CRC) or with damaged bodies re-framed
# under a valid CRC (reaching the body decoders). Decoders may only return the
# facts of good frames or raise a StandardError that replay turns into a
# quarantine receipt; never a stack overflow, a huge allocation or a crash.
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

  def decode(name, bytes)
    codecs.build(name).decode_with_status(StringIO.new(bytes))
  end

  def mutate(bytes)
    data = bytes.b.dup
    case rng.rand(4)
    when 0 then rng.rand(1..4).times { data.setbyte(i = rng.rand(data.bytesize), data.getbyte(i) ^ rng.rand(1..255)) }
    when 1 then data = data.byteslice(0, rng.rand(data.bytesize))
    when 2 then data.insert(rng.rand(data.bytesize), rng.bytes(rng.rand(1..8)))
    else data = data.byteslice(0, (i = rng.rand(data.bytesize))) + data.byteslice(i + rng.rand(1..8)..).to_s
    end
    data
  end

  def signature(fact)
    [fact.key, fact.value]
  end

  it "MessagePack.unpack returns or raises MalformedFormatError on 2,000 random and damaged inputs" do
    valid = msgpack.pack({ "km" => { "0" => "k" }, "e" => [[0, 12, [1.5, "x", [1, 2], { "a" => nil }]]] })
    odd = {}
    2_000.times do |i|
      input = i.even? ? rng.bytes(rng.rand(0..40)) : mutate(valid)
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
    it "#{name}: raw damage yields exactly the facts of the frames before it (300 random cases)" do
      originals = facts(8)
      pristine = segment_bytes(name, originals)
      frames = parse_frame_bytes(pristine)
      clean, = decode(name, pristine)
      expect(clean.map { |f| signature(f) }).to eq(originals.map { |f| signature(f) })

      failures = Array.new(300) { mutate(pristine) }.filter_map do |damaged|
        got, consumed, = decode(name, damaged)
        good = parse_frame_bytes(damaged).size
        good_bytes = frames.first(good).sum { |f| f[:size] }
        expected = originals.first([good - header_frames, 0].max).map { |f| signature(f) }
        next if got.map { |f| signature(f) } == expected && consumed == good_bytes

        "#{damaged.bytesize} bytes: #{got.size} facts, #{consumed} bytes (expected #{expected.size}, #{good_bytes})"
      end
      expect(failures).to be_empty
    end

    it "#{name}: damaged bodies under a valid CRC decode or raise a StandardError (300 random cases)" do
      originals = facts(6)
      bodies = parse_frame_bytes(segment_bytes(name, originals)).map { |f| f[:body] }
      odd = []
      300.times do
        damaged = bodies.dup
        victim = rng.rand(damaged.size)
        damaged[victim] = mutate(damaged[victim])
        begin
          got, = decode(name, damaged.map { |b| raw_frame(b) }.join)
          odd << "#{got.size} facts from #{originals.size}" if got.size > originals.size
        rescue StandardError
          nil # replay quarantines the segment
        rescue Exception => e # rubocop:disable Lint/RescueException
          odd << "#{e.class}: #{e.message[0, 80]}"
        end
      end
      expect(odd).to be_empty
    end
  end

  it "replays a store whose sealed compact segment holds an undecodable batch: quarantined, other stores intact" do
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
      receipts = backend_of(reopened).quarantine_receipts(store: :gps)
      expect(receipts.size).to eq(1)
      expect(receipts[0]["segment_path"]).to eq(path)
      reopened.write(store: :gps, key: "after", value: { lat: 9 })
      reopened.close
      again = open_segmented_store(dir, time_bucket: :none)
      expect(again.read(store: :gps, key: "after")).to eq(lat: 9)
      again.close
    end
  end
end
