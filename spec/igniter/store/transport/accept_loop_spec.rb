# frozen_string_literal: true

require "delegate"

module AcceptLoopSpec
  # A real listening socket whose accept first raises the queued errors,
  # the way accept(2) fails while the process is out of descriptors.
  class FlakyListener < SimpleDelegator
    def initialize(server)
      super
      @failures = Queue.new
      @calls = 0
    end

    attr_reader :calls

    def fail_next(*errors)
      errors.each { |error| @failures << error }
    end

    def accept
      @calls += 1
      raise @failures.pop unless @failures.empty?

      __getobj__.accept
    end
  end

  # Collects log lines by level.
  class LinesLogger
    def initialize = @lines = Queue.new
    def warn(msg) = @lines << [:warn, msg]
    def info(msg) = @lines << [:info, msg]

    def lines
      out = []
      out << @lines.pop until @lines.empty?
      out
    end
  end
end

RSpec.describe Igniter::Store::Transport::AcceptLoop, :servers do
  include LedgerSpec::AdapterHelpers

  let(:server) { TCPServer.new("127.0.0.1", 0) }
  let!(:port) { server.local_address.ip_port }
  let(:loops) { [] }

  after do
    loops.each { |l| l.stop(timeout: 0) }
    server.close unless server.closed?
  end

  def build(listener = server, **opts)
    described_class.new(listener, name: "Spec", **opts).tap { |l| loops << l }
  end

  # Serves one line per request: "ping" -> "pong", in a busy section.
  def echo(slot)
    while (line = slot.socket.gets)
      break unless slot.busy { slot.socket.write("#{line.chomp == "ping" ? "pong" : line.chomp}\n") }
    end
  end

  def connect
    TCPSocket.new("127.0.0.1", port).tap { |s| tracked_sockets << s }
  end

  def answer(socket, line = "ping", timeout: 3)
    socket.write("#{line}\n")
    return :timeout unless socket.wait_readable(timeout)

    socket.gets&.chomp || :eof
  rescue Errno::ECONNRESET, Errno::EPIPE, IOError
    :eof
  end

  describe "serving" do
    it "serves every connection on its own thread and counts the open ones" do
      accept_loop = build
      accept_loop.start { |slot| echo(slot) }
      clients = 3.times.map { connect }

      expect(clients.map { |c| answer(c) }).to eq(%w[pong pong pong])
      expect(accept_loop.size).to eq(3)
      clients.each(&:close)
      poll_until(message: "connections not released") { accept_loop.size.zero? }
    end

    it "hands a connection over max_connections to refuse with :full and closes it" do
      refused = Queue.new
      accept_loop = build(max_connections: 1, refuse: lambda { |socket, reason|
                                                       refused << reason
                                                       socket.write("busy\n")
                                                     })
      accept_loop.start { |slot| echo(slot) }
      first = connect
      expect(answer(first)).to eq("pong")

      second = connect
      expect(second.gets&.chomp).to eq("busy")
      expect(closed_by_peer?(second)).to be(true)
      expect(pop_within(refused)).to eq(:full)
      expect(answer(first)).to eq("pong")
    end

    it "refuses new connections with :draining once drained, and keeps serving none" do
      refused = Queue.new
      accept_loop = build(refuse: ->(_socket, reason) { refused << reason })
      accept_loop.start { |slot| echo(slot) }
      expect(accept_loop.drain(timeout: 0)).to eq(0)

      late = connect
      expect(closed_by_peer?(late)).to be(true)
      expect(pop_within(refused)).to eq(:draining)
      expect(accept_loop).to be_draining
    end

    it "logs an unexpected error of a connection under error_label and goes on accepting" do
      logger = AcceptLoopSpec::LinesLogger.new
      accept_loop = build(logger: logger, error_label: "Spec: client error")
      accept_loop.start do |slot|
        raise ArgumentError, "bad\nsnippet" if slot.socket.gets.chomp == "boom"
      end
      expect(answer(connect, "boom")).to eq(:eof)
      poll_until(message: "no log line") { (@lines = logger.lines).any? }

      expect(@lines).to eq([[:warn, "Spec: client error: ArgumentError: bad"]])
      expect(accept_loop).to be_running
    end
  end

  describe "failed accepts" do
    let(:flaky) { AcceptLoopSpec::FlakyListener.new(server) }

    it "backs off and keeps accepting after EMFILE, logging and reporting the burst once" do
      logger = AcceptLoopSpec::LinesLogger.new
      reported = Queue.new
      flaky.fail_next(*Array.new(4) { Errno::EMFILE.new("accept(2)") })
      accept_loop = build(flaky, logger: logger, on_accept_error: ->(e) { reported << e })
      accept_loop.start { |slot| echo(slot) }

      expect(answer(connect)).to eq("pong")
      lines = logger.lines
      expect(lines.size).to eq(2)
      expect(lines[0]).to eq([:warn, "Spec: accept failed: Errno::EMFILE: Too many open files - accept(2); " \
                                     "backing off and retrying"])
      expect(lines[1][0]).to eq(:info)
      expect(lines[1][1]).to match(/\ASpec: accepting again after 4 failed accept\(s\) in [\d.]+s\z/)
      expect(reported.size).to eq(1)
      expect(reported.pop).to be_a(Errno::EMFILE)
      expect(accept_loop.accept_error_bursts).to eq(1)
      expect(flaky.calls).to be >= 5
    end

    it "survives every transient accept error and counts one burst per run of failures" do
      errors = described_class::TRANSIENT_ERRORS.map(&:new)
      flaky.fail_next(*errors)
      accept_loop = build(flaky)
      accept_loop.start { |slot| echo(slot) }
      expect(answer(connect)).to eq("pong")
      expect(accept_loop.accept_error_bursts).to eq(1)

      # The loop is back in a real accept; the next call after this client fails again.
      flaky.fail_next(Errno::ENFILE.new, Errno::ENOBUFS.new)
      expect(answer(connect)).to eq("pong")
      expect(answer(connect)).to eq("pong")
      expect(accept_loop.accept_error_bursts).to eq(2)
    end

    it "treats an unknown accept error as passing too, and says it was unexpected" do
      logger = AcceptLoopSpec::LinesLogger.new
      flaky.fail_next(Errno::EPERM.new)
      accept_loop = build(flaky, logger: logger)
      accept_loop.start { |slot| echo(slot) }

      expect(answer(connect)).to eq("pong")
      expect(logger.lines.first.last).to include("Errno::EPERM", "unexpected, backing off")
    end
  end

  describe "#stop" do
    it "closes the listener, which ends a loop blocked in accept" do
      accept_loop = build
      thread = accept_loop.start { |slot| echo(slot) }
      poll_until { accept_loop.running? }

      expect(accept_loop.stop(timeout: 1)).to eq(0)
      expect(thread).not_to be_alive
      expect(accept_loop).not_to be_running
      expect(server).to be_closed
      expect { TCPSocket.new("127.0.0.1", port) }.to raise_error(Errno::ECONNREFUSED)
    end

    it "wakes a loop waiting in its backoff" do
      flaky = AcceptLoopSpec::FlakyListener.new(server)
      flaky.fail_next(*Array.new(50) { Errno::EMFILE.new })
      accept_loop = build(flaky, backoff: Igniter::Store::Transport::Backoff.new(initial: 60, max: 60))
      thread = accept_loop.start { |slot| echo(slot) }
      poll_until(message: "no accept attempted") { flaky.calls.positive? }

      accept_loop.stop(timeout: 0)
      expect(thread).not_to be_alive
    end

    it "closes idle connections, lets a request in progress finish, and leaks no thread" do
      threads_before = Thread.list.size
      release = Queue.new
      started = Queue.new
      accept_loop = build
      accept_loop.start do |slot|
        line = slot.socket.gets
        slot.busy do
          started << true
          release.pop
          slot.socket.write("done #{line}")
        end
      end
      idle = connect
      busy = connect
      busy.write("work\n")
      pop_within(started)
      poll_until { accept_loop.size == 2 }

      stopper = Thread.new { accept_loop.stop(timeout: 5) }
      expect(closed_by_peer?(idle)).to be(true)
      expect(stopper).to be_alive
      release << :go
      expect(busy.gets).to eq("done work\n")
      expect(stopper.value).to eq(0)
      expect(accept_loop.size).to eq(0)
      poll_until(message: "threads left behind") { Thread.list.size <= threads_before }
    end

    it "closes a request still running at the drain deadline and reports it" do
      accept_loop = build
      # The request reads a second line that never comes.
      serving = Queue.new
      accept_loop.start { |slot| slot.busy { serving << :in_request && slot.socket.gets && slot.socket.gets } }
      stuck = connect
      stuck.write("x\n")
      # Registered is not yet busy: a slot still idle when stop begins is closed as idle.
      poll_until(message: "the request never started") { serving.size == 1 }

      expect(accept_loop.stop(timeout: 0.1)).to eq(1)
      expect(closed_by_peer?(stuck)).to be(true)
      expect(accept_loop.size).to eq(0)
    end

    it "does not start a request that arrives on a connection the drain closed" do
      ran = Queue.new
      accept_loop = build
      accept_loop.start do |slot|
        slot.socket.wait_readable
        slot.close_if_idle # what a drain does to a connection between requests
        ran << slot.busy { nil }
      end
      connect.write("late\n")
      expect(pop_within(ran)).to be(false)
    end

    it "is idempotent and fine on a loop never started" do
      accept_loop = build
      expect(accept_loop.stop(timeout: 0)).to eq(0)
      expect(accept_loop.stop(timeout: 0)).to eq(0)
      expect(accept_loop.run { nil }).to be_nil
    end
  end

  describe Igniter::Store::Transport::Backoff do
    it "grows each wait by the factor up to the bound, and starts over after reset" do
      backoff = described_class.new(initial: 0.01, max: 0.05)
      expect(Array.new(5) { backoff.next_delay }).to eq([0.01, 0.02, 0.04, 0.05, 0.05])
      expect(backoff.attempts).to eq(5)
      expect(backoff).to be_backing_off

      backoff.reset
      expect(backoff).not_to be_backing_off
      expect(backoff.next_delay).to eq(0.01)
    end

    it "rejects a non-positive wait, a bound below it and a shrinking factor" do
      expect { described_class.new(initial: 0) }.to raise_error(ArgumentError, /0 < initial <= max/)
      expect { described_class.new(initial: 1, max: 0.5) }.to raise_error(ArgumentError, /initial=1 max=0.5/)
      expect { described_class.new(factor: 0.5) }.to raise_error(ArgumentError, /factor must be >= 1/)
    end
  end
end
