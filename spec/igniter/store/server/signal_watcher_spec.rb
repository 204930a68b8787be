# frozen_string_literal: true

RSpec.describe Igniter::Store::Server::SignalWatcher do
  it "runs the handler on a normal thread, where taking a Mutex is allowed, then restores the trap" do
    lock = Mutex.new
    ran_on = Queue.new
    previous = proc { nil }
    original = Signal.trap("USR2", previous)
    watcher = described_class.new(%w[USR2]) { lock.synchronize { ran_on << Thread.current } }
    Process.kill("USR2", Process.pid)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 3
    sleep 0.01 while ran_on.empty? && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
    watcher.restore

    expect(ran_on.size).to eq(1)
    expect(ran_on.pop).not_to equal(Thread.main)
    expect(Signal.trap("USR2", original || "DEFAULT")).to equal(previous)
  end

  it "ends without calling the handler when restored before any signal" do
    called = false
    watcher = described_class.new(%w[USR2]) { called = true }

    expect(watcher.restore).to be_nil
    expect(called).to be(false)
  end
end
