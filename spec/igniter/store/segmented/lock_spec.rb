# frozen_string_literal: true

require_relative "segmented_spec_helper"

# One writer per segmented ledger (doc/format.md "Lock file"): an exclusive
# flock on <root>/ledger.lock with the writer's pid, shared by read-only opens.
RSpec.describe Igniter::Store::SegmentedFileBackend, "ledger lock" do
  include LedgerSpec::Segmented
  include LedgerSpec::Reliability

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }
  let(:lock_path) { File.join(dir, "ledger.lock") }

  # A child process (same path as this one) that opens +dir+ with +options+
  # (a Ruby Hash literal), prints "ready" and holds it until +release+ exists.
  def hold_in_child(options = "{}")
    release = File.join(dir, "release-#{rand(1 << 30)}")
    script = <<~RUBY
      require "igniter-ledger"
      b = Igniter::Store::SegmentedFileBackend.new(ARGV.fetch(0), **#{options})
      puts "ready"
      $stdout.flush
      sleep 0.02 until File.exist?(ARGV.fetch(1))
      b.close
    RUBY
    pid, io = spawn_ruby(script, args: [dir, release])
    lines, = read_lines(io, 1, monotonic + 20)
    expect(lines).to eq(["ready"])
    [pid, io, release]
  end

  def finish_child(pid, io, release)
    File.write(release, "")
    Process.wait(pid)
    io.close
    $?
  end

  it "refuses a second writer in the same process, naming the lock file and this pid" do
    first = open_backend(dir)
    expect(File.read(lock_path)).to eq("#{Process.pid}\n")
    expect { open_backend(dir) }.to raise_error(Igniter::Store::LedgerLockedError) { |e|
      expect([e.path, e.pid]).to eq([lock_path, Process.pid])
      expect(e.message).to eq("#{lock_path} is locked by another writer (pid #{Process.pid})")
    }
    expect { Igniter::Store.segmented(dir) }.to raise_error(Igniter::Store::LedgerLockedError)
    first.write_fact(reading("still-mine"))
    first.close
    expect(File.read(lock_path)).to eq("") # no stale pid once released
    with_backend(dir) { |b| expect(b.replay.map(&:key)).to eq(["still-mine"]) }
  end

  it "refuses a writer while another process writes, and takes over once that process is gone" do
    pid, io, release = hold_in_child
    expect { open_backend(dir) }.to raise_error(Igniter::Store::LedgerLockedError) { |e| expect(e.pid).to eq(pid) }
    expect { open_backend(dir, read_only: true) }.to raise_error(Igniter::Store::LedgerLockedError, /locked by a writer \(pid #{pid}\)/)
    expect(finish_child(pid, io, release)).to be_success
    with_backend(dir) { |b| expect(b.recovery[:files]).to eq({}) }
  end

  it "is released by the kernel when the writing process is killed" do
    pid, io, = hold_in_child
    kill_and_reap(pid)
    io.close
    with_backend(dir) { |b| b.write_fact(reading) }
  end

  it "lets a child process see the lock this process holds" do
    open_backend(dir)
    script = <<~'RUBY'
      require "igniter-ledger"
      begin
        Igniter::Store::SegmentedFileBackend.new(ARGV.fetch(0))
        puts "opened"
      rescue Igniter::Store::LedgerLockedError => e
        puts "#{e.class} #{e.pid}"
      end
    RUBY
    out, err, status = run_ruby(script, env: Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV,
                                        args: [dir])
    expect(status).to be_success, err
    expect(out.strip).to eq("Igniter::Store::LedgerLockedError #{Process.pid}")
  end

  it "shares the lock between read-only opens, here and in another process, and keeps writers out" do
    with_backend(dir) { |b| b.write_fact(reading("k")) }
    readers = [open_backend(dir, read_only: true), open_backend(dir, read_only: true)]
    pid, io, release = hold_in_child("{ read_only: true }")
    expect { open_backend(dir) }.to raise_error(Igniter::Store::LedgerLockedError, "#{lock_path} is locked by a read-only open") { |e|
      expect(e.pid).to be_nil
    }
    expect(readers.map { |r| r.replay.map(&:key) }).to eq([["k"], ["k"]])
    readers.each(&:close)
    expect { open_backend(dir) }.to raise_error(Igniter::Store::LedgerLockedError) # the child still reads
    expect(finish_child(pid, io, release)).to be_success
    with_backend(dir) { |b| b.write_fact(reading("k2")) }
  end

  it "takes the lock again for a write after close, and refuses if another writer took it meanwhile" do
    b = open_backend(dir)
    b.write_fact(reading("a"))
    b.close
    other = open_backend(dir)
    expect { b.write_fact(reading("b")) }.to raise_error(Igniter::Store::LedgerLockedError)
    other.close
    b.write_fact(reading("c"))
    b.close
    expect(replayed(dir).map(&:key)).to eq(%w[a c])
  end

  it "does not let a forked child write through its parent's handle, nor release the parent's lock" do
    skip "fork is not available here" unless Process.respond_to?(:fork)

    b = open_backend(dir)
    b.write_fact(reading("parent"))
    reader, writer = IO.pipe
    child = fork do
      reader.close
      outcome = begin
        b.write_fact(reading("child"))
        "wrote"
      rescue Igniter::Store::LedgerLockedError => e
        "#{e.pid}: #{e.message}"
      end
      b.close rescue nil # rubocop:disable Style/RescueModifier
      writer.puts(outcome)
      writer.close
      exit!(0)
    end
    writer.close
    outcome = reader.read
    Process.wait(child)
    expect(outcome).to start_with("#{Process.pid}: #{lock_path} is held by the parent process (pid #{Process.pid})")
    expect(manifests(dir)).to eq([]) # the child's close sealed nothing of the parent's
    expect { open_backend(dir) }.to raise_error(Igniter::Store::LedgerLockedError) # still held here
    b.write_fact(reading("parent-again"))
    b.close
    expect(replayed(dir).map(&:key)).to eq(%w[parent parent-again])
  end

  it "keeps the lock file out of segment globs and unrecognized reports" do
    with_backend(dir) { |b| b.write_fact(reading) }
    b = open_backend(dir)
    expect(File.exist?(lock_path)).to be(true)
    expect(b.segment_count).to eq(1)
    expect(b.recovery[:unrecognized]).to eq([])
    expect(b.stored_store_names).to eq(["readings"])
  end
end
