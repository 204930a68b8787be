# frozen_string_literal: true

require "socket"
require "io/wait"

module LedgerSpec
  # Helpers for StoreServer / NetworkBackend specs (tag a group `:servers`):
  # servers and clients built here are stopped/closed after each example.
  module ServerHelpers
    # Polls the block every 10 ms until it is truthy; fails the example
    # with +message+ when +timeout+ seconds pass first.
    # @return [Object] the block's truthy value
    def poll_until(timeout: 3, message: "condition not met")
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        value = yield
        return value if value
        raise "timed out after #{timeout}s: #{message}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.01
      end
    end

    # Queue#pop with a deadline (Ruby 3.1's Queue#pop has no timeout:).
    def pop_within(queue, timeout = 3)
      poll_until(timeout: timeout, message: "nothing arrived in the queue") { !queue.empty? }
      queue.pop
    end

    def silent_logger
      Igniter::Store::ServerLogger.new(nil, :error)
    end

    # A StoreServer on an ephemeral loopback port, silent, with a short drain.
    def build_server(**opts)
      server = Igniter::Store::StoreServer.new(port: 0, logger: silent_logger, drain_timeout: 0.2, **opts)
      tracked_servers << server
      server
    end

    def start_server(**opts)
      server = build_server(**opts)
      server.start_async
      server
    end

    def client_for(server, **opts)
      client = Igniter::Store::NetworkBackend.new(address: server.bind_address, **opts)
      tracked_clients << client
      client
    end

    def port_number(server)
      Integer(server.bind_address.split(":").last)
    end

    # A raw op-protocol socket to +server+.
    def op_socket(server)
      socket = TCPSocket.new("127.0.0.1", port_number(server))
      tracked_sockets << socket
      socket
    end

    # Writes +request+ (Hash and/or keyword fields → compact JSON, or a
    # String body) as one frame.
    def op_send(socket, request = {}, **fields)
      body = request.is_a?(String) ? request : JSON.generate(request.merge(fields))
      socket.write(raw_frame(body))
    end

    # One reply frame as a Symbol-keyed Hash; :eof when the server closed
    # the connection; :timeout when nothing came within +timeout+.
    def op_read(socket, timeout: 3)
      return :timeout unless socket.wait_readable(timeout)

      body = Igniter::Store::WireProtocol.read_frame(socket)
      body ? JSON.parse(body, symbolize_names: true) : :eof
    rescue Errno::ECONNRESET, IOError
      :eof
    end

    def op_call(socket, request = {}, **fields)
      op_send(socket, request, **fields)
      op_read(socket)
    end

    # A fact's wire Hash (String keys as JSON would carry them).
    def wire_fact(store: "tasks", key: "k1", value: { "title" => "Hello" }, **overrides)
      fact = Igniter::Store::Fact.build(store: store, key: key, value: value)
      JSON.parse(JSON.generate(fact.to_h)).merge(overrides.transform_keys(&:to_s))
    end

    # --- the executable -------------------------------------------------

    # +input+ is the write end of the child's stdin (nil when not asked for).
    LedgerProcess = Struct.new(:pid, :out, :lines, :input, keyword_init: true)

    # Spawns exe/<name> with +args+ in +chdir+ (stderr merged into the
    # captured output); killed in teardown if still running.
    def spawn_ledger(args, chdir:, env: {}, name: "igniter-ledger-server")
      spawn_tracked([File.join(LedgerSpec::ROOT, "exe", name), *args], chdir: chdir, env: env)
    end

    # Runs `ruby -I lib -e script -- args` on this example's path (native
    # or pure), stderr merged into the captured output, stdin a pipe the
    # example holds (closing it is the child's cue to finish).
    def spawn_ruby_script(script, args: [], env: {})
      spawn_tracked(["-I", LedgerSpec::LIB_DIR, "-e", script, "--", *args], chdir: LedgerSpec::ROOT, env: env,
                                                                            input: true)
    end

    def spawn_tracked(argv, chdir:, env:, input: false)
      reader, writer = IO.pipe
      child_in, input_writer = input ? IO.pipe : [nil, nil]
      path_env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
      options = { chdir: chdir, out: writer, err: writer }
      options[:in] = child_in if child_in
      pid = Process.spawn(path_env.merge(env), RbConfig.ruby, *argv, **options)
      writer.close
      child_in&.close
      process = LedgerProcess.new(pid: pid, out: reader, lines: [], input: input_writer)
      tracked_processes << process
      process
    end

    # Reads output lines until one matches +pattern+; returns the MatchData.
    def await_line(process, pattern, timeout: 8)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        process.lines.each { |line| (m = line.match(pattern)) && (return m) }
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        raise "no line matching #{pattern.inspect} within #{timeout}s; got:\n#{process.lines.join}" if left <= 0

        next unless process.out.wait_readable([left, 0.1].min)

        line = process.out.gets
        raise "process output ended; got:\n#{process.lines.join}" if line.nil?

        process.lines << line
      end
    end

    # Waits for the process to exit; returns its Process::Status.
    def await_exit(process, timeout: 8)
      poll_until(timeout: timeout, message: "process #{process.pid} did not exit") do
        _, status = Process.waitpid2(process.pid, Process::WNOHANG)
        process.lines.concat(process.out.readlines) if status
        status
      end
    end

    def tracked_processes
      @tracked_processes ||= []
    end

    def tracked_servers
      @tracked_servers ||= []
    end

    def tracked_clients
      @tracked_clients ||= []
    end

    def tracked_sockets
      @tracked_sockets ||= []
    end

    def teardown_servers
      tracked_sockets.each { |s| s.close unless s.closed? }
      tracked_clients.each do |c|
        c.close
      rescue StandardError
        nil
      end
      tracked_servers.each(&:stop)
      tracked_processes.each do |process|
        Process.kill("KILL", process.pid)
        Process.waitpid(process.pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      ensure
        process.out.close unless process.out.closed?
        process.input.close if process.input && !process.input.closed?
      end
    end
  end
end

RSpec.configure do |config|
  config.include LedgerSpec::ServerHelpers, :servers
  config.after(:each, :servers) { teardown_servers }
  # `:in_tmpdir` examples run with @dir, a directory of their own.
  config.around(:each, :in_tmpdir) do |example|
    with_tmpdir do |dir|
      @dir = dir
      example.run
    end
  end
end
