# frozen_string_literal: true

require "json"

module Igniter
  module Store
    module Transport
      # Compact JSON in a {WireProtocol} frame: the unit both framed
      # protocols (op and TCP envelope) send, in both directions.
      module JsonFrame
        module_function

        # @param payload [Object] JSON-encodable
        # @return [String] binary frame
        # @raise [ArgumentError] body longer than WireProtocol::MAX_FRAME_LEN
        # @raise [JSON::GeneratorError] payload not encodable
        def encode(payload)
          WireProtocol.encode_frame(JSON.generate(payload))
        end

        # Reads one frame and parses it with Symbol keys.
        # @param io [IO]
        # @return [Object, nil] nil on EOF or a damaged frame
        # @raise [JSON::ParserError] body is not JSON
        def read(io)
          body = WireProtocol.read_frame(io)
          body && JSON.parse(body.force_encoding(Encoding::UTF_8), symbolize_names: true)
        end
      end
    end
  end
end
