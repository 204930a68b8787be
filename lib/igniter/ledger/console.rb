# frozen_string_literal: true

require "rack"
require_relative "../ledger"
require_relative "console/errors"
require_relative "console/html"
require_relative "console/time_coordinates"
require_relative "console/diff"
require_relative "console/read_model"
require_relative "console/status_model"
require_relative "console/auth"
require_relative "console/log_source"
require_relative "console/feed"
require_relative "console/assets"
require_relative "console/pages"
require_relative "console/json_api"
require_relative "console/router"

module Igniter
  # Igniter::Ledger is Igniter::Store (see lib/igniter/ledger.rb); the web console lives under it.
  module Ledger
    # A read-only web console over one store: a Rack app, mountable in any
    # Rack or Rails app (`mount Igniter::Ledger::Console.new(store) => "/ledger"`)
    # and served by the ledger server at `/ui`.
    #
    # Pages are rendered on the server (every value escaped, see {Html}) and
    # work without JavaScript; the shipped script (no CDN, no build step)
    # adds the live feed (Server-Sent Events), the metric charts and the
    # time-travel picker. Every page has a JSON twin under `api/` built from
    # the same read model, so what the browser shows is what a client gets.
    #
    # With +token:+ set, every request must authenticate: data clients send
    # `Authorization: Bearer TOKEN`; a browser signs in once through the
    # login form, which sets an HttpOnly cookie (see {Auth}).
    class Console
      # @param store [IgniterStore] the ledger to show (never written to)
      # @param token [String, Array<String>, nil] shared secret, or the secrets any of
      #   which lets a reader in (a read and a write token); nil = open (bind to loopback)
      # @param changefeed [ChangefeedBuffer, nil] feed for the live page; default
      #   the store's own changefeed when it is a ChangefeedBuffer, otherwise
      #   the console polls the log (see {LogSource})
      # @param status [#call, nil] returns the server's observability snapshot
      #   (a Hash like `GET /v1/status`); nil = what the store itself knows
      # @param title [String] shown in the header and the page titles
      # @param heartbeat_interval [Numeric] seconds of silence before an SSE keepalive
      # @param poll_interval [Numeric] seconds between log polls of the fallback feed
      # @raise [ArgumentError] for a store that is not an {IgniterStore} or a bad option
      def initialize(store, token: nil, changefeed: nil, status: nil, title: "igniter-ledger",
                     heartbeat_interval: Store::HTTPAdapter::SseBody::DEFAULT_HEARTBEAT_INTERVAL,
                     poll_interval: LogSource::DEFAULT_POLL_INTERVAL)
        unless store.is_a?(Store::IgniterStore)
          raise ArgumentError, "Console expects an Igniter::Store::IgniterStore, got #{store.class}"
        end
        raise ArgumentError, "status must respond to #call, got #{status.class}" unless status.nil? || status.respond_to?(:call)

        read_model = ReadModel.new(store)
        feed = Feed.new(store, changefeed: changefeed, heartbeat_interval: heartbeat_interval,
                               poll_interval: poll_interval)
        status_model = StatusModel.new(read_model, status: status, changefeed: feed.buffer)
        @feed = feed
        @router = Router.new(auth: Auth.new(token),
                             pages: Pages.new(read_model, status_model, title: title),
                             api: JsonApi.new(read_model, status_model, feed))
      end

      # @param env [Hash] Rack env; SCRIPT_NAME is the mount point
      # @return [Array] Rack response
      def call(env)
        @router.call(env)
      end

      # Ends every live-feed stream this console has open (the server calls
      # this when it stops). The console keeps answering other requests.
      # @return [self]
      def close
        @feed.close_streams
        self
      end

      # @return [Integer] live-feed streams currently open
      def open_streams
        @feed.open_streams
      end
    end
  end
end
