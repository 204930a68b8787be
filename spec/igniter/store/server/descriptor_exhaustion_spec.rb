# frozen_string_literal: true

require "net/http"

# A process out of file descriptors (accept(2) fails with EMFILE) serves
# again on every transport once descriptors are free. The servers run in a
# child whose RLIMIT_NOFILE leaves only a few spare descriptors; this
# example exhausts them with client connections, checks that nothing more
# is answered, releases them, and then talks to each transport.
module DescriptorExhaustionSpec
  CHILD = <<~'RUBY'
    require "igniter-ledger"
    require "stringio"

    log = StringIO.new
    logger = Igniter::Store::ServerLogger.new(log, :info)
    op = Igniter::Store::StoreServer.new(port: 0, logger: logger, drain_timeout: 0.2)
    op.start_async
    tcp = Igniter::Store::TCPAdapter.new(interpreter: op.protocol, port: 0, logger: logger).start_async
    http = Igniter::Store::HTTPAdapter.new(interpreter: op.protocol, port: 0, logger: logger).start_async
    # New descriptors get the lowest free numbers below the limit (open
    # ones above it stay usable): put the limit where SPARE numbers are free.
    open_fds = Dir.children("/proc/self/fd").map(&:to_i)
    limit = 0
    free = 0
    while free < Integer(ARGV[0])
      free += 1 unless open_fds.include?(limit)
      limit += 1
    end
    Process.setrlimit(:NOFILE, limit, Process.getrlimit(:NOFILE)[1])
    $stdout.puts "READY #{op.bind_address} #{tcp.bind_address} #{http.bind_address} #{limit}"
    $stdout.flush

    $stdin.read # until the spec closes our stdin
    errors = op.metrics.snapshot[:errors_total].select { |key, _| key.end_with?("/accept") }
    http.stop
    tcp.stop
    op.stop
    $stdout.puts "ACCEPT_ERRORS #{JSON.generate(errors)}"
    log.string.each_line { |line| $stdout.puts "LOG #{line}" if line.include?("accept") }
    $stdout.puts "DONE"
  RUBY

  SPARE_DESCRIPTORS = 24
end

RSpec.describe "Servers out of file descriptors", :servers do
  def port_in(address)
    Integer(address.split(":").last)
  end

  def envelope_frame(op)
    raw_frame(JSON.generate({ protocol: "igniter_store", schema_version: 1, request_id: "r1", op: op, packet: {} }))
  end

  def connect(port)
    TCPSocket.new("127.0.0.1", port).tap { |socket| tracked_sockets << socket }
  end

  it "serves new clients on the op protocol, envelope TCP and HTTP (puma) after EMFILE" do
    spare = DescriptorExhaustionSpec::SPARE_DESCRIPTORS
    child = spawn_ruby_script(DescriptorExhaustionSpec::CHILD, args: [spare.to_s])
    ready = await_line(child, /^READY (\S+) (\S+) (\S+) (\d+)$/, timeout: 20)
    op_port, tcp_port, http_port = ready.captures.first(3).map { |address| port_in(address) }

    # Each answered ping holds one descriptor of the child; the first ping
    # left unanswered waits in the listen backlog: the child is out of them.
    held = []
    waiting_op = nil
    (spare * 4).times do
      socket = connect(op_port)
      op_send(socket, op: "ping")
      reply = op_read(socket, timeout: 1)
      if reply == :timeout
        waiting_op = socket
        break
      end
      expect(reply).to eq(ok: true, pong: true)
      held << socket
    end
    expect(waiting_op).not_to be_nil, "the child never ran out of descriptors"
    # A few more than SPARE: the listing of /proc/self/fd counted its own
    # descriptor as open, and descriptors the child had open then (the
    # interpreter's own, closed by GC meanwhile) may be free again.
    expect(held.size).to be_between(1, spare + 8)

    # The other transports cannot accept either, but keep trying.
    waiting_tcp = connect(tcp_port)
    waiting_tcp.write(envelope_frame(:metadata_snapshot))
    waiting_http = connect(http_port)
    waiting_http.write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    expect(waiting_tcp.wait_readable(0.5)).to be_nil
    expect(waiting_http.wait_readable(0.3)).to be_nil

    held.each(&:close)

    # Clients that waited through the shortage are answered ...
    expect(op_read(waiting_op, timeout: 10)).to eq(ok: true, pong: true)
    expect(op_read(waiting_tcp, timeout: 10)).to include(status: "ok", request_id: "r1")
    expect(waiting_http.wait_readable(10)).to be_truthy
    expect(waiting_http.gets).to start_with("HTTP/1.1 200 ")

    # ... and so are new ones, on every transport.
    fresh_op = connect(op_port)
    op_send(fresh_op, op: "ping")
    expect(op_read(fresh_op)).to eq(ok: true, pong: true)
    fresh_tcp = connect(tcp_port)
    fresh_tcp.write(envelope_frame(:metadata_snapshot))
    expect(op_read(fresh_tcp)).to include(status: "ok", protocol: "igniter_store")
    health = Net::HTTP.start("127.0.0.1", http_port, open_timeout: 2, read_timeout: 5) { |h| h.get("/v1/health") }
    expect(health.code).to eq("200")
    expect(JSON.parse(health.body)).to include("status" => "ready")

    [waiting_op, waiting_tcp, waiting_http, fresh_op, fresh_tcp].each(&:close)
    child.input.close
    expect(await_exit(child, timeout: 20)).to be_success
    output = child.lines.join

    # A burst of failed accepts is logged once, however many retries it
    # took, and once more when accepting works again. (While the child
    # frees the released descriptors one by one, an accept may succeed and
    # the next fail again: that is a new burst, so more than one per
    # transport is possible, each still one line for many retries.)
    logs = child.lines.grep(/\ALOG /)
    bursts = {}
    %w[StoreServer TCPAdapter HTTPAdapter].each do |name|
      failed = logs.grep(/ WARN  \w+: #{name}: accept failed: Errno::EMFILE: .*; backing off and retrying$/)
      retries = logs.filter_map do |line|
        line[/ INFO  \w+: #{name}: accepting again after (\d+) failed accept\(s\)/, 1]
      end
      expect(failed).not_to be_empty, "#{name} logged no failed accept\n#{output}"
      expect(retries.size).to eq(failed.size), "#{name}: every burst ends with a recovery line\n#{output}"
      expect(retries.sum(&:to_i)).to be > failed.size, "#{name}: one line per retry\n#{output}"
      bursts[name] = failed.size
    end
    counted = JSON.parse(output[/^ACCEPT_ERRORS (.*)$/, 1])
    expect(counted).to eq("Errno::EMFILE/accept" => bursts["StoreServer"])
    expect(output).to include("DONE")
  end
end
