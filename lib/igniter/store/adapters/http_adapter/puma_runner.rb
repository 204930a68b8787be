# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Serves the Rack app with puma (a runtime dependency, required when
      # the first adapter starts) on a listener the adapter has already
      # bound, so a taken port raises in {HTTPAdapter#start_async}.
      #
      # Limits under puma: `read_timeout` is puma's first_data_timeout (a
      # request that stops arriving for that long gets 408), `idle_timeout`
      # its persistent_timeout (keep-alive), `max_body_bytes` is enforced
      # from the headers ({PumaBodyLimit}), `max_threads` bounds the requests
      # answered at once (streams run on threads of their own, see
      # {Instrument}). With `tls:` the listener speaks HTTPS (puma's MiniSSL).
      class PumaRunner
        # Puma versions with a Content-Length limit of their own.
        NATIVE_LIMIT_VERSION = Gem::Version.new("6.3.0")

        # Loads puma and the adapter's puma hooks.
        # @return [true]
        # @raise [LoadError] without puma
        def self.load!
          require "puma"
          require "puma/events"
          require "puma/server"
          require "puma/minissl"
          require_relative "puma_events"
          require_relative "puma_body_limit"
          Puma::Client.prepend(PumaBodyLimit) unless native_limit? || Puma::Client < PumaBodyLimit
          true
        end

        # @return [Boolean] puma can be required
        def self.available?
          load!
        rescue LoadError
          false
        end

        # @return [Boolean] puma limits Content-Length itself
        def self.native_limit?
          Gem::Version.new(Puma::Const::PUMA_VERSION) >= NATIVE_LIMIT_VERSION
        end

        # @param app [#call]
        # @param listener [GuardedListener] bound and listening
        # @param max_threads [Integer] requests served at once
        # @param idle_timeout [Numeric] keep-alive timeout
        # @param read_timeout [Numeric] seconds a request may stall
        # @param max_body_bytes [Integer]
        # @param tls [Hash, nil] `{cert:, key:}` PEM file paths
        # @param logger [ServerLogger, nil]
        # @param on_refused [#call, nil] `(env, status, bytes)` for requests refused from their headers
        def initialize(app, listener:, max_threads:, idle_timeout:, read_timeout:, max_body_bytes:, tls: nil,
                       logger: nil, on_refused: nil)
          @app = app
          @listener = listener
          @max_threads = max_threads
          @idle_timeout = idle_timeout
          @read_timeout = read_timeout
          @max_body_bytes = max_body_bytes
          @tls = tls
          @logger = logger
          @on_refused = on_refused
        end

        # @return [Thread] puma's server thread; the listener accepts already
        # @raise [ArgumentError] for TLS files puma cannot use
        def start
          self.class.load!
          @server = without_env_side_effects { Puma::Server.new(@app, PumaEvents.new(@logger), options) }
          binder = @server.binder
          binder.proto_env[PumaBodyLimit::LIMIT_KEY] = @max_body_bytes
          binder.proto_env[PumaBodyLimit::REFUSED_KEY] = @on_refused if @on_refused
          if @tls
            binder.inherit_ssl_listener(@listener, ssl_context)
          else
            address = @listener.local_address
            binder.inherit_tcp_listener(address.ip_address, address.ip_port, @listener)
          end
          @thread = @server.run
        end

        # @param timeout [Numeric]
        def stop(timeout: 2)
          @server&.stop(false)
          @thread&.join(timeout)
        rescue StandardError
          nil
        end

        # @return [Hash] puma's thread pool figures (`running`, `pool_capacity`, `max_threads`, `backlog`)
        def stats
          @server ? @server.stats : {}
        rescue StandardError
          {}
        end

        private

        def options
          opts = { min_threads: 0, max_threads: @max_threads, force_shutdown_after: 1,
                   persistent_timeout: @idle_timeout, first_data_timeout: @read_timeout, environment: "production" }
          opts[:http_content_length_limit] = @max_body_bytes if self.class.native_limit?
          opts
        end

        def ssl_context
          # Checked with OpenSSL first, so a bad file is named in one line.
          Transport::TLS.server_context(cert: @tls[:cert], key: @tls[:key])
          context = Puma::MiniSSL::Context.new
          context.cert = @tls[:cert]
          context.key = @tls[:key]
          context.verify_mode = Puma::MiniSSL::VERIFY_NONE
          context
        end

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
