# frozen_string_literal: true

require "net/http"
require "socket"

module LedgerSpec
  # Helpers for the envelope transports (TCPAdapter, HTTPAdapter, MCPAdapter).
  module AdapterHelpers
    # Polls +block+ every 10 ms until it is truthy or +timeout+ passes.
    # @return [Object] the block's last value
    def wait_until(timeout: 2)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        value = yield
        return value if value || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.01
      end
    end

    # A port nothing listens on right now (bound, read, released).
    def free_port
      server = TCPServer.new("127.0.0.1", 0)
      server.addr[1]
    ensure
      server&.close
    end

    # @return [Integer] the port part of "host:port"
    def port_of(bind_address)
      Integer(bind_address.split(":").last)
    end

    def envelope(op, packet = {}, request_id: nil, **extra)
      { protocol: "igniter_store", schema_version: 1, request_id: request_id, op: op, packet: packet }.merge(extra)
    end

    # --- framed TCP -------------------------------------------------------

    def tcp_connect(adapter)
      socket = TCPSocket.new("127.0.0.1", port_of(adapter.bind_address))
      socket.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      socket
    end

    # Reads one frame (String-keyed JSON of the body), or nil at EOF /
    # reset, waiting at most +timeout+ seconds.
    def read_reply(socket, timeout: 5)
      return nil unless socket.wait_readable(timeout)

      body = Igniter::Store::WireProtocol.read_frame(socket)
      body && JSON.parse(body)
    rescue Errno::ECONNRESET, IOError
      nil
    end

    def tcp_call(socket, env)
      socket.write(raw_frame(JSON.generate(env)))
      read_reply(socket)
    end

    # One request on a fresh connection, as the 0.5.2 specs do.
    def tcp_request(adapter, env)
      socket = tcp_connect(adapter)
      tcp_call(socket, env)
    ensure
      socket&.close
    end

    # true when the peer closed the connection within +timeout+ seconds.
    def closed_by_peer?(socket, timeout: 3)
      return false unless socket.wait_readable(timeout)

      socket.read_nonblock(1, exception: false).nil?
    rescue Errno::ECONNRESET, IOError
      true
    end

    # --- Rack -------------------------------------------------------------

    def rack_env(method, path, body: nil, query: nil, headers: {})
      env = { "REQUEST_METHOD" => method, "PATH_INFO" => path, "SCRIPT_NAME" => "",
              "rack.input" => StringIO.new(body.to_s) }
      env["QUERY_STRING"] = query if query
      env.merge(headers)
    end

    def json_body(response)
      JSON.parse(response[2].join)
    end

    # Runs +body.each+ in a thread (events may be emitted by the block
    # meanwhile) until +frames+ SSE frames arrived (or 3 s), or for
    # +duration+ seconds when no count is given; then closes the body and
    # returns the text streamed.
    def stream_sse(body, duration: 0.08, frames: nil)
      chunks = Queue.new
      reader = Thread.new { body.each { |chunk| chunks << chunk } }
      yield if block_given?
      text = +""
      if frames
        wait_until(timeout: 3) { sse_frames(text << drain_queue(chunks)).size >= frames }
      else
        sleep duration
      end
      body.close
      reader.join(1)
      text << drain_queue(chunks)
    end

    # Parses an SSE stream into `{id:, event:, data:, sequence:}` Hashes
    # (comments skipped): +id+ is the frame id as sent (a durable position,
    # doc/feed_positions.md), +sequence+ the changefeed ring's sequence
    # from the data's cursor.
    def sse_frames(text)
      text.split("\n\n").filter_map do |block|
        fields = block.lines.map(&:chomp).reject { |line| line.start_with?(":") }
        next if fields.empty?

        frame = {}
        fields.each do |line|
          name, value = line.split(": ", 2)
          frame[name.to_sym] = value
        end
        frame[:data] = JSON.parse(frame[:data]) if frame[:data]
        frame[:sequence] = frame[:data].dig("cursor", "sequence") if frame[:data].is_a?(Hash)
        frame
      end
    end

    def emit_facts(buffer, count, store: :tasks, prefix: "k")
      count.times { |i| buffer.emit(Igniter::Store::Fact.build(store: store, key: "#{prefix}#{i}", value: { i: i })) }
    end

    # --- HTTP over a socket -----------------------------------------------

    def http_post_json(port, path, payload, headers = {})
      body = payload.is_a?(String) ? payload : JSON.generate(payload)
      Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
        http.post(path, body, { "Content-Type" => "application/json" }.merge(headers))
      end
    end

    def http_get(port, path)
      Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) { |http| http.get(path) }
    end

    # Streams `GET path` in a thread, collecting chunks until the server ends it.
    # @return [Array(Thread, Queue)]
    def http_stream(port, path)
      chunks = Queue.new
      thread = Thread.new do
        Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) do |http|
          http.request(Net::HTTP::Get.new(path)) { |res| res.read_body { |chunk| chunks << chunk } }
        end
      rescue IOError, SystemCallError, Net::ReadTimeout
        nil
      end
      [thread, chunks]
    end

    def drain_queue(queue)
      out = +""
      out << queue.pop until queue.empty?
      out
    end

  end

end

# Only the adapter specs get these helpers, so their names cannot shadow
# other support modules.
RSpec.configure do |config|
  config.include LedgerSpec::AdapterHelpers, file_path: %r{spec/igniter/store/adapters/}
end
