# frozen_string_literal: true

require_relative "wire_protocol"
require_relative "json_canon"
require_relative "codecs/message_pack"
require_relative "codecs/json_crc32"
require_relative "codecs/compact_delta"

module Igniter
  module Store
    # Segment codecs of {SegmentedFileBackend} (spec 03 §6). A codec instance
    # is stateful and serves one segment.
    module Codecs
      # True when the Rust halves of the codecs (Codecs::Native,
      # Codecs::NativeCompactEncoder) are loaded, i.e. on the native path.
      NATIVE_CODECS = (Store::NATIVE && const_defined?(:Native, false)) ? true : false

      ALIASES = {
        json_crc32: JsonCrc32,
        compact_delta: CompactDelta,
        compact_delta_zlib: CompactDelta
      }.freeze

      class << self
        # @param name [Symbol, String] `:json_crc32`, `:compact_delta` or `:compact_delta_zlib`
        # @return [JsonCrc32, CompactDelta] a fresh instance
        # @raise [ArgumentError] "Unknown codec: :name"
        def build(name)
          klass(name).new
        end

        # @return [Class] the codec class for a name
        # @raise [ArgumentError] "Unknown codec: :name"
        def klass(name)
          key = name.respond_to?(:to_sym) ? name.to_sym : name
          ALIASES.fetch(key) { raise ArgumentError, "Unknown codec: #{name.inspect}" }
        end

        # The codec of a segment without a readable manifest, from its first
        # frame: a MessagePack map with "fields" is compact, anything else json.
        #
        # @param path [String]
        # @return [String] canonical codec name
        def detect(path)
          open_segment(path) do |io|
            body = WireProtocol.read_frame(io)
            return JsonCrc32::NAME if body.nil? || body.empty?

            header = MessagePack.unpack(body)
            header.is_a?(Hash) && header.key?("fields") ? CompactDelta::NAME : JsonCrc32::NAME
          end
        rescue MessagePack::MalformedFormatError, SystemCallError
          JsonCrc32::NAME
        end

        # A Fact from decoded members (the output of
        # {JsonCanon.decode_fact_body}, already normalized and frozen): the
        # pure Struct takes them as they are, the native class through from_h.
        # @return [Fact]
        def fact(attributes)
          NATIVE ? Fact.from_h(attributes) : Fact.new(**attributes).freeze
        end

        # The bytes of `io` from its position on, for the native decoders; a
        # StringIO at its start hands over its String without a copy.
        # @param io [IO, StringIO]
        # @return [String]
        def rest(io)
          return io.string if io.is_a?(StringIO) && io.pos.zero?

          io.read || +""
        end

        # Opens a segment for decoding: the whole file in one read, so frame
        # scanning costs no system call per frame.
        # @yieldparam io [StringIO]
        def open_segment(path)
          yield StringIO.new(File.binread(path))
        end
      end
    end
  end
end
