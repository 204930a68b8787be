# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Serves the Rack app with puma (a development dependency, loaded
      # lazily) on a listener the adapter has already bound.
      class PumaRunner
        # @return [Boolean] puma can be required
        def self.available?
          require "puma"
          require "puma/events"
          require "puma/server"
          true
        rescue LoadError
          false
        end

        # @param app [#call]
        # @param listener [TCPServer] bound and listening
        # @param max_threads [Integer] puma worker threads (each SSE stream holds one)
        # @param idle_timeout [Numeric] keep-alive timeout
        def initialize(app, listener:, max_threads:, idle_timeout:)
          @app = app
          @listener = listener
          @max_threads = max_threads
          @idle_timeout = idle_timeout
        end

        # @return [Thread] puma's server thread; the listener accepts already
        def start
          @server = without_env_side_effects do
            Puma::Server.new(@app, Puma::Events.null,
                             min_threads: 0, max_threads: @max_threads, force_shutdown_after: 1,
                             persistent_timeout: @idle_timeout, environment: "production")
          end
          address = @listener.local_address
          @server.binder.inherit_tcp_listener(address.ip_address, address.ip_port, @listener)
          @thread = @server.run
        end

        # @param timeout [Numeric]
        def stop(timeout: 2)
          @server&.stop(false)
          @thread&.join(timeout)
        rescue StandardError
          nil
        end

        private

        # Puma::Server.new sets ENV["RACK_ENV"] when unset; keep the process env as it was.
        def without_env_side_effects
          had = ENV.key?("RACK_ENV")
          before = ENV["RACK_ENV"]
          yield
        ensure
          had ? ENV["RACK_ENV"] = before : ENV.delete("RACK_ENV")
        end
      end
    end
  end
end
