# frozen_string_literal: true

require "openssl"

module Igniter
  module Ledger
    class Console
      # The console's optional shared secret. Two ways in, both checked in
      # constant time ({Store::Transport::Auth.token_matches?}):
      #
      # - `Authorization: Bearer TOKEN` on any request (curl, scripts, the
      #   `api/` endpoints);
      # - the session cookie the login form sets after a correct token. It
      #   holds HMAC-SHA256(token, "igniter-ledger console session"), never the
      #   token itself, so it stays valid across restarts and processes that
      #   share the token and dies when the token changes. HttpOnly,
      #   SameSite=Strict, scoped to the console's mount path, Secure over https.
      class Auth
        COOKIE = "igniter_ledger_console"
        SESSION_CONTEXT = "igniter-ledger console session"
        BEARER = /\ABearer[ \t]+(\S+)[ \t]*\z/.freeze

        # @param token [String, nil] nil = no authentication
        # @raise [ArgumentError] for anything but nil or a non-empty String
        def initialize(token)
          unless token.nil? || (token.is_a?(String) && !token.empty?)
            raise ArgumentError, "token must be a non-empty String or nil, got #{token.class}"
          end

          @token = token
          @session = token && OpenSSL::HMAC.hexdigest("SHA256", token, SESSION_CONTEXT)
        end

        # @return [Boolean] whether a token is required
        def enabled?
          !@token.nil?
        end

        # @param request [Rack::Request]
        # @return [Boolean] true without a token, or with a matching bearer token or session cookie
        def allowed?(request)
          return true unless enabled?

          bearer = request.get_header("HTTP_AUTHORIZATION").to_s[BEARER, 1]
          return true if bearer && Store::Transport::Auth.token_matches?(@token, bearer)

          cookie = request.cookies[COOKIE]
          !cookie.nil? && Store::Transport::Auth.token_matches?(@session, cookie)
        end

        # @param given [Object] what the login form sent
        # @return [Boolean]
        def token?(given)
          enabled? && Store::Transport::Auth.token_matches?(@token, given)
        end

        # Sets the session cookie on +response+.
        # @param response [Rack::Response]
        # @param request [Rack::Request]
        def sign_in(response, request)
          response.set_cookie(COOKIE, value: @session, path: cookie_path(request), httponly: true,
                                      same_site: :strict, secure: request.ssl?)
        end

        # Expires the session cookie on +response+.
        def sign_out(response, request)
          response.delete_cookie(COOKIE, path: cookie_path(request))
        end

        private

        def cookie_path(request)
          base = request.script_name.to_s
          base.empty? ? "/" : "#{base}/"
        end
      end
    end
  end
end
