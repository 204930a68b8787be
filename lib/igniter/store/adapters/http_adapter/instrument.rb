# frozen_string_literal: true

require "securerandom"

module Igniter
  module Store
    class HTTPAdapter
      # Outermost layer of the Rack app: every request is counted
      # ({ServerMetrics}, transport `http`) and logged, one access line at
      # info (5xx at warn): method, path, status, op, duration, bytes in and
      # out, request id and peer. It lives in the app, not in the server, so
      # an adapter mounted in another Rack app counts and logs the same.
      #
      # A sized response is recorded when the app returns; a streamed one
      # (SSE) when it ends, with the bytes it sent. When the server offers
      # response hijacking (puma), a streamed body is written by a thread of
      # its own, so a long-lived stream never holds a server worker.
      class Instrument
        # env key handlers set to the op label of the request (dispatch: the envelope op).
        OP_KEY = "igniter_ledger.op"
        # env key holding this request's id.
        REQUEST_ID_KEY = "igniter_ledger.request_id"
        # A client's X-Request-Id is used when it looks like an id (and echoed back).
        REQUEST_ID = /\A[\w.:-]{1,128}\z/.freeze
        # Query parameters never written to the log.
        SECRET_PARAMS = /(\A|&)(access_token|token)=[^&]*/.freeze

        # Counts bytes of a streamed body and records the request when it ends.
        class CountingBody
          # @param body [#each]
          # @param finish [#call] called once with the bytes sent
          def initialize(body, finish)
            @body = body
            @finish = finish
            @bytes = 0
            @finished = false
          end

          # @yieldparam chunk [String]
          def each
            @body.each do |chunk|
              @bytes += chunk.bytesize
              yield chunk
            end
          end

          # Closes the inner body and records the request (once).
          # @return [nil]
          def close
            @body.close if @body.respond_to?(:close)
          ensure
            finish
          end

          private

          def finish
            return if @finished

            @finished = true
            @finish.call(@bytes)
          end
        end

        # @param app [#call]
        # @param metrics [ServerMetrics]
        # @param logger [ServerLogger, nil] component `http`
        # @param write_timeout [Numeric] seconds a detached stream waits for a peer that stopped reading
        # @param on_detach [#call, nil] called with the thread of each detached stream
        def initialize(app, metrics:, logger:, write_timeout:, on_detach: nil)
          @app = app
          @metrics = metrics
          @logger = logger
          @write_timeout = write_timeout
          @on_detach = on_detach
        end

        # @param env [Hash] Rack env
        # @return [Array] Rack response
        def call(env)
          started = Transport::Clock.monotonic
          request_id = request_id_of(env)
          status, headers, body = @app.call(env)
          headers = headers.merge("X-Request-Id" => request_id) if env["HTTP_X_REQUEST_ID"] == request_id
          length = content_length(headers, body)
          return sized(env, started, status, headers, body, length) if length

          streamed(env, started, status, headers, body)
        end

        # Records a request that never reached the app (refused by the server
        # from its headers, e.g. an oversized body); see {PumaRunner}.
        # @param env [Hash]
        # @param status [Integer]
        # @param bytes_out [Integer]
        # @return [nil]
        def refused(env, status, bytes_out)
          request_id_of(env)
          env[OP_KEY] ||= "unknown"
          record(env, status, bytes_out, 0.0)
        end

        private

        def request_id_of(env)
          env[REQUEST_ID_KEY] ||= begin
            given = env["HTTP_X_REQUEST_ID"].to_s
            given.match?(REQUEST_ID) ? given : SecureRandom.hex(8)
          end
        end

        def sized(env, started, status, headers, body, length)
          record(env, status, length, Transport::Clock.monotonic - started)
          [status, headers, body]
        end

        def streamed(env, started, status, headers, body)
          setup = Transport::Clock.monotonic - started
          counted = CountingBody.new(body, ->(bytes) { record(env, status, bytes, setup) })
          return [status, headers, counted] unless env["rack.hijack?"]

          [status, headers.merge("rack.hijack" => ->(io) { detach(counted, io) }), []]
        end

        # The stream runs on its own thread; the server forgets the socket.
        def detach(body, io)
          thread = Thread.new do
            body.each { |chunk| Transport::SocketIO.write_all(io, chunk, @write_timeout, per_wait: true) }
          rescue IOError, SystemCallError
            nil # the peer left
          ensure
            body.close
            Transport::SocketIO.close_quietly(io)
          end
          thread.report_on_exception = false
          @on_detach&.call(thread)
        end

        def content_length(headers, body)
          declared = headers["Content-Length"] || headers["content-length"]
          return declared.to_i if declared
          return body.sum(&:bytesize) if body.is_a?(Array)

          nil
        end

        def record(env, status, bytes_out, duration)
          op = env[OP_KEY] || "unknown"
          bytes_in = env["CONTENT_LENGTH"].to_s.match?(/\A\d+\z/) ? env["CONTENT_LENGTH"].to_i : 0
          @metrics.record_request(connection_id: nil, op: op, transport: :http, status: status.to_i,
                                  bytes_in: bytes_in, bytes_out: bytes_out, duration: duration)
          @metrics.record_error(op: op, error_class: ERROR_CLASSES.fetch(status.to_i, "HTTP#{status}"),
                                transport: :http) if status.to_i >= 400
          log(env, status.to_i, op, duration, bytes_in, bytes_out)
          nil
        end

        def log(env, status, op, duration, bytes_in, bytes_out)
          return unless @logger

          path = "#{env["SCRIPT_NAME"]}#{env["PATH_INFO"]}"
          fields = { method: env["REQUEST_METHOD"], path: path }
          query = env["QUERY_STRING"].to_s.gsub(SECRET_PARAMS) { "#{Regexp.last_match(1)}#{Regexp.last_match(2)}=[redacted]" }
          fields[:query] = query unless query.empty?
          fields.merge!(status: status, op: op, duration_ms: (duration * 1000).round(3), bytes_in: bytes_in,
                        bytes_out: bytes_out, request_id: env[REQUEST_ID_KEY], remote: env["REMOTE_ADDR"] || "-")
          @logger.public_send(status >= 500 ? :warn : :info, "request", **fields)
        end

        # The error class label of an HTTP failure status.
        ERROR_CLASSES = {
          400 => "BadRequest", 401 => "Unauthorized", 403 => "Forbidden", 404 => "NotFound",
          405 => "MethodNotAllowed", 408 => "RequestTimeout", 409 => "Conflict", 413 => "PayloadTooLarge",
          422 => "UnprocessableEntity", 500 => "InternalError", 503 => "ServiceUnavailable"
        }.freeze
      end
    end
  end
end
