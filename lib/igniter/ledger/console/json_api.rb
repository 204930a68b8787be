# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # The console's data endpoints (`api/...`): the read model's Hashes as
      # JSON, and the live feed. Same parameters as the pages.
      class JsonApi
        # Path => handler method of the JSON API.
        ROUTES = {
          "/api/stores" => :stores, "/api/keys" => :keys, "/api/history" => :history, "/api/fact" => :fact,
          "/api/storage" => :storage, "/api/status" => :status, "/api/events" => :events
        }.freeze

        # @param read_model [ReadModel]
        # @param status_model [StatusModel]
        # @param feed [Feed]
        def initialize(read_model, status_model, feed)
          @read = read_model
          @status = status_model
          @feed = feed
        end

        # @param path [String] PATH_INFO below the mount point
        # @return [Boolean]
        def route?(path)
          ROUTES.key?(path)
        end

        # @param path [String] one of ROUTES
        # @param request [Rack::Request]
        # @return [Array] Rack response
        # @raise [BadRequest]
        def call(path, request)
          name = ROUTES.fetch(path)
          return @feed.call(request.env) if name == :events

          Router.json(200, payload(name, request.params))
        end

        private

        def payload(name, params)
          case name
          when :stores then @read.census
          when :keys
            @read.keys(store: params["store"], scope: params["scope"], coords: TimeCoordinates.from_params(params),
                       page: params.fetch("page", 1), per_page: params.fetch("per_page", ReadModel::DEFAULT_PER_PAGE))
          when :history
            @read.history(store: params["store"], key: params["key"], coords: TimeCoordinates.from_params(params))
          when :fact then @read.fact(params["id"])
          when :storage then @read.storage
          when :status then @status.snapshot
          end
        end
      end
    end
  end
end
