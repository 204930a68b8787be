# frozen_string_literal: true

require_relative "open_api"

module Igniter
  module Store
    class HTTPAdapter
      # `GET /v1/openapi.json`: the {OpenApi} document (open: it holds no data).
      class OpenApiHandler < GetHandler
        # @param console [Boolean] whether `/ui` is served (and so described)
        def initialize(console:)
          super(nil)
          @console = console
        end

        private

        def get(_env)
          body = OpenApi.json(console: @console)
          [200, { "Content-Type" => JSON_CONTENT_TYPE, "Content-Length" => body.bytesize.to_s }, [body]]
        end
      end
    end
  end
end
