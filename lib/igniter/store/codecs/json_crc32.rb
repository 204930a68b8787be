# frozen_string_literal: true

module Igniter
  module Store
    module Codecs
      # One frame per fact, body = the fact's JSON record (the same bytes as a
      # {FileBackend} WAL frame). Nothing is buffered: every frame reaches the
      # IO inside {#encode_fact}. On the native path frames are encoded and
      # segments decoded by the Rust core (same bytes, same facts).
      class JsonCrc32
        NAME = "json_crc32"

        # @return [String] canonical codec name
        def name
          NAME
        end

        # No segment header. @return [Integer] 0
        def start_segment(_io, store:)
          @store = store
          0
        end

        # @return [Integer] bytes written
        def encode_fact(io, fact)
          io.write(frame(fact))
        end

        # @return [String] the binary frame of one fact
        def frame(fact)
          return Native.json_frame(fact) if NATIVE_CODECS && fact.is_a?(Fact)

          WireProtocol.encode_frame(JsonCanon.fact_body(fact))
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

        # @param io [IO] positioned at the segment start
        # @return [Array<Fact>] facts up to the first damaged frame
        def decode(io)
          decode_with_status(io).first
        end

        # @return [Array(Array<Fact>, Integer, Symbol)] facts, bytes of good
        #   frames, and the tail kind of {WireProtocol.each_frame}
        def decode_with_status(io)
          return Native.decode_json(Codecs.rest(io)) if NATIVE_CODECS

          ruby_decode_with_status(io)
        end

        # The Ruby decoder (the pure path's).
        # @return (see #decode_with_status)
        def ruby_decode_with_status(io)
          facts = []
          consumed, tail = WireProtocol.each_frame(io, io.size - io.pos) do |body|
            attributes = JsonCanon.decode_fact_body(body)
            facts << Codecs.fact(attributes) if attributes
          end
          [facts, consumed, tail]
        end

        # Counts good frames without building facts (orphan recovery).
        # @return [Array(Integer, Integer, Symbol)] facts, good bytes, tail kind
        def self.count(io)
          return Native.count_json(Codecs.rest(io)) if NATIVE_CODECS

          count = 0
          consumed, tail = WireProtocol.each_frame(io, io.size - io.pos) { count += 1 }
          [count, consumed, tail]
        end
      end
    end
  end
end
