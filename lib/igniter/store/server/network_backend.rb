# frozen_string_literal: true

require "json"
require "socket"
require "io/wait"
require_relative "../storage/backend"

module Igniter
  module Store
    # Client of the op protocol (doc/servers.md "NetworkBackend") and a
    # storage backend (doc/contracts.md) for `IgniterStore.new(backend: nb)`:
    # `write_fact`, `replay`, `write_snapshot`, `close`. One persistent
    # connection, one request in flight at a time (a mutex serializes callers).
    class NetworkBackend
      include Backend

      # What this backend declares (doc/contracts.md).
      CAPABILITIES = Capabilities.declare(Capabilities::SNAPSHOTS)

      # The server answered `ok: false`, or closed the connection instead of answering.
      class NetworkError < StandardError
        # @return [String, nil] the server's `error_code` (`unauthorized`, `invalid_packet`, …), if it sent one
        attr_reader :code

        # @param message [String]
        # @param code [String, nil]
        def initialize(message = nil, code: nil)
          super(message)
          @code = code
        end
      end

      # Goodbye request: the server answers and ends the connection with FIN.
      CLOSE_FRAME = Transport::JsonFrame.encode({ op: "close" }).freeze

      # Handle of a push subscription ({NetworkBackend#subscribe}).
      class Subscription
        # @return [String, nil] position of the last fact received
        #   (doc/feed_positions.md): pass it as `after:` to resume, also
        #   after a server restart
        attr_accessor :position

        # @api private
        def initialize(socket, thread = nil)
          @socket = socket
          @thread = thread
          @position = nil
        end

        # @api private
        # @return [Thread] the reader thread (set once it is started)
        attr_writer :thread

        # Asks the server to end the subscription, closes the socket and
        # stops the reader thread. Idempotent.
        # @return [nil]
        def close
          begin
            @socket.write(CLOSE_FRAME)
          rescue IOError, SystemCallError
            nil
          end
          Transport::SocketIO.close_quietly(@socket)
          @thread.kill unless @thread.equal?(Thread.current)
          nil
        end
      end

      # Connects at once.
      # @param address [String] "host:port" (tcp; missing port = 7400) or a socket path (unix)
      # @param transport [Symbol] :tcp or :unix
      # @param token [String, nil] shared secret sent with every request (see StoreServer auth_token)
      # @param timeout [Numeric, nil] seconds to wait for a TCP connect (and TLS handshake) and for
      #   each reply; nil waits forever (0.5.2 behavior)
      # @param tls [Boolean] speak TLS to a server started with `tls_cert:`/`tls_key:`
      # @param ca_file [String, nil] PEM file of the CA (or the self-signed certificate) to trust;
      #   nil = the system's CAs
      # @param tls_verify [Boolean] false skips the certificate check (never on an untrusted network)
      # @raise [ArgumentError] unknown transport, TLS over a unix socket, an unreadable ca_file
      # @raise [SystemCallError] connection refused etc., unwrapped
      # @raise [Transport::TLS::HandshakeError] the TLS handshake failed (e.g. an untrusted certificate)
      def initialize(address:, transport: :tcp, token: nil, timeout: nil, tls: false, ca_file: nil, tls_verify: true)
        @address = address
        @transport = transport
        @token = token
        @timeout = timeout
        unless %i[tcp unix].include?(transport)
          raise ArgumentError, "Unknown transport: #{transport.inspect}. Use :tcp or :unix"
        end
        raise ArgumentError, "tls: applies to transport: :tcp only" if tls && transport != :tcp

        @tls = tls ? Transport::TLS.client_context(ca_file: ca_file, verify: tls_verify) : nil

        @socket = connect
        @lock = Mutex.new
      end

      # @return [Set<Symbol>] {CAPABILITIES}: snapshots (sent to the server)
      def capabilities
        CAPABILITIES
      end

      # @param fact [Fact]
      # @return [nil]
      # @raise [NetworkError] rejected by the server (e.g. invalid_fact, unauthorized)
      def write_fact(fact)
        rpc("write_fact", fact: fact.to_h)
        nil
      end

      # Facts per replay request; keeps every reply frame far below the
      # server's frame limit however big the log grows.
      REPLAY_PAGE_SIZE = 5_000

      # @return [Array<Fact>] every fact the server holds, in commit order
      def replay
        facts = []
        loop do
          params = { limit: REPLAY_PAGE_SIZE }
          params.update(after: facts.last.id, offset: facts.size) unless facts.empty?
          reply = rpc("replay", **params)
          facts.concat(Array(reply[:facts]).map { |h| Fact.from_h(h) })
          # A 0.5.2 server ignores limit and sends everything without "more".
          break unless reply[:more]
        end
        facts
      end

      # @param facts [Enumerable<Fact>]
      # @return [nil]
      def write_snapshot(facts)
        rpc("write_snapshot", facts: facts.map(&:to_h))
        nil
      end

      # Opens a second connection that receives every fact written to +stores+
      # (all stores for []) after the server's ack; with +after+, first every
      # fact committed after that position (doc/feed_positions.md), from the
      # ledger, so a position from before a server restart resumes exactly.
      # @param stores [Array<Symbol, String>]
      # @param after [String, nil] a position: {Subscription#position}, or
      #   `DurableFeed.position_of(fact)` of the last fact handled
      # @yieldparam fact [Fact]
      # @return [Subscription]
      # @raise [ArgumentError] without a block
      # @raise [NetworkError] refused by the server (a malformed position, or
      #   one whose fact the ledger no longer holds: error_code cursor_too_old)
      def subscribe(stores:, after: nil, &block)
        raise ArgumentError, "subscribe requires a block" unless block

        socket = connect
        request = { stores: Array(stores).map(&:to_s) }
        request[:after] = after unless after.nil?
        request[:token] = @token if @token
        Transport::SocketIO.write_all(socket, Transport::JsonFrame.encode(request.merge(op: "subscribe")), @timeout)
        ack = Transport::JsonFrame.read(socket)
        unless ack
          socket.close
          raise NetworkError, "Subscribe: server closed connection"
        end
        unless ack[:ok]
          socket.close
          raise NetworkError, ack[:error].to_s
        end
        subscription = Subscription.new(socket)
        subscription.thread = Thread.new { read_pushes(socket, subscription, block) }
        subscription
      end

      # Sends one open-protocol envelope (`read`, `history`, `query`,
      # `fact_by_id`, `write`, …: the ops of `POST /v1/dispatch`) for the
      # server's store to answer, as the `envelope` op.
      # @param op [String, Symbol]
      # @param packet [Hash]
      # @return [Hash] the response envelope's `result` (Symbol keys at every depth)
      # @raise [NetworkError] refused (its {NetworkError#code}: `invalid_packet`, `unknown_op`,
      #   `unauthorized`, `forbidden`, …) or the connection failed
      def envelope(op, packet = {})
        reply = rpc("envelope", envelope: { protocol: "igniter_store", schema_version: 1, op: op.to_s, packet: packet })
        reply.dig(:envelope, :result)
      end

      # Says goodbye (so the socket ends with FIN, not RST) and closes. Idempotent.
      # @return [nil]
      def close
        @lock.synchronize do
          return nil if @socket.closed?

          begin
            @socket.write(CLOSE_FRAME)
            WireProtocol.read_frame(@socket)
          rescue IOError, SystemCallError
            nil
          ensure
            Transport::SocketIO.close_quietly(@socket)
          end
        end
        nil
      end

      private

      # @return [Hash] Symbol-keyed response
      # @raise [NetworkError]
      def rpc(op, **params)
        params[:token] = @token if @token
        frame = Transport::JsonFrame.encode(params.merge(op: op))
        response = @lock.synchronize do
          Transport::SocketIO.write_all(@socket, frame, @timeout)
          await_reply
          Transport::JsonFrame.read(@socket)
        end
        raise NetworkError, "Connection closed by server" unless response
        raise NetworkError.new(response[:error].to_s, code: response[:error_code]) unless response[:ok]

        response
      rescue OpenSSL::SSL::SSLError => e
        raise NetworkError, "TLS connection to #{@address} failed: #{Transport::ErrorText.first_line(e)}"
      end

      # A late reply would be taken for the next request's, so a timeout
      # closes the connection.
      def await_reply
        return if @timeout.nil? || (@socket.respond_to?(:pending) && @socket.pending.positive?) ||
                  @socket.to_io.wait_readable(@timeout)

        @socket.close
        raise NetworkError, "no reply from #{@address} within #{@timeout}s"
      end

      def read_pushes(socket, subscription, block)
        Thread.current.report_on_exception = false
        while (message = Transport::JsonFrame.read(socket))
          next unless message[:event] == "fact_written"

          begin
            block.call(Fact.from_h(message[:fact]))
          rescue StandardError
            nil # a failing handler must not end the subscription
          end
          subscription.position = message[:position] if message[:position]
        end
      rescue IOError, SystemCallError, JSON::ParserError, OpenSSL::SSL::SSLError
        nil
      ensure
        Transport::SocketIO.close_quietly(socket)
      end

      def connect
        return UNIXSocket.new(@address.to_s) if @transport == :unix

        host, port = Server::Address.parse(@address)
        socket = Socket.tcp(host, port, connect_timeout: @timeout)
        Transport::SocketIO.nodelay(socket)
        return socket unless @tls

        begin
          Transport::TLS.connect(socket, @tls, host, @timeout)
        rescue StandardError
          Transport::SocketIO.close_quietly(socket)
          raise
        end
      end
    end

    # Name used by igniter-ledger 0.5.2 and its docs.
    LedgerNetworkBackend = NetworkBackend unless const_defined?(:LedgerNetworkBackend, false)
  end
end
