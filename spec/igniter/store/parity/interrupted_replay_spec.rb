# frozen_string_literal: true

require "digest"

# Ctrl-C during a long replay stops it: the process gets its Interrupt while
# the replay is still reading and decoding, not after it, and the ledger's
# files are exactly as they were. On the native path the replay runs without
# the GVL with an unblocking function that stops the core's work at its next
# checkpoint (ext/igniter_store_native/src/nogvl.rs); on the pure path Ruby
# checks for interrupts as it goes.
#
# The child replays the ledger once in full (how long that takes on this
# machine, right now, is the yardstick), then again with SIGINT sent by
# another process 0.1 s in; it reports how far the second replay got before
# it stopped, and lets the Interrupt end the process.
RSpec.describe "Ctrl-C during a replay" do
  # Facts: enough for a replay of a second or more on either path.
  let(:facts) { Igniter::Store::NATIVE ? 400_000 : 60_000 }

  def write_ledger(path, count)
    one = File.join(File.dirname(path), "..", "one.wal")
    backend = Igniter::Store::FileBackend.new(one)
    backend.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "k", value: { title: "task", n: 1, tags: %w[a b] }))
    backend.close
    frame = File.binread(one)
    File.open(path, "wb") { |f| (count / 1_000).times { f.write(frame * 1_000) } }
  end

  # Every file of the ledger's directory with its SHA-256; the lock file only
  # by name (each writer records its pid there, see doc/format.md).
  def files_of(dir)
    Dir.children(dir).sort.to_h do |name|
      [name, name.end_with?(".lock") ? :lock : Digest::SHA256.file(File.join(dir, name)).hexdigest]
    end
  end

  it "interrupts the replay promptly and leaves the ledger untouched" do
    with_tmpdir do |root|
      dir = File.join(root, "ledger")
      Dir.mkdir(dir)
      path = File.join(dir, "ledger.wal")
      write_ledger(path, facts)
      Igniter::Store::FileBackend.new(path).close # the lock file exists before the child runs
      before = files_of(dir)
      env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV

      out, err, status = run_ruby(<<~RUBY, env: env, args: [path])
        require "igniter-ledger"
        require "json"
        clock = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
        backend = Igniter::Store::FileBackend.new(ARGV.fetch(0))
        started = clock.call
        replayed = backend.replay.size
        full = clock.call - started
        GC.start
        # Ctrl-C from outside: another process sends SIGINT a moment after the
        # replay began, while this process has no other Ruby thread.
        me = Process.pid
        killer = fork do
          sleep 0.1
          Process.kill(:INT, me)
          exit!(0)
        end
        started = clock.call
        begin
          backend.replay
          puts JSON.generate(["completed"])
        rescue Interrupt => e
          stopped = clock.call - started
          Process.wait(killer)
          inside = e.backtrace.any? { |line| line.include?("`replay'") }
          puts JSON.generate(["interrupted", replayed, full, stopped, inside])
          raise
        end
      RUBY

      outcome, replayed, full, stopped, inside = JSON.parse(out.lines.last)
      expect(outcome).to eq("interrupted"), "child: #{out} #{err}"
      expect(replayed).to eq(facts)
      expect(inside).to be(true), "the Interrupt was raised after the replay returned"
      # SIGINT came 0.1 s into the replay; the replay stopped long before a
      # whole one could have finished (it takes seconds; the stop, after the
      # signal, milliseconds).
      expect(stopped).to be < full / 2, "stopped #{stopped} s into the replay; a full replay took #{full} s"
      expect(status.termsig).to eq(Signal.list.fetch("INT"))
      expect(err).to include("Interrupt")
      expect(files_of(dir)).to eq(before)
      reopened = Igniter::Store::FileBackend.new(path)
      expect(reopened.replay.size).to eq(facts)
      reopened.close
    end
  end
end
