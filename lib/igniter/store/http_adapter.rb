# frozen_string_literal: true

require "rack"
require "set"

module Igniter
  module Store
    # The envelope protocol and the server's read-only surface over HTTP
    # (spec 05 §11): a Rack app, served by puma when it can be loaded and
    # otherwise by {BuiltinServer}.
    #
    # Differences from 0.5.2, on purpose: binds 127.0.0.1 by default;
    # {#start_async} binds synchronously and raises on failure; bodies are
    # size-limited (413); an optional shared secret guards mutating
    # dispatch ops (401); SSE has no catch-up/live gap, a heartbeat, and
    # rejects a negative cursor (400).
    #
    # Body limit and puma: puma 5 reads a whole request body before the app
    # runs, so there the 413 saves parsing but not the buffering; the
    # built-in server refuses from the Content-Length header before reading.
    class HTTPAdapter
      DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
      DEFAULT_MAX_CONNECTIONS = 64
      DEFAULT_READ_TIMEOUT = 10
      DEFAULT_IDLE_TIMEOUT = 30
      SERVERS = %i[auto puma builtin].freeze

      # @return [String]
      attr_reader :host
      # @return [Integer] the configured port (see {#bind_address} for the bound one)
      attr_reader :port

      # @param interpreter [Protocol::Interpreter]
      # @param port [Integer] 0 = an ephemeral port
      # @param host [String]
      # @param health_provider [#call, nil] `GET /v1/health` payload
      # @param status_provider [#call, nil] `GET /v1/status` payload
      # @param ready_provider [#call, nil] truthy = ready
      # @param metrics_provider [#call, nil] `GET /v1/metrics` payload
      # @param events_provider [#call, nil] Array for `GET /v1/events/recent`
      # @param changefeed_provider [#call, nil] the ChangefeedBuffer for SSE
      # @param auth_token [String, nil] Bearer token required for mutating dispatch ops
      # @param max_body_bytes [Integer] larger request bodies get 413
      # @param server [Symbol] :auto (puma if loadable, else :builtin), :puma or :builtin
      # @param max_connections [Integer] concurrent connections (puma: worker threads)
      # @param read_timeout [Numeric] seconds to receive one request (builtin server)
      # @param idle_timeout [Numeric] seconds a keep-alive connection may idle
      # @param sse_heartbeat_interval [Numeric] seconds of silence before `: keepalive`
      # @param logger [#warn, #info, nil] e.g. a ServerLogger; nil = silent
      # @param console [#call, nil] web console Rack app served at `/ui` (see
      #   Igniter::Ledger::Console); its streams are closed by {#stop}
      # @raise [ArgumentError] for an invalid option
      def initialize(interpreter:, port: 7300, host: "127.0.0.1", health_provider: nil, status_provider: nil,
                     ready_provider: nil, metrics_provider: nil, events_provider: nil, changefeed_provider: nil,
                     auth_token: nil, max_body_bytes: DEFAULT_MAX_BODY_BYTES, server: :auto,
                     max_connections: DEFAULT_MAX_CONNECTIONS, read_timeout: DEFAULT_READ_TIMEOUT,
                     idle_timeout: DEFAULT_IDLE_TIMEOUT,
                     sse_heartbeat_interval: SseBody::DEFAULT_HEARTBEAT_INTERVAL, logger: nil, console: nil)
        validate!(auth_token, max_body_bytes, server, max_connections, sse_heartbeat_interval)
        @interpreter = interpreter
        @host = host
        @port = port
        @providers = { health: health_provider, status: status_provider, ready: ready_provider,
                       metrics: metrics_provider, events: events_provider, changefeed: changefeed_provider }
        @auth_token = auth_token
        @max_body_bytes = max_body_bytes
        @server = server
        @max_connections = max_connections
        @read_timeout = read_timeout
        @idle_timeout = idle_timeout
        @sse_heartbeat_interval = sse_heartbeat_interval
        @logger = logger
        @console = console
        @streams = Set.new.compare_by_identity
        @lock = Mutex.new
        @listener = nil
        @runner = nil
        @stopped = false
      end

      # @return [#call] the Rack app (built once)
      def rack_app
        @lock.synchronize { @rack_app ||= build_app }
      end

      # `"host:port"`; once bound, the numeric address and the real port
      # (port 0 becomes the ephemeral port).
      # @return [String]
      def bind_address
        listener = @listener
        return "#{@host}:#{@port}" if listener.nil?

        address = listener.local_address
        Server::Address.format(address.ip_address, address.ip_port)
      rescue IOError, SystemCallError
        "#{@host}:#{@port}"
      end

      # @return [Symbol, nil] :puma or :builtin once started
      attr_reader :server_kind

      # Binds and serves; blocks until {#stop}.
      # @raise [SystemCallError] e.g. Errno::EADDRINUSE
      def start
        start_async
        @serve_thread&.join
        nil
      end

      # Binds synchronously and serves in the background. When it returns
      # the listener accepts connections.
      # @return [self]
      # @raise [SystemCallError] bind failures (e.g. Errno::EADDRINUSE)
      # @raise [LoadError] `server: :puma` without puma
      # @raise [RuntimeError] when already started
      def start_async
        @lock.synchronize do
          raise "HTTPAdapter already started on #{bind_address}" if @listener
          raise "HTTPAdapter was stopped; build a new one" if @stopped

          kind = resolve_server
          listener = TCPServer.new(@host, @port)
          begin
            @runner = build_runner(kind, listener)
            @serve_thread = @runner.start
          rescue StandardError, LoadError
            listener.close
            raise
          end
          @listener = listener
          @server_kind = kind
        end
        TransportSupport.log(@logger, :info, "HTTPAdapter listening on #{bind_address} (server=#{@server_kind})")
        self
      end

      # Ends open SSE streams, stops the server and closes the listener.
      # Idempotent; fine on an adapter never started.
      # @return [self]
      def stop
        streams = @lock.synchronize do
          @stopped = true
          @streams.to_a
        end
        streams.each(&:close)
        @console&.close
        runner, listener = @lock.synchronize { [@runner, @listener] }
        runner&.stop(timeout: 2)
        Transport::SocketIO.close_quietly(listener)
        self
      end

      # @return [Integer] SSE streams currently open
      def open_streams
        @lock.synchronize { @streams.size }
      end

      private

      def validate!(auth_token, max_body_bytes, server, max_connections, heartbeat)
        Transport::OptionChecks.token!(auth_token)
        Transport::OptionChecks.positive_integer!(:max_body_bytes, max_body_bytes)
        raise ArgumentError, "server must be one of #{SERVERS.inspect}, got #{server.inspect}" unless SERVERS.include?(server)
        Transport::OptionChecks.positive_integer!(:max_connections, max_connections)
        return if heartbeat.is_a?(Numeric) && heartbeat.positive?

        raise ArgumentError, "sse_heartbeat_interval must be a positive number, got #{heartbeat.inspect}"
      end

      def build_app
        p = @providers
        Router.new(
          {
            **console_mount,
            "/v1/dispatch" => DispatchHandler.new(@interpreter, auth_token: @auth_token,
                                                                max_body_bytes: @max_body_bytes),
            "/v1/health" => HealthHandler.new(p[:health]),
            "/v1/ready" => ReadyHandler.new(p[:ready]),
            "/v1/status" => StatusHandler.new(@interpreter, p[:status]),
            "/v1/metrics" => MetricsHandler.new(p[:metrics]),
            "/v1/events/recent" => EventsRecentHandler.new(p[:events]),
            "/v1/events" => SseEventsHandler.new(p[:changefeed], heartbeat_interval: @sse_heartbeat_interval,
                                                                 on_open: method(:stream_opened),
                                                                 on_close: method(:stream_closed)),
            "/v1/metadata" => MetadataHandler.new(@interpreter),
            "/v1/compaction/activity" => CompactionActivityHandler.new(@interpreter)
          },
          logger: @logger
        )
      end

      # The web console at "/ui"; Rack::URLMap moves the prefix into
      # SCRIPT_NAME, as a Rails mount does.
      def console_mount
        @console ? { "/ui" => Rack::URLMap.new("/ui" => @console) } : {}
      end

      def stream_opened(body)
        stopped = @lock.synchronize do
          @streams << body
          @stopped
        end
        body.close if stopped
      end

      def stream_closed(body)
        @lock.synchronize { @streams.delete(body) }
      end

      def resolve_server
        case @server
        when :builtin then :builtin
        when :puma
          raise LoadError, "HTTPAdapter server: :puma requires the puma gem" unless PumaRunner.available?

          :puma
        else PumaRunner.available? ? :puma : :builtin
        end
      end

      def build_runner(kind, listener)
        app = rack_app_unlocked
        if kind == :puma
          PumaRunner.new(app, listener: listener, max_threads: @max_connections, idle_timeout: @idle_timeout)
        else
          BuiltinServer.new(app, listener: listener, max_connections: @max_connections, read_timeout: @read_timeout,
                                 idle_timeout: @idle_timeout, max_body_bytes: @max_body_bytes, logger: @logger)
        end
      end

      # Called with @lock held (from {#start_async}).
      def rack_app_unlocked
        @rack_app ||= build_app
      end
    end
  end
end

require_relative "http/response_helper"
require_relative "http/router"
require_relative "http/dispatch_handler"
require_relative "http/simple_handlers"
require_relative "http/sse_body"
require_relative "http/sse_events_handler"
require_relative "http/builtin_server"
require_relative "http/puma_runner"
