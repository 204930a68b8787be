# frozen_string_literal: true

require "socket"
require "time"

module Igniter
  module Store
    # The op-protocol server (doc/servers.md "The op protocol"): legacy ledger ops and push
    # subscriptions over CRC frames, one thread per connection, plus the
    # process surface (PID file, drain, signals, HTTP/TCP envelope adapters).
    #
    # It owns ONE {IgniterStore} over its backend (`:memory`; `:file`: a
    # {FileBackend} WAL at `path`; `:segmented`: a {SegmentedFileBackend}
    # under the directory `path`; replayed on start), built with the
    # server's {ChangefeedBuffer}. Legacy `write_fact`, envelope writes from
    # the adapters (`protocol` is that store's interpreter) and push/SSE
    # subscribers therefore all see the same durable log, and changefeed
    # order is commit (WAL) order.
    #
    # Everything is validated before a file is opened or a socket bound; the
    # socket listens when `new` returns (clients may connect before {#start}).
    class StoreServer
      include Server::OpDispatch
      include Server::Events

      # Accepted `transport:` values.
      TRANSPORTS = %i[tcp unix].freeze
      # Accepted `backend:` values.
      BACKENDS = %i[memory file segmented postgres].freeze

      # @return [String] bound address ("ip:port" with the real port, or the unix path)
      attr_reader :bind_address
      # @return [ChangefeedBuffer] the feed of every committed fact (push subscribers, SSE)
      attr_reader :changefeed
      # @return [IgniterStore] the server's store
      attr_reader :store
      # @return [ServerMetrics]
      attr_reader :metrics
      # @return [ServerLogger]
      attr_reader :logger
      # @return [Integer] largest accepted frame body
      attr_reader :max_frame_bytes
      # @return [Numeric, nil] seconds for a started frame to arrive
      attr_reader :read_timeout
      # @return [Numeric, nil] seconds a connection may idle between requests
      attr_reader :idle_timeout
      # @return [String, nil] message of the last connection-level exception
      attr_reader :last_error
      # @return [String, nil] shared secret required by write ops (the write token)
      attr_reader :auth_token
      # @return [Transport::Auth::Policy] who may read and who may write, on every transport
      attr_reader :auth
      # @return [Hash, nil] `{cert:, key:}` when the listeners speak TLS
      attr_reader :tls
      # @return [Time] when the server was built
      attr_reader :started_at
      # @return [Integer] largest HTTP request body of the HTTP adapter
      attr_reader :max_body_bytes
      # @return [Object, nil] the envelope adapters started by {#start_adapters}
      attr_reader :http_adapter, :tcp_adapter

      # Keyword arguments win over `config` (and over `address`) when non-nil.
      #
      # @param config [ServerConfig, nil]
      # @param address [String, nil] "host:port"
      # @param changefeed [Hash, nil] ChangefeedBuffer settings merged over `config.changefeed`
      # @param metrics_thresholds [Hash] merged over ServerMetrics::DEFAULT_THRESHOLDS
      # @param slow_op_threshold_ms [Numeric, nil] nil disables slow-op tracking
      # @param max_recent_events [Integer] capacity of {#recent_events}
      # @param auth_token [String, nil] the write token: write ops need it (it also reads)
      # @param read_token [String, nil] every read, replay, feed and status request needs it (or the write token)
      # @param auth_reads [Boolean, nil] reads need a token even without a read token
      # @param tls_cert [String, nil] PEM certificate: the op-protocol listener speaks TLS
      # @param tls_key [String, nil] its PEM private key
      # @param max_body_bytes [Integer, nil] largest HTTP request body of {#start_adapters}' HTTP adapter
      # @param durability [Symbol, nil] :flush (default) or :fsync for the file and segmented backends
      # @raise [ArgumentError] for an invalid transport, backend, limit, token, TLS file or changefeed setting
      # @raise [SystemCallError] when the socket cannot be bound (the backend is closed again); it is
      #   a {Server::ListenFailure} naming the listener
      def initialize(host: nil, port: nil, transport: nil, backend: nil, path: nil, logger: nil, pid_file: nil,
                     drain_timeout: nil, max_connections: nil, config: nil, address: nil, metrics_thresholds: {},
                     slow_op_threshold_ms: nil, max_recent_events: 100, changefeed: nil, max_frame_bytes: nil,
                     read_timeout: nil, idle_timeout: nil, auth_token: nil, read_token: nil, auth_reads: nil,
                     tls_cert: nil, tls_key: nil, max_body_bytes: nil, durability: nil)
        cfg = config || ServerConfig.new
        addr_host, addr_port = address ? Server::Address.parse(address) : [nil, nil]
        @host = pick(host, addr_host, cfg.host).to_s
        @transport = Server::Settings.transport(pick(transport, cfg.transport))
        @port = Server::Settings.port(@transport, pick(port, addr_port, cfg.port))
        @backend_kind = Server::Settings.backend(pick(backend, cfg.backend))
        @path = pick(path, cfg.path)
        Server::Settings.require_path!(@backend_kind, @path)
        @pid_file = pick(pid_file, cfg.pid_file)
        @durability = Server::Settings.durability(pick(durability, cfg.durability))
        @drain_timeout = Server::Settings.seconds(:drain_timeout, pick(drain_timeout, cfg.drain_timeout))
        # nil is a value here (unlimited), so only an absent kwarg falls back to the config.
        @max_connections = Server::Settings.limit(:max_connections,
                                                  max_connections.nil? ? cfg.max_connections : max_connections)
        @max_frame_bytes = Server::Settings.frame_limit(pick(max_frame_bytes, cfg.max_frame_bytes))
        @read_timeout = Server::Settings.seconds(:read_timeout, pick(read_timeout, cfg.read_timeout))
        @idle_timeout = Server::Settings.seconds(:idle_timeout, pick(idle_timeout, cfg.idle_timeout))
        @auth_token = Server::Settings.token(pick(auth_token, cfg.auth_token))
        @auth = Transport::Auth::Policy.new(write_token: @auth_token, read_token: pick(read_token, cfg.read_token),
                                            auth_reads: auth_reads.nil? ? cfg.auth_reads : auth_reads)
        @tls = Server::Settings.tls(pick(tls_cert, cfg.tls_cert), pick(tls_key, cfg.tls_key))
        @max_body_bytes = Transport::OptionChecks.positive_integer!(:max_body_bytes,
                                                                     pick(max_body_bytes, cfg.max_body_bytes))
        @slow_op_threshold_ms = Server::Settings.slow_op_threshold(slow_op_threshold_ms)
        # An explicit `log_io: nil` in a config silences the server (0.5.2 fell back to $stdout).
        @logger = logger || ServerLogger.new(config ? config.log_io : $stdout, Server::Settings.log_level(cfg.log_level),
                                             format: Server::Settings.log_format(cfg.log_format))
        @op_logger = @logger.respond_to?(:for) ? @logger.for("op") : @logger
        @changefeed = ChangefeedBuffer.from_config(cfg.changefeed, changefeed)
        @events = EventRing.new(max_recent_events)
        @metrics = ServerMetrics.new(thresholds: metrics_thresholds)
        @lock = Mutex.new
        @stop_lock = Mutex.new
        @stopped = @draining = @started = false
        @last_error = nil
        @started_monotonic = Transport::Clock.monotonic
        @started_at = Time.now
        @push_subscribers = 0
        open_store_and_bind
        @accept = Transport::AcceptLoop.new(@listener, name: "StoreServer", max_connections: @max_connections,
                                                       refuse: method(:refuse_connection),
                                                       on_accept_error: method(:accept_failed), logger: @op_logger)
        write_pid_file
      end

      # Accept loop; blocks until {#stop}. Returns at once after a stop.
      # @return [nil]
      def start
        claimed = @lock.synchronize { !@stopped && !@started && (@started = true) }
        return nil unless claimed

        log_recovery
        @logger.info("Listening on #{@bind_address} (transport=#{@transport} backend=#{@backend_kind}" \
                     "#{durability_note}#{" tls=on" if @tls}); #{@auth.describe}")
        emit_event(:server_start, bind_address: @bind_address, transport: @transport, backend: @backend_kind)
        @accept.run { |slot| serve(slot) }
        nil
      ensure
        # Returns only once the shutdown (possibly run by another thread) is complete.
        stop if claimed
      end

      # @return [Thread] running {#start}
      def start_async
        Thread.new do
          Thread.current.report_on_exception = false
          start
        end
      end

      # The socket listens from construction on, so this never waits.
      # @return [self]
      def wait_until_ready(timeout: 2)
        raise "StoreServer did not become ready within #{timeout}s" if @listener.nil?

        self
      end

      # {#start} with SIGTERM/SIGINT running {#stop} (drain, close the
      # backend) on a normal thread; returns after the shutdown.
      # @return [nil]
      def start_foreground
        watcher = Server::SignalWatcher.new(%w[TERM INT]) { stop }
        start
      ensure
        watcher&.restore
      end

      # Starts the envelope adapters (bound synchronously, on this server's
      # host unless given), then {#start_foreground}; stops them at the end.
      # @param http_port [Integer, nil] HTTPAdapter port (0 = ephemeral); nil = none
      # @param tcp_port [Integer, nil] TCPAdapter port; nil = none
      # @return [nil]
      def start_with_adapters(http_port: nil, tcp_port: nil, http_host: nil, tcp_host: nil)
        begin
          start_adapters(http_port: http_port, tcp_port: tcp_port, http_host: http_host, tcp_host: tcp_host)
        rescue StandardError
          stop # release the op port and the backend: the process is about to fail
          raise
        end
        start_foreground
      ensure
        stop_adapters
      end

      # Binds and starts the envelope adapters over {#protocol}.
      # @return [self]
      # @raise [StandardError] bind failure of an adapter (those already started are stopped)
      def start_adapters(http_port: nil, tcp_port: nil, http_host: nil, tcp_host: nil)
        Server::Adapters.start(self, http_port: http_port, tcp_port: tcp_port,
                                     http_host: http_host || adapter_host, tcp_host: tcp_host || adapter_host)
        self
      rescue StandardError
        stop_adapters
        raise
      end

      # Remembers the envelope adapters started beside the op server, so stop ends them too.
      # @api private
      def adapters_started(http, tcp)
        @http_adapter = http if http
        @tcp_adapter = tcp if tcp
      end

      # Stops accepting work: new connections are refused (counted as
      # rejected) while the open ones finish, up to +timeout+ seconds.
      # @param timeout [Numeric, nil] default: drain_timeout
      # @param close_idle [Boolean] also close connections as soon as they sit
      #   between requests (what {#stop} does), instead of waiting for the peers
      # @return [self]
      def drain(timeout: nil, close_idle: false)
        return self if stopped?

        timeout ||= @drain_timeout
        @lock.synchronize { @draining = true }
        announce_drain(timeout)
        drain_timed_out(@accept.drain(timeout: timeout, close_idle: close_idle))
        self
      end

      # Stops accepting (the listening socket is closed), closes idle
      # connections, lets requests in progress finish for up to
      # drain_timeout seconds, then closes whatever connection is left, the
      # adapters, the changefeed and the backend, and removes the PID file.
      # Idempotent; safe before {#start}; a concurrent caller returns once
      # the first one is done.
      # @return [self]
      def stop
        @stop_lock.synchronize do
          return self if @lock.synchronize { @stopped }

          started = @lock.synchronize { @started }
          announce_drain(@drain_timeout) if started
          @lock.synchronize do
            @stopped = true
            @draining = true
          end
          drain_timed_out(@accept.stop(timeout: started ? @drain_timeout : 0))
          remove_socket_file
          stop_adapters
          @changefeed.close(timeout: 1)
          @store.close
          remove_pid_file
          # A server that never started (a failed start-up) says nothing here.
          if started
            @logger.info("Stopped.")
            emit_event(:server_stop, bind_address: @bind_address)
          end
        end
        self
      end

      # --- state and snapshots ------------------------------------------

      # @return [Boolean] accepting requests (not draining, not stopped)
      def ready?
        @lock.synchronize { !@stopped && !@draining }
      end

      # @return [Boolean] drain started (stays true after stop)
      def draining?
        @lock.synchronize { @draining }
      end

      # @return [Symbol] :ready, :draining or :stopped
      def status
        @lock.synchronize { @stopped ? :stopped : (@draining ? :draining : :ready) }
      end

      # @return [Integer] connections being served (accept-loop count)
      def active_connections
        @accept.size
      end

      # @param store [Symbol, String]
      # @return [Integer] push/SSE subscribers receiving +store+
      def subscription_count(store)
        @changefeed.subscriber_count(store)
      end

      # @return [Array<Hash>] recent structured events, oldest first
      def recent_events
        @events.to_a
      end

      # @return [Protocol::Interpreter] the envelope protocol over the server's store
      def protocol
        @store.protocol
      end

      # @return [Integer] ms since construction, at least 1
      def uptime_ms
        [((Transport::Clock.monotonic - @started_monotonic) * 1000).ceil, 1].max
      end

      # @return [Hash] compact health view (no alert evaluation)
      def health_snapshot
        { schema_version: 1, status: status, backend: @backend_kind.to_s, transport: @transport.to_s,
          bind_address: @bind_address, uptime_ms: uptime_ms, active_connections: active_connections,
          subscriptions: @metrics.subscription_count, last_error: @last_error }
      end

      # @return [Hash] {ServerMetrics#snapshot}
      def metrics_snapshot
        @metrics.snapshot(backend: @backend)
      end

      # Every metric of the server and its adapters, as `GET /metrics`
      # renders them (see README "Metrics").
      # @return [Array<Hash>] metric families
      def metric_families
        families = @metrics.families + Server::MetricsExport.server_families(self)
        families += @http_adapter.own_families if @http_adapter
        families
      end

      # `GET /v1/metrics`: the observability `metrics` keys and every series.
      # @return [Hash]
      def metrics_document
        Server::MetricsExport.document(@metrics.snapshot(backend: @backend), metric_families)
      end

      # @return [Integer] op-protocol push subscriptions open now
      def push_subscribers
        @lock.synchronize { @push_subscribers }
      end

      # @return [Hash, nil] the storage facts of `/v1/status`
      def storage_facts
        storage_view(@metrics.snapshot(backend: @backend))
      end

      # An MCP tool adapter over this server's store, counting its calls in
      # this server's metrics (transport `mcp`).
      # @param enabled_tools [Array<Symbol>]
      # @return [MCPAdapter]
      def mcp_adapter(enabled_tools: MCPAdapter::READ_TOOLS)
        MCPAdapter.new(protocol, enabled_tools: enabled_tools, metrics: @metrics)
      end

      # @return [Hash] the observatory view (evaluates alerts first)
      def observability_snapshot
        alerts = @metrics.check_alerts(backend: @backend)
        snap = @metrics.snapshot(backend: @backend)
        feed = @changefeed.snapshot
        {
          schema_version: 1, generated_at: snap[:generated_at], status: status, uptime_ms: uptime_ms,
          metrics: snap.slice(*Server::Events::OBSERVED_METRICS),
          alerts: alerts.map(&:to_h) + feed[:alerts], storage: storage_view(snap),
          server: { backend: @backend_kind.to_s, transport: @transport.to_s, bind_address: @bind_address,
                    last_error: @last_error },
          changefeed: feed, recovery: @recovery
        }
      end

      # What opening the ledger recovered and quarantined, per file (nil for
      # `:memory`); see {Server::RecoveryReport}. Also in
      # {#observability_snapshot} (`/v1/status`, op `server_status`) and op `stats`.
      # @return [Hash, nil] JSON-ready, String keys
      attr_reader :recovery

      private

      def pick(*candidates)
        candidates.find { |value| !value.nil? && value != false }
      end

      def adapter_host
        @transport == :unix ? "127.0.0.1" : @host
      end

      def stop_adapters
        [@http_adapter, @tcp_adapter].compact.each do |adapter|
          adapter.stop
        rescue StandardError => e
          @logger.warn("Stopping #{adapter.class.name}: #{Transport::ErrorText.first_line(e)}")
        end
      end

      def stopped?
        @lock.synchronize { @stopped }
      end

      # Backend and store first (a bad path fails before the port is taken),
      # then the socket; a failed bind closes the backend again.
      def open_store_and_bind
        @backend = open_backend
        @recovery = Server::RecoveryReport.of(@backend)
        @store = IgniterStore.new(backend: @backend, changefeed: @changefeed)
        # A backend that serves its own log (PostgreSQL) is read by the store
        # directly; replaying it into that log would commit every fact again.
        # Any other is loaded as Igniter::Store.open loads it: in bulk, the
        # native log straight from the decoded records (IgniterStore#replay_from).
        @store.replay_from(@backend) if @backend && !serves_fact_log?(@backend)
        raw = Server::Listener.bind(@transport, @host, @port, name: "op-protocol", flag: "--port")
        @bind_address = Server::Listener.address_of(raw, @transport, @host)
        @listener = @tls ? Transport::TLS.wrap_listener(raw, Transport::TLS.server_context(**@tls)) : raw
      rescue StandardError
        @backend&.close
        raise
      end

      # The write policy in force, for the start-up line: flush (a write(2)
      # per fact) or fsync for a file ledger; PostgreSQL commits each write
      # before it is acknowledged; nothing for memory, which keeps nothing.
      def durability_note
        case @backend_kind
        when :file, :segmented then " durability=#{@durability}"
        when :postgres then " durability=commit"
        else ""
        end
      end

      def serves_fact_log?(backend)
        Capabilities.of(backend).include?(Capabilities::FACT_LOG)
      end

      # Absolute paths, so logs and status name the files unambiguously.
      def open_backend
        case @backend_kind
        when :file then FileBackend.new(File.expand_path(@path.to_s), durability: @durability)
        when :segmented then SegmentedFileBackend.new(File.expand_path(@path.to_s), durability: @durability)
        # PostgreSQL: `path` is the database URL; nothing is replayed, and the
        # changefeed is fed with every process's commits by the store's commit tail.
        when :postgres then PostgresBackend.new(url: @path.to_s)
        end
      end

      # One warn line per damaged file, or one info line when all is clean.
      def log_recovery
        return unless @recovery

        Server::RecoveryReport.log_lines(@recovery, File.expand_path(@path.to_s)).each do |level, line|
          @logger.public_send(level, line)
        end
      end

      # A file ledger's facts (FileBackend has no storage_stats); the
      # segmented backend's own statistics otherwise.
      def storage_view(metrics_snapshot)
        @backend_kind == :file ? Server::FileStorage.facts(@backend) : metrics_snapshot[:storage_stats]
      end

      def serve(slot)
        @op_logger.debug("Connection accepted (active=#{active_connections})")
        Transport::SocketIO.nodelay(slot.socket)
        Server::Connection.new(self, slot).run
      end

      def announce_drain(timeout)
        emit_event(:server_draining, bind_address: @bind_address)
        @logger.info("Draining (timeout=#{timeout}s)...")
      end

      def drain_timed_out(left)
        @logger.warn("Drain timeout: #{left} connection(s) still active.") if left.positive?
      end

      # Over max_connections the peer gets one error frame (its first
      # request's reply) and EOF; while draining just EOF.
      def refuse_connection(socket, reason)
        @metrics.record_connection_rejected(reason: reason)
        # A TLS peer cannot read a plain frame, and a handshake here would stall the accept loop.
        return unless reason == :full && !Transport::TLS.tls?(socket)

        emit_event(:alert, alert_type: :max_connections, active: active_connections + 1, max: @max_connections)
        reply = error_reply(:too_many_connections, "server at max_connections #{@max_connections}")
        socket.write_nonblock(Transport::JsonFrame.encode(reply), exception: false)
      end

      # Once per burst of failed accepts (the loop logs it and backs off).
      def accept_failed(error)
        @last_error = "accept: #{error.class}: #{Transport::ErrorText.first_line(error)}"
        @metrics.record_error(op: "accept", error_class: error.class.name)
      end

      def remove_socket_file
        File.unlink(@host) if @transport == :unix && File.socket?(@host)
      rescue SystemCallError
        nil
      end

      def write_pid_file
        return unless @pid_file

        File.open(@pid_file.to_s, File::WRONLY | File::CREAT | File::TRUNC | File::NOFOLLOW, 0o644) do |io|
          io.write("#{Process.pid}\n")
        end
        @logger.info("PID #{Process.pid} written to #{@pid_file}")
      rescue SystemCallError => e
        @logger.warn("Could not write PID file #{@pid_file}: #{e.message}")
      end

      def remove_pid_file
        File.delete(@pid_file.to_s) if @pid_file && File.exist?(@pid_file.to_s)
      rescue SystemCallError
        nil
      end
    end

    # Name used by igniter-ledger 0.5.2 and its docs.
    LedgerServer = StoreServer unless const_defined?(:LedgerServer, false)
  end
end
