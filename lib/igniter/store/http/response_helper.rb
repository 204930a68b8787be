# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Rack triplets with JSON bodies. Headers are a plain Hash with exactly
      # "Content-Type" and "Content-Length" (0.5.2 shape, read by clients).
      module ResponseHelper
        # Content type of JSON responses.
        JSON_CONTENT_TYPE = "application/json"

        module_function

        # @param status [Integer]
        # @param payload [Object] JSON-encodable
        # @return [Array] Rack response
        def json_response(status, payload)
          body = JSON.generate(payload)
          [status, { "Content-Type" => JSON_CONTENT_TYPE, "Content-Length" => body.bytesize.to_s }, [body]]
        end

        # @return [Array] 405 with `{"error":"Method not allowed"}`
        def method_not_allowed
          json_response(405, { error: "Method not allowed" })
        end

        # @return [Array] 400 with `{"error": message}`
        def bad_request(message)
          json_response(400, { error: message })
        end

        # @return [Array] 500 without Ruby internals beyond the message's first line
        def internal_error(error)
          json_response(500, { error: "Internal error: #{TransportSupport.safe_message(error)}" })
        end

        # Query parameters; a repeated key gives an Array (see {.last_param}).
        # @return [Hash{String=>String, Array<String>}]
        def query_params(env)
          Rack::Utils.parse_query(env["QUERY_STRING"].to_s)
        rescue StandardError
          {}
        end

        # The last value of a possibly repeated query parameter.
        # @return [String, nil]
        def last_param(params, name)
          value = params[name]
          value.is_a?(Array) ? value.last : value
        end
      end
    end
  end
end
