# frozen_string_literal: true

require "zlib"
require "securerandom"
require_relative "message_pack"
require_relative "segment_codec"

module Igniter
  module Store
    module Codecs
      # 0.5.2's dense codec (doc/format.md "Segment codecs"): a MessagePack header frame (store,
      # sorted field names, valid_time, schema_version of the first fact), then
      # batch frames of `u32 BE count + zlib-9(MessagePack {"km" => keys,
      # "e" => [[key_idx, delta_ms, values]], "t" => first ms[, "h" => header]})`.
      # Batches survive the loss of any one other frame (doc/format.md
      # "Segments: salvage"): `t` is the batch's first absolute time, `km` also
      # names the keys the batch before introduced, and the first batch carries
      # the header as `h`. 0.5.2 reads these batches as its own (it merges `km`
      # and ignores `t` and `h`); this reader reads 0.5.2's.
      #
      # Lossy by design: ids, causation, producer, derivation and fields not
      # in the header are not stored, tt keeps millisecond precision.
      # Facts wait in memory until 64 are pending or {#flush} is called; a
      # crash loses them (the loss windows of doc/format.md "Segments: flush policy and loss windows" are contractual).
      #
      # On the native path entries are encoded (dictionary, deltas,
      # MessagePack) and segments decoded in Rust; compression is Ruby's Zlib
      # on both paths, so files are identical.
      class CompactDelta
        # Canonical codec name, as recorded in manifests.
        NAME = "compact_delta_zlib"
        # Facts per batch frame.
        BATCH_SIZE = 64

        include SegmentCodec

        def initialize
          @header = nil
          @header_bytes = nil
          @keys = {}
          @key_names = []
          @keys_named = 0
          @keys_written = 0
          @batches = 0
          @batch_t0 = nil
          @last_ts = nil
          @entries = []
          @pending = []
          @native = nil
          @undo = nil
        end

        # Buffers the fact; writes the header before the first one and a batch
        # frame when {BATCH_SIZE} are pending, or at once with `flush: true`.
        # A fact whose values cannot be encoded raises here and leaves the
        # segment as it was. When writing raises, the fact is taken back: the
        # codec is as before the call, and the caller cuts the file back to its
        # size before the call.
        #
        # @param flush [Boolean] write the pending batch after buffering the fact
        # @return [Integer] bytes written
        # @raise [NoMethodError] value is not a Hash
        # @raise [ArgumentError] a value MessagePack cannot hold (an Integer beyond 64 bits)
        def encode_fact(io, fact, flush: false)
          header = @header || header_for(fact)
          fresh = @header.nil?
          push_entry(fact, header)
          begin
            written = 0
            if fresh
              @header_bytes = MessagePack.pack(header)
              written += io.write(WireProtocol.encode_frame(@header_bytes))
              @header = header
            end
            @pending << fact
            written += self.flush(io) if flush || @pending.size >= BATCH_SIZE
            written
          rescue StandardError
            take_back(fact, fresh)
            raise
          end
        end

        # Writes the pending facts as one batch frame. Compression is Ruby's
        # Zlib on both paths: it is the zlib 0.5.2 wrote with, and no Rust
        # deflate produces the same level-9 bytes. When writing raises, nothing
        # changes (the batch stays pending).
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

        # The facts of every batch whose header (the header frame, else the
        # batch's own `h`) and times (the running delta chain, else the batch's
        # own `t`) are known, and the damaged spans (doc/format.md "Segments:
        # salvage"). In Rust on the native path, except for a segment holding
        # something only this Ruby decoder reproduces exactly.
        #
        # @param bytes [String] the whole segment
        # @param records [Boolean] on the native path, the facts as one
        #   {NativeRecords} for a native FactLog (see {Codecs.salvage})
        # @return [Salvage::Scan]
        def self.salvage(bytes, records: false)
          bytes = bytes.b unless bytes.encoding == Encoding::BINARY
          # nil: the pure path, or something only the Ruby decoder reproduces exactly.
          found = Accelerator.salvage_compact(bytes, records: records)
          return Salvage::Scan.new(*found) if found

          CompactSalvage.new(bytes).scan
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
          @native = Accelerator.compact_encoder(fact, header) if @header.nil?
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
          entry = MessagePack.pack([idx, @last_ts.nil? ? ts : ts - @last_ts, vals])
          new_key = idx == @key_names.size
          @undo = [@last_ts, @batch_t0, new_key]
          @entries << entry
          if new_key
            @keys[key] = idx
            @key_names << key
          end
          @batch_t0 ||= ts
          @last_ts = ts
        end

        # Takes back the fact of the last {#encode_fact} (its bytes did not
        # reach the file); `fresh`: it was the segment's first fact.
        def take_back(fact, fresh)
          @pending.pop if @pending.last.equal?(fact)
          if @native
            @native.rollback
          elsif @undo
            @last_ts, @batch_t0, new_key = @undo
            @entries.pop
            @keys.delete(@key_names.pop) if new_key
          end
          @undo = nil
          return unless fresh

          @header = nil
          @header_bytes = nil
          @native = nil
        end

        # The pending batch as [count, MessagePack {"km" => keys introduced by
        # the previous batch and this one, "e" => entries, "t" => first ms,
        # "h" => header (first batch only)}] (entries were packed one by one;
        # the bytes are those of packing the whole Hash), or nil.
        def batch
          return @native.batch if @native
          return nil if @entries.empty?

          named = (@keys_named...@key_names.size).to_h { |i| [i.to_s, @key_names[i]] }
          first = @batches.zero?
          payload = (first ? +"\x84".b : +"\x83".b) << MessagePack.pack("km") << MessagePack.pack(named) <<
                    MessagePack.pack("e") << MessagePack.array_header(@entries.size) << @entries.join <<
                    MessagePack.pack("t") << MessagePack.pack(@batch_t0)
          payload << MessagePack.pack("h") << @header_bytes if first
          [@entries.size, payload]
        end

        def commit_batch
          if @native
            @native.commit
          else
            @keys_named = @keys_written
            @keys_written = @key_names.size
            @batches += 1
            @batch_t0 = nil
            @entries = []
          end
          @undo = nil
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
      end
    end
  end
end
