# frozen_string_literal: true

require "rack"
require "set"

module Igniter
  module Store
    # The envelope protocol and the server's read surface over HTTP
    # (doc/servers.md "Envelope transports"): a Rack app ({#rack_app}), served by puma.
    #
    # Differences from 0.5.2, on purpose: binds 127.0.0.1 by default;
    # {#start_async} binds synchronously and raises on failure; bodies are
    # size-limited (413, from the headers, before the body is read); client
    # mistakes get 4xx (see {DispatchHandler}); a write token guards
    # mutating dispatch ops and a read token (or `auth_reads`) every read
    # endpoint (401/403; health and readiness stay open); `GET /metrics`
    # (Prometheus text) and `/v1/metrics` count every request, also when
    # the app is mounted in another Rack app; an access log line per request;
    # SSE has no catch-up/live gap, a heartbeat, runs off puma's worker
    # threads, and rejects a negative cursor (400); HTTPS with `tls_cert:`.
    class HTTPAdapter
      # Largest request body accepted.
      DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
      # Connections served at once; more are refused.
      DEFAULT_MAX_CONNECTIONS = 64
      # Seconds to wait for a request's bytes.
      DEFAULT_READ_TIMEOUT = 10
      # Seconds a keep-alive connection may stay idle.
      DEFAULT_IDLE_TIMEOUT = 30
      # Event streams open at once (each has a thread); more get 503.
      DEFAULT_MAX_STREAMS = 1024
      # Accepted `server:` values.
      SERVERS = %i[auto puma].freeze
      # Mounts anyone may call, even when reads need a token.
      OPEN_MOUNTS = %w[/v1/health /v1/ready /v1/openapi.json].freeze

      # @return [String]
      attr_reader :host
      # @return [Integer] the configured port (see {#bind_address} for the bound one)
      attr_reader :port
      # @return [ServerMetrics] where this adapter counts its requests
      attr_reader :metrics

      # @param interpreter [Protocol::Interpreter]
      # @param port [Integer] 0 = an ephemeral port
      # @param host [String]
      # @param health_provider [#call, nil] `GET /v1/health` payload
      # @param status_provider [#call, nil] `GET /v1/status` payload
      # @param ready_provider [#call, nil] truthy = ready
      # @param metrics_provider [#call, nil] `GET /v1/metrics` payload (default: {#metrics_document})
      # @param prometheus_provider [#call, nil] metric families for `GET /metrics` (default: {#metrics}' own)
      # @param events_provider [#call, nil] Array for `GET /v1/events/recent`
      # @param changefeed_provider [#call, nil] the ChangefeedBuffer for SSE
      # @param changefeed_log_provider [#call, nil] the store whose commits that
      #   buffer carries: SSE positions the ring no longer holds (after a
      #   restart) are read from its log (doc/feed_positions.md)
      # @param auth_token [String, nil] the write token (0.5.2's name), required as Bearer for mutating ops
      # @param read_token [String, nil] required (or the write token) by every read endpoint
      # @param auth_reads [Boolean] reads need a token even without a read token
      # @param auth [Transport::Auth::Policy, nil] instead of the three above
      # @param max_body_bytes [Integer] larger request bodies get 413
      # @param server [Symbol] :auto or :puma (the same: puma serves HTTP)
      # @param max_connections [Integer] requests served at once (puma's worker threads)
      # @param max_streams [Integer] SSE streams open at once
      # @param read_timeout [Numeric] seconds a request may stall (and a stream's peer may stop reading)
      # @param idle_timeout [Numeric] seconds a keep-alive connection may idle
      # @param sse_heartbeat_interval [Numeric] seconds of silence before `: keepalive`
      # @param logger [ServerLogger, #warn, nil] nil = silent; a ServerLogger logs as component `http`
      # @param metrics [ServerMetrics, nil] nil = metrics of its own
      # @param tls_cert [String, nil] PEM certificate: serve HTTPS
      # @param tls_key [String, nil] PEM private key of tls_cert
      # @param console [#call, nil] web console Rack app served at `/ui` (see
      #   Igniter::Ledger::Console; it checks tokens itself); its streams are closed by {#stop}
      # @raise [ArgumentError] for an invalid option
      def initialize(interpreter:, port: 7300, host: "127.0.0.1", health_provider: nil, status_provider: nil,
                     ready_provider: nil, metrics_provider: nil, prometheus_provider: nil, events_provider: nil,
                     changefeed_provider: nil, changefeed_log_provider: nil, auth_token: nil, read_token: nil, auth_reads: false, auth: nil,
                     max_body_bytes: DEFAULT_MAX_BODY_BYTES, server: :auto, max_connections: DEFAULT_MAX_CONNECTIONS,
                     max_streams: DEFAULT_MAX_STREAMS, read_timeout: DEFAULT_READ_TIMEOUT,
                     idle_timeout: DEFAULT_IDLE_TIMEOUT, sse_heartbeat_interval: SseBody::DEFAULT_HEARTBEAT_INTERVAL,
                     logger: nil, metrics: nil, tls_cert: nil, tls_key: nil, console: nil)
        validate!(max_body_bytes, server, max_connections, max_streams, sse_heartbeat_interval)
        @auth = auth || Transport::Auth::Policy.new(write_token: auth_token, read_token: read_token,
                                                    auth_reads: auth_reads)
        @tls = Server::Settings.tls(tls_cert, tls_key)
        @interpreter = interpreter
        @host = host
        @port = port
        @metrics = metrics || ServerMetrics.new
        @providers = { health: health_provider, status: status_provider, ready: ready_provider,
                       metrics: metrics_provider, prometheus: prometheus_provider, events: events_provider,
                       changefeed: changefeed_provider, changefeed_log: changefeed_log_provider }
        @max_body_bytes = max_body_bytes
        @max_connections = max_connections
        @max_streams = max_streams
        @read_timeout = read_timeout
        @idle_timeout = idle_timeout
        @sse_heartbeat_interval = sse_heartbeat_interval
        @logger = logger.respond_to?(:for) ? logger.for("http") : logger
        @console = console
        @streams = Set.new.compare_by_identity
        @lock = Mutex.new
        @listener = nil
        @runner = nil
        @stopped = false
      end

      # @return [#call] the Rack app (built once)
      def rack_app
        @lock.synchronize { rack_app_unlocked }
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

      # @return [String] "http" or "https"
      def scheme
        @tls ? "https" : "http"
      end

      # @return [Symbol, nil] :puma once started
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
      # @raise [LoadError] without puma
      # @raise [RuntimeError] when already started
      def start_async
        @lock.synchronize do
          raise "HTTPAdapter already started on #{bind_address}" if @listener
          raise "HTTPAdapter was stopped; build a new one" if @stopped

          PumaRunner.load!
          listener = GuardedListener.new(@host, @port)
          begin
            listener.bursts = Transport::AcceptBursts.new(name: "HTTPAdapter", logger: @logger,
                                                          on_error: method(:accept_failed))
            @runner = PumaRunner.new(rack_app_unlocked, listener: listener, max_threads: @max_connections,
                                                        idle_timeout: @idle_timeout, read_timeout: @read_timeout,
                                                        max_body_bytes: @max_body_bytes, tls: @tls, logger: @logger,
                                                        on_refused: method(:refused))
            @serve_thread = @runner.start
          rescue StandardError, LoadError
            listener.close
            raise
          end
          @listener = listener
          @server_kind = :puma
        end
        TransportSupport.log(@logger, :info, "HTTP listening on #{scheme}://#{bind_address} (puma)")
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

      # How far each open SSE stream is behind the changefeed.
      # @return [Array<Integer>] events not yet sent, one per stream
      def stream_lags
        newest = @providers[:changefeed]&.call&.snapshot&.dig(:newest_sequence).to_i
        @lock.synchronize { @streams.map { |body| [newest - body.sequence, 0].max } }
      rescue StandardError
        []
      end

      # @return [Integer] HTTP connections open now (0 before {#start})
      def open_connections
        listener = @lock.synchronize { @listener }
        listener ? listener.open_connections : 0
      end

      # Puma's worker figures once started.
      # @return [Hash] e.g. `{running:, pool_capacity:, max_threads:, backlog:}`
      def pool_stats
        @runner ? @runner.stats : {}
      end

      # `GET /v1/metrics` without a provider: the 0.5.2 metric keys and
      # every labelled series.
      # @return [Hash]
      def metrics_document
        Server::MetricsExport.document(@metrics.snapshot, @metrics.families + own_families)
      end

      # The adapter's gauges (SSE streams and their lag, puma's threads).
      # @return [Array<Hash>] metric families
      def own_families
        Server::MetricsExport.http_families(self)
      end

      private

      def validate!(max_body_bytes, server, max_connections, max_streams, heartbeat)
        Transport::OptionChecks.positive_integer!(:max_body_bytes, max_body_bytes)
        if server == :builtin
          raise ArgumentError, "server: :builtin was retired; puma serves HTTP (server: :auto or :puma)"
        end
        raise ArgumentError, "server must be one of #{SERVERS.inspect}, got #{server.inspect}" unless SERVERS.include?(server)

        Transport::OptionChecks.positive_integer!(:max_connections, max_connections)
        Transport::OptionChecks.positive_integer!(:max_streams, max_streams)
        return if heartbeat.is_a?(Numeric) && heartbeat.positive?

        raise ArgumentError, "sse_heartbeat_interval must be a positive number, got #{heartbeat.inspect}"
      end

      def build_app
        p = @providers
        router = Router.new(
          {
            **console_mount,
            "/v1/dispatch" => DispatchHandler.new(@interpreter, auth: @auth, max_body_bytes: @max_body_bytes,
                                                                metrics: @metrics),
            "/v1/health" => HealthHandler.new(p[:health]),
            "/v1/ready" => ReadyHandler.new(p[:ready]),
            "/v1/status" => StatusHandler.new(@interpreter, p[:status]),
            "/v1/metrics" => MetricsHandler.new(p[:metrics] || method(:metrics_document)),
            "/metrics" => PrometheusHandler.new(p[:prometheus] || -> { @metrics.families + own_families }),
            "/v1/events/recent" => EventsRecentHandler.new(p[:events]),
            "/v1/events" => SseEventsHandler.new(p[:changefeed], heartbeat_interval: @sse_heartbeat_interval,
                                                                 on_open: method(:stream_opened),
                                                                 on_close: method(:stream_closed),
                                                                 admit: method(:stream_admitted?),
                                                                 log: p[:changefeed_log]),
            "/v1/metadata" => MetadataHandler.new(@interpreter),
            "/v1/compaction/activity" => CompactionActivityHandler.new(@interpreter),
            "/v1/openapi.json" => OpenApiHandler.new(console: !@console.nil?)
          },
          logger: @logger, auth: @auth, open: OPEN_MOUNTS, self_authorizing: %w[/v1/dispatch /ui]
        )
        @instrument = Instrument.new(router, metrics: @metrics, logger: @logger, write_timeout: @read_timeout)
      end

      def stream_admitted?
        @lock.synchronize { !@stopped && @streams.size < @max_streams }
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

      # A request puma refused from its headers (413): counted and logged
      # like the ones the app answers.
      def refused(env, status, bytes)
        env["PATH_INFO"] ||= env["REQUEST_PATH"]
        @instrument&.refused(env, status, bytes)
      rescue StandardError
        nil
      end

      def accept_failed(error)
        @metrics.record_error(op: "accept", error_class: error.class.name, transport: :http)
      end

      # Called with @lock held (from {#start_async}).
      def rack_app_unlocked
        @rack_app ||= build_app
      end
    end
  end
end

require_relative "http/response_helper"
require_relative "http/authorization"
require_relative "http/instrument"
require_relative "http/router"
require_relative "http/dispatch_handler"
require_relative "http/simple_handlers"
require_relative "http/sse_body"
require_relative "http/sse_events_handler"
require_relative "adapters/http/open_api_handler"
require_relative "http/guarded_listener"
require_relative "http/puma_runner"
