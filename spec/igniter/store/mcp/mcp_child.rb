# frozen_string_literal: true

require "io/wait"

module LedgerSpec
  # One child process; send/receive newline-delimited JSON-RPC.
  class McpChild
    attr_reader :stdout_lines

    def initialize(args)
      path_env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
      @stdin, @stdout, @stderr, @thread = Open3.popen3(path_env, RbConfig.ruby, File.join(LedgerSpec::ROOT, "exe/igniter-ledger"),
                                                       "mcp", *args, chdir: LedgerSpec::ROOT)
      @stdout_lines = []
    end

    def send_line(text)
      @stdin.write("#{text}\n")
      @stdin.flush
    end

    def send_message(message) = send_line(JSON.generate(message))

    def receive(timeout: 10)
      raise "no reply within #{timeout}s; stderr: #{stderr_so_far}" unless @stdout.wait_readable(timeout)

      line = @stdout.gets or raise "stdout closed; stderr: #{stderr_so_far}"
      @stdout_lines << line
      JSON.parse(line, symbolize_names: true)
    end

    def request(id, method, params = nil)
      send_message({ jsonrpc: "2.0", id: id, method: method, params: params }.compact)
      receive
    end

    def initialize_session(version = "2025-11-25")
      reply = request(0, "initialize", protocolVersion: version, capabilities: {}, clientInfo: { name: "spec", version: "1" })
      send_message(jsonrpc: "2.0", method: "notifications/initialized")
      reply
    end

    def call(id, name, arguments = nil)
      request(id, "tools/call", { name: name, arguments: arguments }.compact)
    end

    # Closes stdin; returns [exit status, rest of stdout, stderr].
    def finish
      @stdin.close
      rest = @stdout.read
      [@thread.value, rest, @stderr.read]
    end

    def kill
      Process.kill("KILL", @thread.pid)
    rescue Errno::ESRCH
      nil
    end

    private

    def stderr_so_far
      @stderr.wait_readable(0.2) ? @stderr.read_nonblock(10_000, exception: false).to_s : ""
    end
  end
end
