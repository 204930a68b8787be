# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Prefix mounts with Rack::URLMap matching: a path hits a mount when it
      # equals it or continues with "/"; the longest mount wins; case-sensitive.
      # Works on a minimal env (no SERVER_NAME / HTTP_HOST / QUERY_STRING).
      #
      # Access: mounts in `open` need no token (health, readiness); the
      # dispatch mount decides per envelope ({DispatchHandler}); every other
      # mount is a read and needs a read (or write) token when the policy
      # guards reads — so a mount added later is guarded by default.
      class Router
        include ResponseHelper

        # @param mounts [Hash{String=>#call}]
        # @param logger [#warn, nil]
        # @param auth [Transport::Auth::Policy]
        # @param open [Array<String>] mounts anyone may call
        # @param self_authorizing [Array<String>] mounts that check the token themselves
        def initialize(mounts, logger: nil, auth: Transport::Auth::Policy.new, open: [], self_authorizing: [])
          # [mount, its prefix with "/", handler], longest first
          @mounts = mounts.sort_by { |path, _| -path.size }.map { |path, handler| [path, "#{path}/", handler] }.freeze
          @logger = logger
          @auth = auth
          @open = open
          @self_authorizing = self_authorizing
        end

        # @return [Array] Rack response; 404 without a mount, 401 without a
        #   needed token, 500 (JSON) when a handler raises
        def call(env)
          path = env["PATH_INFO"].to_s
          mount, _, handler = @mounts.find { |prefix, below, _| path == prefix || path.start_with?(below) }
          # The op label of a request is its mount (dispatch: the envelope op); mounts are a fixed set.
          env[Instrument::OP_KEY] ||= mount || "not_found"
          return json_response(404, { error: "Not found: #{env["REQUEST_METHOD"]} #{path}" }) unless handler

          unless @open.include?(mount) || @self_authorizing.include?(mount)
            denied = Authorization.deny(@auth, env, :read)
            return denied if denied
          end

          handler.call(env)
        rescue StandardError => e
          TransportSupport.log(@logger, :warn, "HTTPAdapter: #{e.class}: #{TransportSupport.safe_message(e)}")
          internal_error(e)
        end
      end
    end
  end
end
