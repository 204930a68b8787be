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
      class CompactDelta
        NAME = "compact_delta_zlib"
        BATCH_SIZE = 64

        def initialize
          @header = nil
          @keys = {}
          @keys_written = 0
          @last_ts = nil
          @entries = []
          @pending = []
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
        # frame when {BATCH_SIZE} are pending.
        #
        # @return [Integer] bytes written
        # @raise [NoMethodError] value is not a Hash
        def encode_fact(io, fact)
          written = 0
          unless @header
            header = header_for(fact)
            written += io.write(WireProtocol.encode_frame(MessagePack.pack(header)))
            @header = header
          end
          @entries << entry_for(fact)
          @pending << fact
          written += flush(io) if @entries.size >= BATCH_SIZE
          written
        end

        # Writes the pending facts as one batch frame.
        # @return [Integer] bytes written (0 when nothing is pending)
        def flush(io)
          return 0 if @entries.empty?

          fresh = {}
          (@keys_written...@keys.size).each { |i| fresh[i.to_s] = @key_names[i] }
          payload = Zlib::Deflate.deflate(MessagePack.pack({ "km" => fresh, "e" => @entries }),
                                          Zlib::BEST_COMPRESSION)
          written = io.write(WireProtocol.encode_frame([@entries.size].pack("N") + payload))
          @keys_written = @keys.size
          @entries = []
          @pending = []
          written
        end

        # @return [Integer] facts accepted but not yet written
        def buffered_count
          @entries.size
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

        def entry_for(fact)
          key = fact.key.to_s
          idx = @keys[key] ||= begin
            (@key_names ||= []) << key
            @keys.size
          end
          ts = (fact.transaction_time * 1000).round
          delta = @last_ts.nil? ? ts : ts - @last_ts
          @last_ts = ts
          value = fact.value
          vals = @header["fields"].map do |field|
            sym = field.to_sym
            plain(value.key?(sym) ? value[sym] : value[field])
          end
          [idx, delta, vals]
        end

        # Symbols and nested Hash keys as Strings, as 0.5.2 stringified them.
        def plain(obj)
          case obj
          when Symbol then obj.to_s
          when Hash then obj.each_with_object({}) { |(k, v), out| out[k.to_s] = plain(v) }
          when Array then obj.map { |v| plain(v) }
          else obj
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
