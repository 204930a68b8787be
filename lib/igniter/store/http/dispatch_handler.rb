# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # `POST /v1/dispatch`: one request envelope in the body, the response
      # envelope out. Protocol-level failures are 200 with `status: "error"`;
      # transport failures are 400 (JSON), 401 (token), 413 (size).
      class DispatchHandler
        include ResponseHelper

        # @param interpreter [Protocol::Interpreter]
        # @param auth_token [String, nil] required (as Bearer) for mutating ops when set
        # @param max_body_bytes [Integer]
        def initialize(interpreter, auth_token:, max_body_bytes:)
          @interpreter = interpreter
          @auth_token = auth_token
          @max_body_bytes = max_body_bytes
        end

        # @return [Array] Rack response
        def call(env)
          return method_not_allowed unless env["REQUEST_METHOD"] == "POST"

          declared = env["CONTENT_LENGTH"].to_s
          return too_large if declared.match?(/\A\d+\z/) && declared.to_i > @max_body_bytes

          body = read_body(env["rack.input"])
          return too_large if body.bytesize > @max_body_bytes

          envelope, failure = parse(body)
          return failure if failure

          return json_response(401, { error: "Unauthorized" }) unless authorized?(env, envelope)

          json_response(200, @interpreter.wire.dispatch(envelope))
        end

        private

        # Reads one byte past the limit, so an undeclared oversized body is
        # noticed without reading all of it.
        def read_body(input)
          return +"" if input.nil?

          input.read(@max_body_bytes + 1) || +""
        end

        # @return [Array(Object, nil), Array(nil, Array)] the envelope, or a 400 response
        def parse(body)
          envelope, problem = TransportSupport.parse_json(body)
          problem ? [nil, bad_request(problem)] : [envelope, nil]
        end

        def authorized?(env, envelope)
          header = env["HTTP_AUTHORIZATION"].to_s
          given = header.start_with?("Bearer ") ? header.delete_prefix("Bearer ").strip : nil
          Transport::Auth.allows?(@auth_token, given,
                                  guarded: envelope.is_a?(Hash) && TransportSupport.mutating_op?(envelope[:op]))
        end

        def too_large
          json_response(413, { error: "Request body exceeds #{@max_body_bytes} bytes" })
        end
      end
    end
  end
end
