# frozen_string_literal: true

RSpec.describe Igniter::Store::WireProtocol do
  subject(:wire) { Class.new { include Igniter::Store::WireProtocol }.new }

  # An IO that refuses any read request above +limit+ bytes, so a reader that
  # trusts a huge length prefix fails loudly instead of allocating it.
  let(:guarded_io_class) do
    Class.new do
      attr_reader :largest_request

      def initialize(bytes, limit)
        @io = StringIO.new(bytes.b)
        @limit = limit
        @largest_request = 0
      end

      %i[read readpartial sysread read_nonblock].each do |name|
        define_method(name) do |len = nil, *rest|
          @largest_request = [@largest_request, len.to_i].max
          raise "read of #{len} bytes requested" if len.nil? || len > @limit

          @io.public_send(name, len, *rest)
        end
      end

      def respond_to_missing?(name, include_private = false)
        @io.respond_to?(name, include_private) || super
      end

      def method_missing(name, *args, &block)
        @io.respond_to?(name) ? @io.public_send(name, *args, &block) : super
      end
    end
  end

  it "defines 4-byte header and CRC sizes" do
    expect(described_class::FRAME_HEADER_SIZE).to eq(4)
    expect(described_class::FRAME_CRC_SIZE).to eq(4)
  end

  describe "#encode_frame" do
    it "frames \"héllo\" as 14 binary bytes: BE length, body, BE CRC-32" do
      frame = wire.encode_frame("héllo")
      body = "héllo".b

      expect(frame.bytesize).to eq(14)
      expect(frame.encoding).to eq(Encoding::ASCII_8BIT)
      expect(frame.byteslice(0, 4)).to eq([6].pack("N"))
      expect(frame.byteslice(4, 6)).to eq(body)
      expect(frame.byteslice(10, 4)).to eq([Zlib.crc32(body)].pack("N"))
    end

    it "uses the IEEE/zlib CRC-32 (crc32(\"123456789\") == 0xCBF43926)" do
      frame = wire.encode_frame("123456789")

      expect(frame.byteslice(-4, 4).unpack1("N")).to eq(0xCBF43926)
      expect(Zlib.crc32("123456789")).to eq(0xCBF43926)
    end

    it "frames an empty body as 8 zero bytes" do
      expect(wire.encode_frame("")).to eq("\x00".b * 8)
    end

    it "gives the same bytes for UTF-8 and binary bodies" do
      expect(wire.encode_frame("日本語")).to eq(wire.encode_frame("日本語".b))
      expect(wire.encode_frame("{\"a\":1}")).to eq(raw_frame("{\"a\":1}"))
    end
  end

  describe "#read_frame" do
    it "reads frames in sequence as binary Strings, then nil at EOF" do
      io = StringIO.new(wire.encode_frame("héllo") + wire.encode_frame("") + wire.encode_frame("{}"))

      first = wire.read_frame(io)
      expect(first.encoding).to eq(Encoding::ASCII_8BIT)
      expect(first.force_encoding(Encoding::UTF_8)).to eq("héllo")
      expect(wire.read_frame(io)).to eq("")
      expect(wire.read_frame(io)).to eq("{}")
      expect(wire.read_frame(io)).to be_nil
    end

    it "reads frames from a File" do
      with_tmpdir do |dir|
        path = File.join(dir, "frames.bin")
        File.binwrite(path, raw_frame("one") + raw_frame("two"))

        File.open(path, "rb") do |f|
          expect(wire.read_frame(f)).to eq("one")
          expect(wire.read_frame(f)).to eq("two")
          expect(wire.read_frame(f)).to be_nil
        end
      end
    end

    it "returns nil for an empty stream or a short header" do
      expect(wire.read_frame(StringIO.new(""))).to be_nil
      expect(wire.read_frame(StringIO.new("\x00\x00\x00".b))).to be_nil
    end

    it "returns nil for a short body" do
      expect(wire.read_frame(StringIO.new([10].pack("N") + "abc"))).to be_nil
    end

    it "returns nil for a short CRC" do
      frame = raw_frame("hello")

      (1..4).each do |cut|
        expect(wire.read_frame(StringIO.new(frame.byteslice(0, frame.bytesize - cut)))).to be_nil
      end
    end

    it "returns nil for a CRC mismatch in the body or the checksum" do
      frame = raw_frame("hello")
      bad_body = frame.dup
      bad_body.setbyte(5, bad_body.getbyte(5) ^ 0x01)
      bad_crc = frame.dup
      bad_crc.setbyte(frame.bytesize - 1, bad_crc.getbyte(frame.bytesize - 1) ^ 0xFF)

      expect(wire.read_frame(StringIO.new(bad_body))).to be_nil
      expect(wire.read_frame(StringIO.new(bad_crc))).to be_nil
    end

    it "returns nil for a length above 64 MiB without trying to read it" do
      [64 * 1024 * 1024 + 1, 0xFFFF_FFFF].each do |len|
        io = guarded_io_class.new([len].pack("N") + "short body", 64 * 1024 * 1024)

        expect(wire.read_frame(io)).to be_nil
        expect(io.largest_request).to be <= 64 * 1024 * 1024
      end
    end

    it "returns nil for \"GARBAGE\" read as a length prefix" do
      expect(wire.read_frame(StringIO.new("GARBAGE"))).to be_nil
    end
  end
end
