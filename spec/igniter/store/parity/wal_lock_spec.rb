# frozen_string_literal: true

# The native FileBackend holds its WAL lock without the GVL while it waits
# for the disk (ext/igniter_store_native/src/file_backend/wal_lock.rs). Two
# hazards come with that and are pinned here: a second thread that wants the
# lock must wait for it without the GVL (waiting with it would deadlock the
# holder, which needs the GVL back to return), and a process forked while a
# thread held the lock must not wait for a thread it does not have.
#
# A test hook (IGNITER_LEDGER_NATIVE_TEST_HOOKS=1) holds the lock without the
# GVL for a while, as a slow fsync would; it exists only on the native path,
# so the examples run in a native child process from both suite runs.
RSpec.describe "The native WAL lock" do
  it "makes a second writer wait for it without the GVL, then takes the write" do
    result = run_native_child(<<~RUBY, hooks: true)
      clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
      Dir.mktmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        backend = Igniter::Store::FileBackend.new(path)
        fact = Igniter::Store::Fact.build(store: :s, key: "k", value: 1)
        holder = Thread.new { Igniter::Store::NativeTestHooks.hold_wal_lock(backend, 1.0) }
        Thread.pass until Igniter::Store::NativeTestHooks.wal_lock_busy?(backend)
        # A thread that can only note the time when it gets the GVL.
        stamps = []
        stop = false
        ticker = Thread.new { until stop; stamps << clock.call; sleep 0.005; end }
        started = clock.call
        backend.write_fact(fact) # waits until the holder lets go of the lock
        finished = clock.call
        stop = true
        ticker.join
        holder.join
        quarter = (finished - started) / 4
        ticks = stamps.count { |t| t > started + quarter && t < finished - quarter }
        keys = backend.replay.map(&:key)
        backend.close
        puts JSON.generate([finished - started, ticks, stamps.size, keys])
      end
    RUBY
    waited, ticks, all_ticks, keys = result
    # The write waited, the ticker ran in the middle of that wait (a wait
    # with the GVL would have stopped it throughout), and the write landed.
    expect(waited).to be > 0.2
    expect(ticks).to be_positive, "no tick in the middle of a #{waited} s wait (#{all_ticks} ticks in all)"
    expect(keys).to eq(["k"])
  end

  it "refuses, instead of waiting forever, in a process forked while a thread held it" do
    result = run_native_child(<<~RUBY, hooks: true)
      Dir.mktmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        backend = Igniter::Store::FileBackend.new(path)
        backend.write_fact(Igniter::Store::Fact.build(store: :s, key: "before", value: 1))
        holder = Thread.new { Igniter::Store::NativeTestHooks.hold_wal_lock(backend, 2.0) }
        Thread.pass until Igniter::Store::NativeTestHooks.wal_lock_busy?(backend)
        reader, writer = IO.pipe
        pid = fork do
          reader.close
          answer = begin
            backend.closed?
            "answered"
          rescue Igniter::Store::LedgerLockedError => e
            [e.class.name, e.pid, e.message]
          end
          writer.write(JSON.generate(answer))
          writer.close
          exit!(0)
        end
        writer.close
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 30
        status = nil
        until (status = Process.waitpid2(pid, Process::WNOHANG)&.last) || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
          sleep 0.01
        end
        unless status
          Process.kill(:KILL, pid)
          Process.wait(pid)
        end
        answer = status ? JSON.parse(reader.read) : "hung"
        holder.join
        # The parent's handle is untouched by all this.
        backend.write_fact(Igniter::Store::Fact.build(store: :s, key: "after", value: 2))
        keys = backend.replay.map(&:key)
        backend.close
        puts JSON.generate([answer, Process.pid, pid, path, keys])
      end
    RUBY
    answer, parent, child, path, keys = result
    expect(answer).to eq(["Igniter::Store::LedgerLockedError", parent,
                          "#{path} was being written by a thread of pid #{parent} when this process " \
                          "(pid #{child}) forked from it; that handle cannot be used in this process"])
    expect(keys).to eq(%w[before after])
  end
end
