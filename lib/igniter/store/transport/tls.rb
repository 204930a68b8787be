# frozen_string_literal: true

require "openssl"
require "io/wait"

module Igniter
  module Store
    module Transport
      # TLS for the framed TCP transports (op protocol, envelope TCP) and
      # their client, {NetworkBackend}: contexts built from PEM files, and
      # handshakes with a deadline on the connection's own thread, so a
      # client that connects and says nothing never stalls the accept loop.
      module TLS
        # Oldest protocol version either side speaks.
        MIN_VERSION = OpenSSL::SSL::TLS1_2_VERSION

        # The handshake did not finish in time, or failed.
        class HandshakeError < IOError; end

        module_function

        # @param cert [String] PEM certificate (chain) file
        # @param key [String] PEM private key file
        # @return [OpenSSL::SSL::SSLContext] for servers
        # @raise [ArgumentError] naming the file that cannot be read or does not match
        def server_context(cert:, key:)
          context = OpenSSL::SSL::SSLContext.new
          chain = read_pem(cert, "certificate") { |text| certificates(text) }
          context.cert = chain.first
          context.extra_chain_cert = chain.drop(1) unless chain.size == 1
          context.key = read_pem(key, "private key") { |text| OpenSSL::PKey.read(text) }
          unless context.cert.check_private_key(context.key)
            raise ArgumentError, "TLS key #{key} does not belong to the certificate #{cert}"
          end

          context.min_version = MIN_VERSION
          context
        end

        # @param ca_file [String, nil] PEM file of the CAs to trust; nil = the system's
        # @param verify [Boolean] false accepts any certificate (tests, pinned networks only)
        # @return [OpenSSL::SSL::SSLContext] for clients
        def client_context(ca_file: nil, verify: true)
          context = OpenSSL::SSL::SSLContext.new
          context.min_version = MIN_VERSION
          context.verify_mode = verify ? OpenSSL::SSL::VERIFY_PEER : OpenSSL::SSL::VERIFY_NONE
          if verify
            store = OpenSSL::X509::Store.new
            ca_file ? read_pem(ca_file, "CA file") { |_| store.add_file(ca_file) } : store.set_default_paths
            context.cert_store = store
            context.verify_hostname = true
          end
          context
        end

        # Wraps a listening socket: `accept` returns an SSLSocket whose
        # handshake has not started ({.accept_handshake} runs it).
        # @param listener [TCPServer]
        # @param context [OpenSSL::SSL::SSLContext]
        # @return [OpenSSL::SSL::SSLServer]
        def wrap_listener(listener, context)
          server = OpenSSL::SSL::SSLServer.new(listener, context)
          server.start_immediately = false
          server
        end

        # @param socket [OpenSSL::SSL::SSLSocket] from a {.wrap_listener} listener
        # @param timeout [Numeric, nil] seconds for the whole handshake
        # @return [OpenSSL::SSL::SSLSocket]
        # @raise [HandshakeError]
        def accept_handshake(socket, timeout)
          handshake(socket, timeout) { socket.accept_nonblock(exception: false) }
        end

        # Connects TLS over an open TCP socket.
        # @param tcp [Socket] connected
        # @param context [OpenSSL::SSL::SSLContext] from {.client_context}
        # @param hostname [String] for SNI and the certificate check
        # @param timeout [Numeric, nil]
        # @return [OpenSSL::SSL::SSLSocket]
        # @raise [HandshakeError, OpenSSL::SSL::SSLError]
        def connect(tcp, context, hostname, timeout)
          socket = OpenSSL::SSL::SSLSocket.new(tcp, context)
          socket.sync_close = true
          socket.hostname = hostname
          handshake(socket, timeout) { socket.connect_nonblock(exception: false) }
          socket.post_connection_check(hostname) if context.verify_mode == OpenSSL::SSL::VERIFY_PEER
          socket
        end

        # @param socket [Object]
        # @return [Boolean] a TLS socket
        def tls?(socket)
          socket.is_a?(OpenSSL::SSL::SSLSocket)
        end

        def handshake(socket, timeout)
          deadline = Clock.deadline(timeout)
          loop do
            case (step = yield)
            when :wait_readable, :wait_writable
              left = deadline && Clock.left(deadline)
              io = socket.to_io
              ready = step == :wait_readable ? io.wait_readable(left) : io.wait_writable(left)
              raise HandshakeError, "TLS handshake not finished within #{timeout}s" unless ready
            else return socket
            end
          end
        rescue OpenSSL::SSL::SSLError, SystemCallError => e
          raise HandshakeError, "TLS handshake failed: #{ErrorText.first_line(e)}"
        end

        def certificates(text)
          chain = text.scan(/-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----/m)
                      .map { |pem| OpenSSL::X509::Certificate.new(pem) }
          raise OpenSSL::X509::CertificateError, "no PEM certificate in it" if chain.empty?

          chain
        end

        def read_pem(path, what)
          yield File.read(path.to_s)
        rescue SystemCallError => e
          raise ArgumentError, "TLS #{what} #{path}: cannot read it (#{ErrorText.first_line(e)})"
        rescue OpenSSL::OpenSSLError, ArgumentError => e
          raise ArgumentError, "TLS #{what} #{path}: not a usable PEM file (#{ErrorText.first_line(e)})"
        end

        private_class_method :handshake, :certificates, :read_pem
      end
    end
  end
end
