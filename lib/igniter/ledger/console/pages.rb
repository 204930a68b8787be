# frozen_string_literal: true

require_relative "views/layout"
require_relative "views/tree"
require_relative "views/time_travel"
require_relative "views/ledger_pages"
require_relative "views/operations_pages"

module Igniter
  module Ledger
    class Console
      # The console's HTML pages, rendered on the server from the read
      # model. Page code builds markup only through {Html}, so every value
      # is escaped; the script adds the live parts (feed, charts).
      class Pages
        include Html
        include Views::Layout
        include Views::Tree
        include Views::TimeTravel
        include Views::LedgerPages
        include Views::OperationsPages

        # Path => handler method of the HTML pages.
        ROUTES = {
          "" => :stores_page, "/" => :stores_page, "/store" => :store_page, "/key" => :key_page,
          "/fact" => :fact_page, "/feed" => :feed_page, "/storage" => :storage_page, "/status" => :status_page
        }.freeze

        # @param read_model [ReadModel]
        # @param status_model [StatusModel]
        # @param title [String]
        def initialize(read_model, status_model, title:)
          @read = read_model
          @status = status_model
          @title = title.to_s
        end

        # @param path [String] PATH_INFO below the mount point
        # @param request [Rack::Request]
        # @return [String, nil] the page, nil when no page has this path
        # @raise [BadRequest] for unusable parameters
        def render(path, request)
          name = ROUTES[path]
          name && __send__(name, request)
        end
      end
    end
  end
end
