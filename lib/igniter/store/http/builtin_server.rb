# frozen_string_literal: true

require "stringio"

module Igniter
  module Store
    class HTTPAdapter
      # Small HTTP/1.1 server for the Rack app when puma is not wanted or not
      # installed. Thread per connection (bounded), keep-alive, deadlines on
      # headers and bodies, oversized bodies refused from Content-Length
      # before reading them. A response without Content-Length (SSE) is
      # streamed as written and ends the connection.
      class BuiltinServer
        include ResponseHelper

        MAX_REQUEST_LINE = 8 * 1024
        MAX_HEADER_BYTES = 32 * 1024
        MAX_HEADERS = 100
        # Rack 3.1 dropped the Rack::VERSION Array.
        RACK_VERSION = defined?(Rack::VERSION) ? Rack::VERSION : [1, 3]
        REASONS = {
          100 => "Continue", 200 => "OK", 400 => "Bad Request", 401 => "Unauthorized", 404 => "Not Found",
          405 => "Method Not Allowed", 408 => "Request Timeout", 409 => "Conflict", 411 => "Length Required",
          413 => "Payload Too Large", 431 => "Request Header Fields Too Large", 500 => "Internal Server Error",
          503 => "Service Unavailable"
        }.freeze

        # A request that cannot be served; answered with +status+ and closed.
        class RequestError < StandardError
          attr_reader :status

          def initialize(status, message)
            super(message)
            @status = status
          end
        end

        # @param app [#call] Rack app
        # @param listener [TCPServer] bound and listening
        # @param max_connections [Integer] concurrent connections; more get 503
        # @param read_timeout [Numeric] seconds for one request's head or body
        # @param idle_timeout [Numeric] seconds a keep-alive connection may sit idle
        # @param max_body_bytes [Integer]
        # @param logger [#warn, nil]
        def initialize(app, listener:, max_connections:, read_timeout:, idle_timeout:, max_body_bytes:, logger: nil)
          @app = app
          @listener = listener
          @read_timeout = read_timeout
          @idle_timeout = idle_timeout
          @max_body_bytes = max_body_bytes
          @accept = Transport::AcceptLoop.new(listener, name: "HTTPAdapter", max_connections: max_connections,
                                                        refuse: method(:refuse), logger: logger,
                                                        error_label: "HTTPAdapter: connection error")
          address = listener.local_address
          @server_name = address.ip_address
          @server_port = address.ip_port.to_s
        end

        # Starts the accept loop in a thread; the listener already accepts.
        # @return [Thread]
        def start
          @accept.start { |slot| serve(slot) }
        end

        # Stops accepting, closes idle keep-alive connections, lets requests
        # in progress finish for up to +timeout+ seconds, then closes the
        # rest and joins the threads.
        # @param timeout [Numeric]
        # @return [nil]
        def stop(timeout: 2)
          @accept.stop(timeout: timeout)
          nil
        end

        private

        def refuse(socket, reason)
          return unless reason == :full

          write_response(socket, json_response(503, { error: "Too many connections" }), keep_alive: false)
        end

        # Idle, slow or vanished peers just end the loop (the accept loop
        # closes the socket). A request whose first bytes arrived before a
        # stop is served; the next one is not started.
        def serve(slot)
          socket = slot.socket
          Transport::SocketIO.nodelay(socket)
          reader = TimedReader.new(socket)
          peer = Transport::SocketIO.peer_ip(socket)
          loop do
            break unless reader.wait_for_data(@idle_timeout)

            keep_alive = false
            break unless slot.busy { keep_alive = handle_request(socket, reader, peer) } && keep_alive
          end
        end

        # @return [Boolean] keep the connection open
        def handle_request(socket, reader, peer)
          env, keep_alive = read_request(socket, reader, peer)
          return false unless env

          response = @app.call(env)
          head_only = env["REQUEST_METHOD"] == "HEAD"
          write_response(socket, response, keep_alive: keep_alive && !head_only, head_only: head_only)
        rescue RequestError => e
          write_response(socket, json_response(e.status, { error: e.message }), keep_alive: false)
          false
        rescue TimedReader::Timeout
          write_response(socket, json_response(408, { error: "Request timed out" }), keep_alive: false)
          false
        rescue TimedReader::LineTooLong
          write_response(socket, json_response(431, { error: "Request header too large" }), keep_alive: false)
          false
        end

        # @return [Array(Hash, Boolean), nil] Rack env and keep-alive, nil on EOF
        def read_request(socket, reader, peer)
          line = reader.read_line(MAX_REQUEST_LINE, @read_timeout)
          return nil if line.nil?

          method, target, version = line.split(" ", 3)
          unless method&.match?(/\A[A-Z]+\z/) && target && version&.match?(%r{\AHTTP/1\.[01]\z})
            raise RequestError.new(400, "Malformed request line")
          end

          headers = read_headers(reader)
          env = base_env(method, target, version, peer)
          headers.each { |name, value| env[header_key(name)] = value }
          raise RequestError.new(411, "Chunked request bodies are not supported") if headers.key?("transfer-encoding")

          env["rack.input"] = StringIO.new(read_body(socket, reader, headers))
          [env, keep_alive?(version, headers["connection"])]
        end

        def read_headers(reader)
          headers = {}
          total = 0
          loop do
            line = reader.read_line(MAX_HEADER_BYTES, @read_timeout)
            raise EOFError, "connection closed in headers" if line.nil?
            break if line.empty?

            total += line.bytesize
            raise TimedReader::LineTooLong, "headers too large" if total > MAX_HEADER_BYTES || headers.size >= MAX_HEADERS

            name, value = line.split(":", 2)
            raise RequestError.new(400, "Malformed header line") if value.nil? || name.strip.empty?

            key = name.strip.downcase
            headers[key] = headers.key?(key) ? "#{headers[key]}, #{value.strip}" : value.strip
          end
          headers
        end

        def read_body(socket, reader, headers)
          length = headers["content-length"]
          return +"".b if length.nil?
          raise RequestError.new(400, "Invalid Content-Length") unless length.match?(/\A\d+\z/)

          length = length.to_i
          raise RequestError.new(413, "Request body exceeds #{@max_body_bytes} bytes") if length > @max_body_bytes

          send_data(socket, "HTTP/1.1 100 Continue\r\n\r\n") if headers["expect"].to_s.casecmp?("100-continue")
          body = reader.read_exact(length, @read_timeout)
          raise EOFError, "connection closed in body" if body.nil?

          body
        end

        def base_env(method, target, version, peer)
          path, query = target.split("?", 2)
          path = path.sub(%r{\Ahttps?://[^/]*}i, "")
          {
            "REQUEST_METHOD" => method, "SCRIPT_NAME" => "", "PATH_INFO" => path.empty? ? "/" : path,
            "QUERY_STRING" => query.to_s, "SERVER_NAME" => @server_name, "SERVER_PORT" => @server_port,
            "SERVER_PROTOCOL" => version, "REMOTE_ADDR" => peer, "rack.version" => RACK_VERSION,
            "rack.url_scheme" => "http", "rack.errors" => StringIO.new, "rack.multithread" => true,
            "rack.multiprocess" => false, "rack.run_once" => false, "rack.hijack?" => false
          }
        end

        def header_key(name)
          case name
          when "content-type" then "CONTENT_TYPE"
          when "content-length" then "CONTENT_LENGTH"
          else "HTTP_#{name.upcase.tr("-", "_")}"
          end
        end

        def keep_alive?(version, connection)
          tokens = connection.to_s.downcase.split(",").map(&:strip)
          version == "HTTP/1.1" ? !tokens.include?("close") : tokens.include?("keep-alive")
        end

        # @return [Boolean] the connection may serve another request
        def write_response(socket, response, keep_alive:, head_only: false)
          status, headers, body = response
          sized = headers.keys.any? { |key| key.to_s.casecmp?("content-length") }
          keep_alive &&= sized
          head = +"HTTP/1.1 #{status} #{REASONS.fetch(status.to_i, "Status")}\r\n"
          headers.each do |key, value|
            next if key.to_s.casecmp?("connection")

            value.to_s.split("\n").each { |line| head << "#{key}: #{line}\r\n" }
          end
          head << "Connection: #{keep_alive ? "keep-alive" : "close"}\r\n\r\n"
          send_data(socket, head)
          body.each { |chunk| send_data(socket, chunk) } unless head_only
          keep_alive
        ensure
          body.close if body.respond_to?(:close)
        end

        # A client that stops reading (e.g. a stalled SSE consumer) is dropped
        # after read_timeout instead of blocking this thread forever.
        def send_data(socket, data)
          Transport::SocketIO.write_all(socket, data, @read_timeout)
        end
      end
    end
  end
end
