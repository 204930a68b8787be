# frozen_string_literal: true

require_relative "segment_codec"

module Igniter
  module Store
    module Codecs
      # One frame per fact, body = the fact's JSON record (the same bytes as a
      # {FileBackend} WAL frame). Nothing is buffered: every frame reaches the
      # IO inside {#encode_fact}. On the native path frames are encoded and
      # segments decoded by the Rust core (same bytes, same facts).
      class JsonCrc32
        # Canonical codec name, as recorded in manifests.
        NAME = "json_crc32"

        include SegmentCodec

        # @param flush [Boolean] ignored: every frame is written at once
        # @return [Integer] bytes written
        def encode_fact(io, fact, flush: false) # rubocop:disable Lint/UnusedMethodArgument
          io.write(frame(fact))
        end

        # @return [String] the binary frame of one fact
        def frame(fact)
          Accelerator.json_frame(fact) || WireProtocol.encode_frame(JsonCanon.fact_body(fact))
        end

        # Nothing buffered. @return [Integer] 0
        def flush(_io)
          0
        end

        # @return [Integer] 0
        def buffered_count
          0
        end

        # @return [Array<Fact>] nothing is ever buffered
        def buffered_facts
          []
        end

        # After damage, the next frame is one whose body decodes as a fact.
        module Resync
          module_function

          def plausible?(bytes, offset, length)
            Salvage.json_object_start?(bytes, offset, length)
          end

          def accepts?(body)
            !JsonCanon.decode_fact_body(body).nil?
          end
        end

        # Every fact of a CRC-valid frame whose body decodes, before and after
        # damage, and the damaged spans (doc/format.md "Segments: salvage"). In
        # Rust on the native path (same frames, spans and facts).
        #
        # @param bytes [String] the whole segment
        # @param records [Boolean] on the native path, the facts as one
        #   {NativeRecords} for a native FactLog (see {Codecs.salvage})
        # @return [Salvage::Scan]
        def self.salvage(bytes, records: false)
          bytes = bytes.b unless bytes.encoding == Encoding::BINARY
          found = Accelerator.salvage_json(bytes, records: records)
          return Salvage::Scan.new(*found) if found

          ruby_salvage(bytes)
        end

        # The Ruby salvage (the pure path's).
        # @return [Salvage::Scan]
        def self.ruby_salvage(bytes)
          Salvage.scan(bytes, Resync) do |body|
            attributes = JsonCanon.decode_fact_body(body)
            attributes && [Codecs.fact(attributes)]
          end
        end
      end
    end
  end
end
