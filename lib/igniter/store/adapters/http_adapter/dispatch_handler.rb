# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # `POST /v1/dispatch`: one request envelope in the body, the response
      # envelope out. The body of every answer keeps 0.5.2's envelope shape;
      # the status says what happened (see README "HTTP status codes"):
      # 200 ok; 400 not JSON or not an envelope (wrong protocol or
      # schema_version); 401 no or a wrong token, 403 a read token writing;
      # 404 an unknown op (the envelope lists `valid_ops`); 413 a body over
      # the limit; 422 a packet with a missing or invalid field; 500 a fault
      # of the server.
      class DispatchHandler
        include ResponseHelper

        # HTTP status of each {Protocol::WireEnvelope::Failure} kind.
        STATUS_OF = { bad_envelope: 400, unknown_op: 404, invalid_packet: 422, internal: 500 }.freeze
        # Ops sorted once for the 404 body.
        VALID_OPS = Protocol::WireEnvelope::OPERATIONS.map(&:to_s).freeze

        # @param interpreter [Protocol::Interpreter]
        # @param auth [Transport::Auth::Policy]
        # @param max_body_bytes [Integer]
        # @param metrics [ServerMetrics, nil] facts written and replayed are counted here
        def initialize(interpreter, auth:, max_body_bytes:, metrics: nil)
          @interpreter = interpreter
          @auth = auth
          @max_body_bytes = max_body_bytes
          @metrics = metrics
        end

        # @return [Array] Rack response
        def call(env)
          return method_not_allowed unless env["REQUEST_METHOD"] == "POST"

          declared = env["CONTENT_LENGTH"].to_s
          return too_large if declared.match?(/\A\d+\z/) && declared.to_i > @max_body_bytes

          body = read_body(env["rack.input"])
          return too_large if body.bytesize > @max_body_bytes

          envelope, problem = TransportSupport.parse_json(body)
          return bad_request(problem) if problem
          return not_an_envelope(envelope) unless envelope.is_a?(Hash)

          op = TransportSupport.op_label(envelope[:op])
          env[Instrument::OP_KEY] = op
          denied = Authorization.deny(@auth, env, TransportSupport.access_of(envelope[:op]))
          return denied if denied

          answer(env, envelope, op)
        end

        private

        def answer(_env, envelope, op)
          response, failure = @interpreter.wire.dispatch_classified(envelope)
          TransportSupport.count_facts(@metrics, :http, op, response)
          return json_response(200, response) if failure.nil?

          json_response(STATUS_OF.fetch(failure.kind), explained(response, failure, envelope))
        end

        # The envelope's error, said for a client: what is missing or wrong
        # (not "Internal error"), and the valid ops for an unknown one.
        def explained(response, failure, envelope)
          case failure.kind
          when :unknown_op then response.merge(valid_ops: VALID_OPS)
          when :invalid_packet then response.merge(error: TransportSupport.packet_problem(failure.error, envelope[:op]))
          else response
          end
        end

        def not_an_envelope(value)
          json_response(400, { protocol: Protocol::WireEnvelope::PROTOCOL,
                               schema_version: Protocol::WireEnvelope::SCHEMA_VERSION, request_id: nil,
                               status: :error,
                               error: "Invalid envelope: expected a JSON object, got #{TransportSupport.json_kind(value)}" })
        end

        # Reads one byte past the limit, so an undeclared oversized body is
        # noticed without reading all of it.
        def read_body(input)
          return +"" if input.nil?

          input.read(@max_body_bytes + 1) || +""
        end

        def too_large
          json_response(413, { error: "Request body exceeds #{@max_body_bytes} bytes" })
        end
      end
    end
  end
end
