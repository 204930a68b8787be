# frozen_string_literal: true

module LedgerSpec
  module Helpers
    # Builds a frame independently of the library (doc/format.md):
    # u32 BE length, body, u32 BE CRC-32 of the body.
    def raw_frame(body)
      body = body.b
      [body.bytesize].pack("N") + body + [Zlib.crc32(body)].pack("N")
    end

    # Splits a WAL/snapshot file into frames; returns Hashes with :offset, :size
    # (whole frame) and :body. Stops at the first damaged frame.
    def parse_frames(path)
      parse_frame_bytes(File.binread(path))
    end

    def parse_frame_bytes(bytes)
      data = bytes.b
      frames = []
      offset = 0
      while offset + 4 <= data.bytesize
        len = data.byteslice(offset, 4).unpack1("N")
        break if offset + 8 + len > data.bytesize

        body = data.byteslice(offset + 4, len)
        crc = data.byteslice(offset + 4 + len, 4).unpack1("N")
        break unless Zlib.crc32(body) == crc

        frames << { offset: offset, size: 8 + len, body: body }
        offset += 8 + len
      end
      frames
    end

    def frame_bodies(path)
      parse_frames(path).map { |f| f[:body].dup.force_encoding(Encoding::UTF_8) }
    end

    # Writes +bodies+ (Strings) as a WAL file, each as one frame.
    def write_wal(path, bodies)
      File.binwrite(path, bodies.map { |b| raw_frame(b) }.join)
    end

    # A fact body in the WAL format, with overridable members (JSON keys as Strings).
    def fact_body(overrides = {})
      base = {
        "id" => SecureRandom.uuid, "store" => "items", "key" => "k", "value" => { "n" => 1 },
        "value_hash" => "0" * 64, "causation" => nil, "transaction_time" => 1_700_000_000.5,
        "valid_time" => nil, "schema_version" => 1, "producer" => nil, "derivation" => nil
      }
      JSON.generate(base.merge(overrides))
    end
  end
end
