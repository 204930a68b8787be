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
      DEFAULT_DRAIN_TIMEOUT = 2
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
        @server = transport == :tcp ? TCPServer.new(host, port) : UNIXServer.new(host)
        @bind_address = compute_bind_address
        @accept = Transport::AcceptLoop.new(@server, name: "TCPAdapter", max_connections: max_connections,
                                                     refuse: method(:refuse), logger: logger,
                                                     error_label: "TCPAdapter: client error")
      end

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
        raise "TCPAdapter did not become ready within #{timeout}s" if @server.closed?

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

      def validate!(transport, auth_token, max_frame_bytes, max_connections)
        unless TRANSPORTS.include?(transport)
          raise ArgumentError, "Unknown transport: #{transport.inspect}. Use :tcp or :unix"
        end
        Transport::OptionChecks.token!(auth_token)
        Server::Settings.frame_limit(max_frame_bytes)
        Transport::OptionChecks.positive_integer!(:max_connections, max_connections)
      end

      def compute_bind_address
        return @host if @transport == :unix

        address = @server.local_address
        Server::Address.format(address.ip_address, address.ip_port)
      end

      def refuse(socket, reason)
        reply(socket, error_envelope(nil, "Too many connections")) if reason == :full
      end

      # A frame read before a stop closed the connection is answered; the
      # connection ends when the stop has closed it meanwhile.
      def serve(slot)
        socket = slot.socket
        Transport::SocketIO.nodelay(socket) if @transport == :tcp
        reader = Transport::FrameReader.new(socket, max_bytes: @max_frame_bytes, timeout: @read_timeout,
                                                    per_part: true)
        loop do
          result = reader.read(idle: @idle_timeout)
          break refuse_stream(socket, result) unless result.kind == :frame
          break unless slot.busy { reply(socket, respond(result.body)) }
        end
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
        Transport::Auth.allows?(@auth_token, token, guarded: TransportSupport.mutating_op?(envelope[:op]))
      end

      def reply(socket, envelope)
        frame = begin
          Transport::JsonFrame.encode(envelope)
        rescue ArgumentError, JSON::GeneratorError => e
          request_id = envelope.is_a?(Hash) ? envelope[:request_id] : nil
          Transport::JsonFrame.encode(error_envelope(request_id, "Response not encodable: " \
                                                                 "#{TransportSupport.safe_message(e)}"))
        end
        Transport::SocketIO.write_all(socket, frame, @read_timeout)
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
