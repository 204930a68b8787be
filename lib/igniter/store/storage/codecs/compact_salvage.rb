# frozen_string_literal: true

require "zlib"
require "securerandom"
require_relative "message_pack"
require_relative "salvage"

module Igniter
  module Store
    module Codecs
      # The Ruby salvage of a `compact_delta_zlib` segment (doc/format.md
      # "Segments: salvage"), mirrored by `salvage_segment` in
      # `ext/ledger_core/src/codec_compact_delta.rs`. Frames are read in file
      # order; each CRC-valid frame is the header (a MessagePack map with
      # `fields`, before any batch), a batch (count + zlib stream of a
      # MessagePack map) or undecodable. A batch gives facts when its header
      # (the header frame, else the first batch's `h`), its keys (every `km`
      # read so far) and its times (the running delta chain, else its own `t`)
      # are known; the chain breaks at every damaged or undecodable frame. One
      # instance per segment.
      class CompactSalvage
        # After damage, the next frame is a header or a batch.
        module Resync
          module_function

          def plausible?(bytes, offset, length)
            Salvage.msgpack_map_start?(bytes, offset, length) ||
              (length >= 6 && Salvage.zlib_header?(bytes, offset + 4, length - 4))
          end

          def accepts?(body)
            CompactSalvage.header_like(body) || CompactSalvage.batch_like(body) ? true : false
          end
        end

        # @return [Hash, nil] the header map a body holds
        def self.header_like(body)
          return nil unless Salvage.msgpack_map_start?(body, 0, body.bytesize)

          doc = MessagePack.unpack(body)
          doc.is_a?(Hash) && doc.key?("fields") ? doc : nil
        rescue MessagePack::MalformedFormatError
          nil
        end

        # @return [Hash, nil] the batch map a body holds
        def self.batch_like(body)
          return nil unless body.bytesize >= 6 && Salvage.zlib_header?(body, 4, body.bytesize - 4)

          doc = MessagePack.unpack(Zlib::Inflate.inflate(body.byteslice(4..)))
          doc.is_a?(Hash) ? doc : nil
        rescue Zlib::Error, MessagePack::MalformedFormatError
          nil
        end

        # @param bytes [String] binary
        def initialize(bytes)
          @bytes = bytes
          @header = nil
          @accepted = false
          @key_names = {}
          @ts = nil
          @broken = false
        end

        # @return [Salvage::Scan]
        def scan
          prev_end = 0
          Salvage.scan(@bytes, Resync) do |body, offset, length|
            @broken = true if offset != prev_end # damaged bytes before this frame
            prev_end = offset + length
            frame_facts(body)
          end
        end

        private

        # The facts of one CRC-valid frame, or nil when it is undecodable.
        def frame_facts(body)
          unless @accepted
            header = self.class.header_like(body)
            if header
              @header = header
              @accepted = true
              return []
            end
          end
          batch = self.class.batch_like(body)
          unless batch
            @broken = true
            return nil
          end
          @accepted = true
          batch_facts(batch)
        end

        def batch_facts(batch)
          own = batch["h"]
          @header ||= own if own.is_a?(Hash) && own.key?("fields")
          entries = batch_entries(batch)
          return nil if entries.nil?
          return [] if entries.empty?
          return nil unless @header && entries.all? { |known, *| known }

          entries.filter_map { |_, key, ts, vals| fact(@header, key, ts, vals) }
        rescue StandardError
          # A batch shape 0.5.2 could not read either (it raised on it).
          @broken = true
          nil
        end

        # `[key known?, key, ts_ms, values]` per entry, or nil when the times are unknown
        # (an earlier frame was lost and this batch carries no `t`). A batch
        # without `t` that names key index 0 is the first batch of a 0.5.2
        # segment (its writer names only keys new to the segment in `km`), so
        # its first delta is absolute whatever damage came before it.
        def batch_entries(batch)
          first_key = false
          (batch["km"] || {}).each do |idx, key|
            first_key ||= [0, "0"].include?(idx)
            @key_names[idx.to_i] = key
          end
          items = batch["e"] || []
          t = batch["t"]
          t = nil unless t.is_a?(Integer)
          if first_key && t.nil?
            @ts = nil
            @broken = false
          end
          return [] if items.empty?
          return nil if @broken && t.nil?

          entries = items.each_with_index.map do |(key_idx, delta, vals), i|
            @ts = if i.zero? && t then t
                  elsif @ts.nil? then delta
                  else @ts + delta
                  end
            [@key_names.key?(key_idx), @key_names[key_idx], @ts, vals]
          end
          @broken = false
          entries
        end

        def fact(header, key, ts_ms, vals)
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
