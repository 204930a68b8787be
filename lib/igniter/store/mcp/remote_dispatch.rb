# frozen_string_literal: true

require "net/http"
require "uri"

module Igniter
  module Store
    class MCPAdapter
      # Client of `POST /v1/dispatch` (an {HTTPAdapter}), for
      # {MCPAdapter.remote}. Bounded timeouts (0.5.2 used Net::HTTP's 60 s
      # defaults) and an optional Bearer token.
      class RemoteDispatch
        # Seconds to connect to the remote server.
        DEFAULT_OPEN_TIMEOUT = 5
        # Seconds to wait for the remote server's reply.
        DEFAULT_READ_TIMEOUT = 30

        # @return [URI::HTTP] the dispatch URI
        attr_reader :uri

        # @param endpoint [String, URI] base URL; an empty or "/" path means `/v1/dispatch`
        # @param token [String, nil] sent as `Authorization: Bearer <token>`
        # @param open_timeout [Numeric] seconds to connect
        # @param read_timeout [Numeric] seconds to wait for the response
        # @raise [ArgumentError] for a URL that is not http(s)
        def initialize(endpoint, token: nil, open_timeout: DEFAULT_OPEN_TIMEOUT, read_timeout: DEFAULT_READ_TIMEOUT)
          uri = URI(endpoint.to_s)
          raise ArgumentError, "RemoteDispatch expects an http(s) URL, got #{endpoint.inspect}" unless uri.is_a?(URI::HTTP)

          uri = uri.dup
          uri.path = "/v1/dispatch" if uri.path.to_s.empty? || uri.path == "/"
          @uri = uri
          @token = token
          @open_timeout = open_timeout
          @read_timeout = read_timeout
        end

        # Sends one envelope.
        # @return [Hash] the response envelope (Symbol keys at every depth)
        # @raise [RuntimeError] "HTTP <uri> returned <code>" for a non-2xx answer
        # @raise [SystemCallError, Net::OpenTimeout, Net::ReadTimeout] transport failures
        def dispatch(op:, packet:, request_id:)
          envelope = { protocol: "igniter_store", schema_version: 1, request_id: request_id, op: op, packet: packet }
          request = Net::HTTP::Post.new(@uri.request_uri, "Content-Type" => "application/json")
          request["Authorization"] = "Bearer #{@token}" if @token
          request.body = JSON.generate(envelope)
          response = Net::HTTP.start(@uri.host, @uri.port, use_ssl: @uri.scheme == "https",
                                                           open_timeout: @open_timeout, read_timeout: @read_timeout,
                                                           write_timeout: @read_timeout) do |http|
            http.request(request)
          end
          return JSON.parse(response.body, symbolize_names: true) if response.is_a?(Net::HTTPSuccess)

          failed(response)
        end

        private

        # A 4xx/5xx of the dispatch endpoint carries an error envelope (its
        # message is the answer); a token problem says which token to pass.
        # @raise [RuntimeError]
        def failed(response)
          case response.code
          when "401" then raise "HTTP #{@uri} returned 401: the server needs a read token (token:)"
          when "403" then raise "HTTP #{@uri} returned 403: this token may not do that"
          end
          envelope = begin
            JSON.parse(response.body.to_s, symbolize_names: true)
          rescue JSON::ParserError
            nil
          end
          return envelope if envelope.is_a?(Hash) && envelope.key?(:status) && envelope.key?(:protocol)

          raise "HTTP #{@uri} returned #{response.code}"
        end
      end
    end
  end
end
