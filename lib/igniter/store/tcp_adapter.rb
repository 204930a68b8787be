# frozen_string_literal: true

require "socket"
require "json"

module Igniter
  module Store
    # The envelope protocol over {WireProtocol} frames (doc/servers.md "Envelope transports"): one
    # JSON request envelope per frame, one response envelope frame back,
    # pipelining allowed, one thread per connection.
    #
    # Differences from 0.5.2, on purpose: {#bind_address} shows the bound
    # port; frames above `max_frame_bytes` are refused before allocating;
    # read/idle timeouts; a bounded number of connections; invalid JSON is
    # answered with an error envelope (the stream is still in sync); an
    # write token guards mutating ops and a read token (or `auth_reads`)
    # every other op; {#stop} closes client connections; errors go to an
    # optional logger, not $stderr; every request is counted in
    # {ServerMetrics} (transport `tcp`); TLS with `tls_cert:`/`tls_key:`
    # (the handshake runs on the connection's thread, bounded by read_timeout).
    class TCPAdapter
      # Largest request frame accepted.
      DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
      # Seconds to wait for the rest of a started request.
      DEFAULT_READ_TIMEOUT = 10
      # Seconds a connection may stay idle between requests.
      DEFAULT_IDLE_TIMEOUT = 300
      # Connections served at once; more are refused.
      DEFAULT_MAX_CONNECTIONS = 64
      # Seconds `stop` waits for open requests.
      DEFAULT_DRAIN_TIMEOUT = 2
      # Accepted `transport:` values.
      TRANSPORTS = %i[tcp unix].freeze

      # @param interpreter [Protocol::Interpreter]
      # @param port [Integer] 0 = an ephemeral port (tcp)
      # @param host [String] bind address (tcp) or socket path (unix)
      # @param transport [Symbol] :tcp or :unix
      # @param auth_token [String, nil] the write token: mutating ops need it in the envelope's `token`
      # @param read_token [String, nil] every other op needs it (or the write token)
      # @param auth_reads [Boolean] reads need a token even without a read token
      # @param auth [Transport::Auth::Policy, nil] instead of the three above
      # @param max_frame_bytes [Integer] larger frames get an error envelope and the connection closes
      # @param read_timeout [Numeric] seconds to receive the rest of a started frame (and to send a reply)
      # @param idle_timeout [Numeric] seconds a connection may wait for its next frame
      # @param max_connections [Integer] more concurrent clients get an error envelope and are closed
      # @param logger [ServerLogger, #warn, nil] nil = silent; a ServerLogger logs as component `tcp`
      # @param metrics [ServerMetrics, nil] nil = metrics of its own ({#metrics})
      # @param tls_cert [String, nil] PEM certificate: the listener speaks TLS
      # @param tls_key [String, nil] its PEM private key
      # @raise [ArgumentError] for an invalid option (checked before binding)
      # @raise [SystemCallError] bind failures such as Errno::EADDRINUSE
      def initialize(interpreter:, port: 7401, host: "127.0.0.1", transport: :tcp, auth_token: nil, read_token: nil,
                     auth_reads: false, auth: nil, max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
                     read_timeout: DEFAULT_READ_TIMEOUT, idle_timeout: DEFAULT_IDLE_TIMEOUT,
                     max_connections: DEFAULT_MAX_CONNECTIONS, logger: nil, metrics: nil, tls_cert: nil, tls_key: nil)
        validate!(transport, max_frame_bytes, max_connections)
        @auth = auth || Transport::Auth::Policy.new(write_token: auth_token, read_token: read_token,
                                                    auth_reads: auth_reads)
        tls = Server::Settings.tls(tls_cert, tls_key)
        @interpreter = interpreter
        @host = host
        @port = port
        @transport = transport
        @max_frame_bytes = max_frame_bytes
        @read_timeout = read_timeout
        @idle_timeout = idle_timeout
        @metrics = metrics || ServerMetrics.new
        logger = logger.for("tcp") if logger.respond_to?(:for)
        raw = transport == :tcp ? TCPServer.new(host, port) : UNIXServer.new(host)
        @server = tls ? Transport::TLS.wrap_listener(raw, Transport::TLS.server_context(**tls)) : raw
        @bind_address = compute_bind_address(raw)
        @accept = Transport::AcceptLoop.new(@server, name: "TCPAdapter", max_connections: max_connections,
                                                     refuse: method(:refuse), logger: logger,
                                                     on_accept_error: method(:accept_failed),
                                                     error_label: "TCPAdapter: client error")
      end

      # @return [ServerMetrics] where this adapter counts its connections and requests
      attr_reader :metrics

      # @return [String] tcp: `"ip:port"` with the bound port; unix: the path
      attr_reader :bind_address

      # Accept loop; blocks until {#stop}. Returns at once after {#stop}
      # or while another thread runs it.
      # @return [nil]
      def start
        @accept.run { |slot| serve(slot) }
      end

      # Runs {#start} in a thread. The socket is bound (in the constructor),
      # so connections are accepted when this returns.
      # @return [self]
      def start_async
        @accept.start { |slot| serve(slot) }
        wait_until_ready
      end

      # @param timeout [Numeric]
      # @return [self]
      # @raise [RuntimeError] when the listener is closed
      def wait_until_ready(timeout: 2)
        raise "TCPAdapter did not become ready within #{timeout}s" if @server.to_io.closed?

        self
      end

      # Stops accepting, closes idle connections, lets requests in
      # progress finish for up to +drain_timeout+ seconds, then closes the
      # rest and joins the threads (bounded). Idempotent; fine on an
      # adapter never started.
      # @param drain_timeout [Numeric]
      # @return [self]
      def stop(drain_timeout: DEFAULT_DRAIN_TIMEOUT)
        @accept.stop(timeout: drain_timeout)
        remove_socket_file
        self
      end

      # @return [Integer] connections being served
      def active_connections
        @accept.size
      end

      private

      def validate!(transport, max_frame_bytes, max_connections)
        unless TRANSPORTS.include?(transport)
          raise ArgumentError, "Unknown transport: #{transport.inspect}. Use :tcp or :unix"
        end
        Server::Settings.frame_limit(max_frame_bytes)
        Transport::OptionChecks.positive_integer!(:max_connections, max_connections)
      end

      def compute_bind_address(raw)
        return @host if @transport == :unix

        address = raw.local_address
        Server::Address.format(address.ip_address, address.ip_port)
      end

      # A TLS peer cannot read a plain frame: it is only closed.
      def refuse(socket, reason)
        @metrics.record_connection_rejected(transport: :tcp, reason: reason)
        return unless reason == :full && !Transport::TLS.tls?(socket)

        reply(socket, error_envelope(nil, "Too many connections"))
      end

      def accept_failed(error)
        @metrics.record_error(op: "accept", error_class: error.class.name, transport: :tcp)
      end

      # A frame read before a stop closed the connection is answered; the
      # connection ends when the stop has closed it meanwhile.
      def serve(slot)
        socket = slot.socket
        id = @metrics.record_connection_accepted(remote_addr: Transport::SocketIO.peer_ip(socket), transport: :tcp)
        Transport::SocketIO.nodelay(socket) if @transport == :tcp
        Transport::TLS.accept_handshake(socket, @read_timeout) if Transport::TLS.tls?(socket)
        reader = Transport::FrameReader.new(socket, max_bytes: @max_frame_bytes, timeout: @read_timeout,
                                                    per_part: true)
        loop do
          result = reader.read(idle: @idle_timeout)
          break refuse_stream(socket, result) unless result.kind == :frame
          break unless slot.busy { answer(socket, id, result.body) }
        end
      rescue Transport::TLS::HandshakeError
        nil # not a TLS client, or too slow to become one
      ensure
        @metrics.record_connection_closed(id: id, transport: :tcp) if id
      end

      # Answers one frame and counts it.
      def answer(socket, connection_id, body)
        started = Transport::Clock.monotonic
        envelope, op, failure = respond(body)
        frame = encode(envelope)
        TransportSupport.count_facts(@metrics, :tcp, op, envelope)
        status = failure ? failure.to_s : "ok"
        @metrics.record_request(connection_id: connection_id, op: op, transport: :tcp, status: status,
                                bytes_in: body.bytesize, bytes_out: frame.bytesize,
                                duration: Transport::Clock.monotonic - started)
        @metrics.record_error(op: op, error_class: TransportSupport::ERROR_CLASSES.fetch(failure), transport: :tcp) if failure
        Transport::SocketIO.write_all(socket, frame, @read_timeout)
      end

      # A frame too large or damaged gets an error envelope (the stream is
      # out of sync, so the connection then closes); EOF, a torn frame and
      # timeouts close it quietly.
      def refuse_stream(socket, result)
        message = case result.kind
                  when :too_large then "Frame of #{result.length} bytes exceeds max_frame_bytes #{@max_frame_bytes}"
                  when :bad_crc then "Corrupt frame: CRC mismatch"
                  end
        reply(socket, error_envelope(nil, message)) if message
      end

      # A well-framed body always gets an envelope back, even when it is not
      # JSON: the stream is still in sync, so the connection stays usable.
      # @return [Array(Hash, String, Symbol)] the response envelope, the op
      #   label and the failure kind (nil when it succeeded)
      def respond(body)
        envelope, problem = TransportSupport.parse_json(body)
        return [error_envelope(nil, problem), "unknown", :bad_envelope] if problem
        return dispatch(envelope, "unknown") unless envelope.is_a?(Hash)

        op = TransportSupport.op_label(envelope[:op])
        case @auth.check(TransportSupport.access_of(envelope[:op]), envelope.delete(:token))
        when :ok then dispatch(envelope, op)
        when :forbidden
          [error_envelope(envelope[:request_id], "Forbidden: a read token cannot write"), op, :forbidden]
        else [error_envelope(envelope[:request_id], "Unauthorized"), op, :unauthorized]
        end
      end

      def dispatch(envelope, op)
        response, failure = @interpreter.wire.dispatch_classified(envelope)
        [response, op, failure&.kind]
      end

      def reply(socket, envelope)
        Transport::SocketIO.write_all(socket, encode(envelope), @read_timeout)
      end

      def encode(envelope)
        Transport::JsonFrame.encode(envelope)
      rescue ArgumentError, JSON::GeneratorError => e
        request_id = envelope.is_a?(Hash) ? envelope[:request_id] : nil
        Transport::JsonFrame.encode(error_envelope(request_id, "Response not encodable: " \
                                                               "#{TransportSupport.safe_message(e)}"))
      end

      def error_envelope(request_id, message)
        { protocol: Protocol::WireEnvelope::PROTOCOL, schema_version: Protocol::WireEnvelope::SCHEMA_VERSION,
          request_id: request_id, status: :error, error: message }
      end

      def remove_socket_file
        File.delete(@host) if @transport == :unix && File.socket?(@host)
      rescue SystemCallError
        nil
      end
    end
  end
end
