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
        # Name of the session cookie.
        COOKIE = "igniter_ledger_console"
        # HMAC message of session cookie values, so a cookie is not the token itself.
        SESSION_CONTEXT = "igniter-ledger console session"
        # An `Authorization: Bearer <token>` header value.
        BEARER = /\ABearer[ \t]+(\S+)[ \t]*\z/.freeze

        # @param token [String, Array<String>, nil] the token, or the tokens any
        #   of which lets a reader in (a server's read and write tokens); nil or
        #   an empty Array = no authentication
        # @raise [ArgumentError] for anything but nil or non-empty Strings
        def initialize(token)
          tokens = Array(token)
          unless tokens.all? { |t| t.is_a?(String) && !t.empty? }
            raise ArgumentError, "token must be a non-empty String (or an Array of them) or nil, got #{token.class}"
          end

          @tokens = tokens.freeze
          @sessions = tokens.map { |t| OpenSSL::HMAC.hexdigest("SHA256", t, SESSION_CONTEXT) }.freeze
        end

        # @return [Boolean] whether a token is required
        def enabled?
          !@tokens.empty?
        end

        # @param request [Rack::Request]
        # @return [Boolean] true without a token, or with a matching bearer token or session cookie
        def allowed?(request)
          return true unless enabled?

          bearer = request.get_header("HTTP_AUTHORIZATION").to_s[BEARER, 1]
          return true if bearer && any_match?(@tokens, bearer)

          cookie = request.cookies[COOKIE]
          !cookie.nil? && any_match?(@sessions, cookie)
        end

        # @param given [Object] what the login form sent
        # @return [Boolean]
        def token?(given)
          enabled? && any_match?(@tokens, given)
        end

        # Sets the session cookie of the token the login form sent on +response+.
        # @param response [Rack::Response]
        # @param request [Rack::Request]
        # @param given [String] the accepted token
        def sign_in(response, request, given)
          session = @sessions[@tokens.index { |t| Store::Transport::Auth.token_matches?(t, given) }]
          response.set_cookie(COOKIE, value: session, path: cookie_path(request), httponly: true,
                                      same_site: :strict, secure: request.ssl?)
        end

        # Expires the session cookie on +response+.
        def sign_out(response, request)
          response.delete_cookie(COOKIE, path: cookie_path(request))
        end

        private

        # Every candidate is compared (constant time each), so the time taken
        # does not tell which one matched.
        def any_match?(candidates, given)
          candidates.map { |candidate| Store::Transport::Auth.token_matches?(candidate, given) }.any?
        end

        def cookie_path(request)
          base = request.script_name.to_s
          base.empty? ? "/" : "#{base}/"
        end
      end
    end
  end
end
