# frozen_string_literal: true

require "zlib"
require "securerandom"
require_relative "message_pack"

module Igniter
  module Store
    module Codecs
      # 0.5.2's dense codec (spec 03 §6.3), byte for byte: a MessagePack header
      # frame (store, sorted field names, valid_time, schema_version of the
      # first fact), then batch frames of `u32 BE count + zlib-9(MessagePack
      # {"km" => new keys, "e" => [[key_idx, delta_ms, values]]})`.
      #
      # Lossy by design: ids, causation, producer, derivation and fields not
      # in the header are not stored, tt keeps millisecond precision.
      # Facts wait in memory until 64 are pending or {#flush} is called; a
      # crash loses them (the loss windows of spec 03 §7.2 are contractual).
      #
      # On the native path entries are encoded (dictionary, deltas,
      # MessagePack) and segments decoded in Rust; compression is Ruby's Zlib
      # on both paths, so files are identical.
      class CompactDelta
        NAME = "compact_delta_zlib"
        BATCH_SIZE = 64

        def initialize
          @header = nil
          @keys = {}
          @key_names = []
          @keys_written = 0
          @last_ts = nil
          @entries = []
          @pending = []
          @native = nil
        end

        # @return [String] canonical codec name
        def name
          NAME
        end

        # The header waits for the first fact. @return [Integer] 0
        def start_segment(_io, store:)
          @store = store
          0
        end

        # Buffers the fact; writes the header before the first one and a batch
        # frame when {BATCH_SIZE} are pending. A fact whose values cannot be
        # encoded raises here and leaves the segment as it was.
        #
        # @return [Integer] bytes written
        # @raise [NoMethodError] value is not a Hash
        # @raise [ArgumentError] a value MessagePack cannot hold (an Integer beyond 64 bits)
        def encode_fact(io, fact)
          header = @header || header_for(fact)
          push_entry(fact, header)
          written = 0
          unless @header
            written += io.write(WireProtocol.encode_frame(MessagePack.pack(header)))
            @header = header
          end
          @pending << fact
          written += flush(io) if @pending.size >= BATCH_SIZE
          written
        end

        # Writes the pending facts as one batch frame. Compression is Ruby's
        # Zlib on both paths: it is the zlib 0.5.2 wrote with, and no Rust
        # deflate produces the same level-9 bytes.
        # @return [Integer] bytes written (0 when nothing is pending)
        def flush(io)
          count, payload = batch
          return 0 unless count

          body = [count].pack("N") << Zlib::Deflate.deflate(payload, Zlib::BEST_COMPRESSION)
          written = io.write(WireProtocol.encode_frame(body))
          commit_batch
          written
        end

        # @return [Integer] facts accepted but not yet written
        def buffered_count
          @pending.size
        end

        # @return [Array<Fact>] the facts not yet written, as given
        def buffered_facts
          @pending.dup
        end

        # @param io [IO] positioned at the segment start
        # @return [Array<Fact>]
        # @raise [Zlib::Error, MessagePack::MalformedFormatError] damaged batch
        def decode(io)
          decode_with_status(io).first
        end

        # @return [Array(Array<Fact>, Integer, Symbol)] facts, bytes of good
        #   frames, tail kind
        def decode_with_status(io)
          if NATIVE_CODECS
            start = io.pos
            # nil: something only this Ruby decoder reproduces exactly.
            decoded = Native.decode_compact(Codecs.rest(io))
            return decoded if decoded

            io.pos = start
          end
          ruby_decode_with_status(io)
        end

        # The Ruby decoder: the pure path's, and the native path's for a
        # segment the Rust decoder hands back.
        # @return (see #decode_with_status)
        def ruby_decode_with_status(io)
          facts = []
          header = nil
          key_names = {}
          ts = nil
          consumed, tail = WireProtocol.each_frame(io, io.size - io.pos) do |body|
            if header.nil?
              header = MessagePack.unpack(body)
              header = {} unless header.is_a?(Hash)
              next
            end
            batch = MessagePack.unpack(Zlib::Inflate.inflate(body.byteslice(4..)))
            (batch["km"] || {}).each { |idx, key| key_names[idx.to_i] = key }
            (batch["e"] || []).each do |key_idx, delta, vals|
              ts = ts.nil? ? delta : ts + delta
              fact = decode_entry(header, key_names[key_idx], ts, vals)
              facts << fact if fact
            end
          end
          [facts, consumed, tail]
        end

        # Counts stored facts without decoding batches (orphan recovery):
        # the count prefixes of the frames after the header.
        # @return [Array(Integer, Integer, Symbol)] facts, good bytes, tail kind
        def self.count(io)
          return Native.count_compact(Codecs.rest(io)) if NATIVE_CODECS

          count = 0
          seen_header = false
          consumed, tail = WireProtocol.each_frame(io, io.size - io.pos) do |body|
            if seen_header
              count += body.unpack1("N").to_i if body.bytesize >= 4
            else
              seen_header = true
            end
          end
          [count, consumed, tail]
        end

        private

        def header_for(fact)
          {
            "store" => fact.store.to_s,
            "fields" => fact.value.keys.map(&:to_s).sort,
            "valid_time" => fact.valid_time,
            "schema_version" => fact.schema_version
          }
        end

        # Encodes the fact's entry, in Rust on the native path; state changes
        # only once the entry is encoded. The first fact fixes the side: one
        # segment's dictionary and deltas live in one place.
        def push_entry(fact, header)
          @native = NativeCompactEncoder.new(header["fields"]) if @header.nil? && NATIVE_CODECS && fact.is_a?(Fact)
          if @native
            @native.push(fact.is_a?(Fact) ? fact : Fact.from_h(fact.to_h))
          else
            push_pure_entry(fact, header)
          end
        end

        def push_pure_entry(fact, header)
          key = fact.key.to_s
          idx = @keys.fetch(key, @key_names.size)
          ts = (fact.transaction_time * 1000).round
          value = fact.value
          vals = header["fields"].map do |field|
            sym = field.to_sym
            plain(value.key?(sym) ? value[sym] : value[field])
          end
          @entries << MessagePack.pack([idx, @last_ts.nil? ? ts : ts - @last_ts, vals])
          if idx == @key_names.size
            @keys[key] = idx
            @key_names << key
          end
          @last_ts = ts
        end

        # The pending batch as [count, MessagePack {"km" => new keys, "e" =>
        # entries}] (entries were packed one by one; the bytes are those of
        # packing the whole Hash), or nil.
        def batch
          return @native.batch if @native
          return nil if @entries.empty?

          fresh = {}
          (@keys_written...@key_names.size).each { |i| fresh[i.to_s] = @key_names[i] }
          payload = +"\x82".b << MessagePack.pack("km") << MessagePack.pack(fresh) << MessagePack.pack("e") <<
                    MessagePack.array_header(@entries.size) << @entries.join
          [@entries.size, payload]
        end

        def commit_batch
          if @native
            @native.commit
          else
            @keys_written = @key_names.size
            @entries = []
          end
          @pending = []
        end

        # Symbols and nested Hash keys as Strings, as 0.5.2 stringified them;
        # any other object as its `to_s`, the text the json codec stores too
        # (0.5.2's msgpack raised and left the batch unwritable).
        def plain(obj)
          case obj
          when Symbol then obj.to_s
          when Hash then obj.each_with_object({}) { |(k, v), out| out[k.to_s] = plain(v) }
          when Array then obj.map { |v| plain(v) }
          when String, Integer, Float, true, false, nil then obj
          else obj.to_s
          end
        end

        def decode_entry(header, key, ts_ms, vals)
          fields = header["fields"] || []
          value = {}
          fields.each_with_index { |field, i| value[field.to_sym] = vals.is_a?(Array) ? vals[i] : nil }
          valid_time = header["valid_time"] || header["term"]
          Fact.from_h(
            id: SecureRandom.uuid, store: header["store"].to_s.to_sym, key: key.to_s, value: value,
            value_hash: JsonCanon.value_hash(value), causation: nil, transaction_time: ts_ms / 1000.0,
            valid_time: valid_time&.to_f, schema_version: header["schema_version"] || 1,
            producer: nil, derivation: nil
          )
        rescue StandardError
          nil # an undecodable entry is skipped, as 0.5.2 did
        end
      end
    end
  end
end
