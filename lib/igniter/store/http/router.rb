# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Prefix mounts with Rack::URLMap matching: a path hits a mount when it
      # equals it or continues with "/"; the longest mount wins; case-sensitive.
      # Works on a minimal env (no SERVER_NAME / HTTP_HOST / QUERY_STRING).
      class Router
        include ResponseHelper

        # @param mounts [Hash{String=>#call}]
        # @param logger [#warn, nil]
        def initialize(mounts, logger: nil)
          @mounts = mounts.sort_by { |path, _| -path.size }.freeze
          @logger = logger
        end

        # @return [Array] Rack response; 404 without a mount, 500 (JSON) when a handler raises
        def call(env)
          path = env["PATH_INFO"].to_s
          _, handler = @mounts.find { |mount, _| path == mount || path.start_with?("#{mount}/") }
          return json_response(404, { error: "Not found: #{env["REQUEST_METHOD"]} #{path}" }) unless handler

          handler.call(env)
        rescue StandardError => e
          TransportSupport.log(@logger, :warn, "HTTPAdapter: #{e.class}: #{TransportSupport.safe_message(e)}")
          internal_error(e)
        end
      end
    end
  end
end
