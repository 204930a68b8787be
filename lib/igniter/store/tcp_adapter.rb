# frozen_string_literal: true

require "socket"
require "json"

module Igniter
  module Store
    # The envelope protocol over {WireProtocol} frames (spec 05 §10): one
    # JSON request envelope per frame, one response envelope frame back,
    # pipelining allowed, one thread per connection.
    #
    # Differences from 0.5.2, on purpose: {#bind_address} shows the bound
    # port; frames above `max_frame_bytes` are refused before allocating;
    # read/idle timeouts; a bounded number of connections; invalid JSON is
    # answered with an error envelope (the stream is still in sync); an
    # optional shared secret guards mutating ops; {#stop} closes client
    # connections; errors go to an optional logger, not $stderr.
    class TCPAdapter
      DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024
      DEFAULT_READ_TIMEOUT = 10
      DEFAULT_IDLE_TIMEOUT = 300
      DEFAULT_MAX_CONNECTIONS = 64
      TRANSPORTS = %i[tcp unix].freeze

      # @param interpreter [Protocol::Interpreter]
      # @param port [Integer] 0 = an ephemeral port (tcp)
      # @param host [String] bind address (tcp) or socket path (unix)
      # @param transport [Symbol] :tcp or :unix
      # @param auth_token [String, nil] when set, mutating ops need it in the envelope's `token`
      # @param max_frame_bytes [Integer] larger frames get an error envelope and the connection closes
      # @param read_timeout [Numeric] seconds to receive the rest of a started frame (and to send a reply)
      # @param idle_timeout [Numeric] seconds a connection may wait for its next frame
      # @param max_connections [Integer] more concurrent clients get an error envelope and are closed
      # @param logger [#warn, #info, nil] e.g. a ServerLogger; nil = silent
      # @raise [ArgumentError] for an invalid option (checked before binding)
      # @raise [SystemCallError] bind failures such as Errno::EADDRINUSE
      def initialize(interpreter:, port: 7401, host: "127.0.0.1", transport: :tcp, auth_token: nil,
                     max_frame_bytes: DEFAULT_MAX_FRAME_BYTES, read_timeout: DEFAULT_READ_TIMEOUT,
                     idle_timeout: DEFAULT_IDLE_TIMEOUT, max_connections: DEFAULT_MAX_CONNECTIONS, logger: nil)
        validate!(transport, auth_token, max_frame_bytes, max_connections)
        @interpreter = interpreter
        @host = host
        @port = port
        @transport = transport
        @auth_token = auth_token
        @max_frame_bytes = max_frame_bytes
        @read_timeout = read_timeout
        @idle_timeout = idle_timeout
        @max_connections = max_connections
        @logger = logger
        @clients = {}
        @lock = Mutex.new
        @stopped = false
        @server = transport == :tcp ? TCPServer.new(host, port) : UNIXServer.new(host)
        @bind_address = compute_bind_address
      end

      # @return [String] tcp: `"ip:port"` with the bound port; unix: the path
      attr_reader :bind_address

      # Accept loop; blocks until {#stop}. Returns at once after {#stop}.
      def start
        @accept_thread ||= Thread.current
        loop do
          socket = @server.accept
          admit(socket)
        end
      rescue IOError, SystemCallError
        nil # listener closed
      end

      # Runs {#start} in a thread. The socket is bound (in the constructor),
      # so connections are accepted when this returns.
      # @return [self]
      def start_async
        @lock.synchronize do
          unless @accept_thread || @stopped
            @accept_thread = Thread.new { start }
            @accept_thread.report_on_exception = false
          end
        end
        wait_until_ready
      end

      # @param timeout [Numeric]
      # @return [self]
      # @raise [RuntimeError] when the listener is closed
      def wait_until_ready(timeout: 2)
        raise "TCPAdapter did not become ready within #{timeout}s" if @server.closed?

        self
      end

      # Closes the listener and every client connection, then joins the
      # threads (bounded). Idempotent; fine on an adapter never started.
      # @return [self]
      def stop
        sockets = @lock.synchronize do
          @stopped = true
          @clients.keys
        end
        close_quietly(@server)
        sockets.each { |socket| close_quietly(socket) }
        deadline = monotonic + 2
        accept = @accept_thread
        accept.join([deadline - monotonic, 0].max) if accept && !accept.equal?(Thread.current)
        @lock.synchronize { @clients.values }.each { |thread| thread.join([deadline - monotonic, 0].max) }
        remove_socket_file
        self
      end

      # @return [Integer] connections being served
      def active_connections
        @lock.synchronize { @clients.size }
      end

      private

      def validate!(transport, auth_token, max_frame_bytes, max_connections)
        unless TRANSPORTS.include?(transport)
          raise ArgumentError, "Unknown transport: #{transport.inspect}. Use :tcp or :unix"
        end
        unless auth_token.nil? || (auth_token.is_a?(String) && !auth_token.empty?)
          raise ArgumentError, "auth_token must be a non-empty String or nil"
        end
        unless max_frame_bytes.is_a?(Integer) && max_frame_bytes.positive? && max_frame_bytes <= WireProtocol::MAX_FRAME_LEN
          raise ArgumentError, "max_frame_bytes must be an Integer in 1..#{WireProtocol::MAX_FRAME_LEN}, " \
                               "got #{max_frame_bytes.inspect}"
        end
        return if max_connections.is_a?(Integer) && max_connections.positive?

        raise ArgumentError, "max_connections must be a positive Integer, got #{max_connections.inspect}"
      end

      def compute_bind_address
        return @host if @transport == :unix

        address = @server.local_address
        ip = address.ip_address
        "#{ip.include?(":") ? "[#{ip}]" : ip}:#{address.ip_port}"
      end

      def admit(socket)
        admitted = @lock.synchronize do
          next :stopped if @stopped
          next :full if @clients.size >= @max_connections

          @clients[socket] = Thread.new { serve(socket) }.tap { |t| t.report_on_exception = false }
          :ok
        end
        return if admitted == :ok

        reply(socket, error_envelope(nil, "Too many connections")) if admitted == :full
        close_quietly(socket)
      rescue IOError, SystemCallError
        close_quietly(socket)
      end

      def serve(socket)
        socket.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1) if @transport == :tcp
        reader = TimedReader.new(socket)
        loop do
          break unless reader.wait_for_data(@idle_timeout)

          body, failure = read_frame(reader)
          if failure
            reply(socket, error_envelope(nil, failure))
            break
          end
          break if body.nil?

          reply(socket, respond(body))
        end
      rescue TimedReader::Timeout, IOError, SystemCallError
        nil # idle, slow or vanished peer
      rescue StandardError => e
        TransportSupport.log(@logger, :warn, "TCPAdapter: client error: #{e.class}: #{TransportSupport.safe_message(e)}")
      ensure
        close_quietly(socket)
        @lock.synchronize { @clients.delete(socket) }
      end

      # @return [Array(String, nil), Array(nil, String)] the body, or why the
      #   stream cannot continue; [nil, nil] on EOF
      def read_frame(reader)
        header = reader.read_exact(WireProtocol::FRAME_HEADER_SIZE, @read_timeout)
        return [nil, nil] if header.nil?

        length = header.unpack1("N")
        # Refused before reading or allocating anything of that size.
        return [nil, "Frame of #{length} bytes exceeds max_frame_bytes #{@max_frame_bytes}"] if length > @max_frame_bytes

        body = reader.read_exact(length, @read_timeout)
        crc = body && reader.read_exact(WireProtocol::FRAME_CRC_SIZE, @read_timeout)
        return [nil, nil] if crc.nil?
        return [nil, "Corrupt frame: CRC mismatch"] unless crc.unpack1("N") == Zlib.crc32(body)

        [body, nil]
      end

      # A well-framed body always gets an envelope back, even when it is not
      # JSON: the stream is still in sync, so the connection stays usable.
      def respond(body)
        envelope, problem = TransportSupport.parse_json(body)
        return error_envelope(nil, problem) if problem

        if envelope.is_a?(Hash)
          token = envelope.delete(:token)
          return error_envelope(envelope[:request_id], "Unauthorized") unless authorized?(envelope, token)
        end
        @interpreter.wire.dispatch(envelope)
      end

      def authorized?(envelope, token)
        @auth_token.nil? || !TransportSupport.mutating_op?(envelope[:op]) ||
          TransportSupport.token_matches?(@auth_token, token)
      end

      def reply(socket, envelope)
        frame = begin
          WireProtocol.encode_frame(JSON.generate(envelope))
        rescue ArgumentError, JSON::GeneratorError => e
          request_id = envelope.is_a?(Hash) ? envelope[:request_id] : nil
          WireProtocol.encode_frame(JSON.generate(error_envelope(request_id, "Response not encodable: " \
                                                                              "#{TransportSupport.safe_message(e)}")))
        end
        TransportSupport.write_fully(socket, frame, @read_timeout)
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

      def close_quietly(io)
        io&.close
      rescue IOError, SystemCallError
        nil
      end

      def monotonic
        Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
    end
  end
end
