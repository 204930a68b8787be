# frozen_string_literal: true

require "socket"

module Igniter
  module Store
    module Server
      # Binds the listening socket of a server and names it.
      module Listener
        module_function

        # @param transport [Symbol] :tcp or :unix
        # @param host [String] bind host, or the socket path for :unix
        # @param port [Integer] ignored for :unix; 0 picks a free port
        # @param name [String] the listener, for the error (see {ListenFailure})
        # @param flag [String] the flag that sets its port
        # @return [TCPServer, UNIXServer]
        # @raise [SystemCallError] e.g. Errno::EADDRINUSE, tagged with {ListenFailure}
        def bind(transport, host, port, name: "op-protocol", flag: "--port")
          return bind_unix(host.to_s) if transport == :unix

          server = TCPServer.new(host, Integer(port))
          server.setsockopt(Socket::SOL_SOCKET, Socket::SO_REUSEADDR, true)
          server
        rescue SystemCallError => e
          address = transport == :unix ? host.to_s : Address.format(host, port)
          raise ListenFailure.tag(e, listener: name, address: address, flag: flag)
        end

        # @return [String] "ip:port" as actually bound (real ephemeral port), or the unix path
        def address_of(server, transport, host)
          return host.to_s if transport == :unix

          addr = server.local_address
          Address.format(addr.ip_address, addr.ip_port)
        end

        # A socket file left by a crashed server (nobody accepts on it) is
        # removed; a live one makes the bind fail with EADDRINUSE as before.
        def bind_unix(path)
          remove_stale_socket(path)
          UNIXServer.new(path)
        end

        # Deletes a unix socket file nobody listens on any more (left by a crashed server);
        # a live one is left for the bind to refuse.
        def remove_stale_socket(path)
          return unless File.socket?(path)

          UNIXSocket.new(path).close
        rescue Errno::ECONNREFUSED
          File.unlink(path)
        rescue SystemCallError
          nil
        end
      end
    end
  end
end
