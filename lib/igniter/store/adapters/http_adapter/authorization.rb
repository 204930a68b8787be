# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # The token of an HTTP request and the answer when it is not enough.
      # A token comes as `Authorization: Bearer <token>`, or, for GET
      # requests, as the `access_token` query parameter (RFC 6750 §2.3),
      # because a browser's EventSource cannot set headers for SSE.
      module Authorization
        # Sent with a 401, as RFC 6750 asks.
        CHALLENGE = 'Bearer realm="igniter-ledger"'

        module_function

        # @param env [Hash] Rack env
        # @return [String, nil]
        def token(env)
          header = env["HTTP_AUTHORIZATION"].to_s
          return header.delete_prefix("Bearer ").strip if header.start_with?("Bearer ")
          return nil unless env["REQUEST_METHOD"] == "GET"

          value = ResponseHelper.last_param(ResponseHelper.query_params(env), "access_token")
          value.is_a?(String) && !value.empty? ? value : nil
        end

        # @param policy [Transport::Auth::Policy]
        # @param env [Hash]
        # @param access [Symbol] :open, :read or :write
        # @return [Array, nil] a 401/403 Rack response, or nil when the request may go on
        def deny(policy, env, access)
          case policy.check(access, token(env))
          when :ok then nil
          when :forbidden
            ResponseHelper.json_response(403, { error: "Forbidden: a read token cannot write; use the write token" })
          else unauthorized(access)
          end
        end

        # @param access [Symbol]
        # @return [Array] 401 naming the token the request needs
        def unauthorized(access)
          what = access == :write ? "the write token" : "a read or write token"
          status, headers, body = ResponseHelper.json_response(
            401, { error: "Unauthorized: this request needs #{what} (Authorization: Bearer <token>)" }
          )
          [status, headers.merge("WWW-Authenticate" => CHALLENGE), body]
        end
      end
    end
  end
end
