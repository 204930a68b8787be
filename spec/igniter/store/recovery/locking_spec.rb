# frozen_string_literal: true

# One writer per ledger: an exclusive flock on <wal>.lock with the writer's pid,
# held until close. Read-only opens share the lock and never write.
RSpec.describe "Ledger lock and read-only opens" do
  include LedgerSpec::WalDamage

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:path) { File.join(@dir, "ledger.wal") }

  # Runs +script+ in a child Ruby on this path (native or pure); returns its stdout.
  def in_child(script)
    env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
    out, err, status = run_ruby("require 'igniter-ledger'\n#{script}", env: env, args: [path])
    raise "child failed: #{err}" unless status.success?

    out
  end

  it "refuses a second writer in the same process, naming the holder's pid, until the first closes" do
    first = Igniter::Store::FileBackend.new(path)
    expect(File.read(path + ".lock")).to eq("#{Process.pid}\n")
    expect { Igniter::Store.open(path) }.to raise_error(Igniter::Store::LedgerLockedError) { |e|
      expect(e.path).to eq(path)
      expect(e.pid).to eq(Process.pid)
      expect(e.message).to eq("#{path} is locked by another writer (pid #{Process.pid})")
    }
    first.close
    expect { Igniter::Store::FileBackend.new(path).close }.not_to raise_error
  end

  it "refuses a writer in another process with the first one's pid" do
    store = Igniter::Store.open(path)
    out = in_child(<<~RUBY)
      begin
        Igniter::Store.open(ARGV[0])
        puts "opened"
      rescue Igniter::Store::LedgerLockedError => e
        puts [e.class, e.pid, e.path].join(" ")
      end
    RUBY
    expect(out).to eq("Igniter::Store::LedgerLockedError #{Process.pid} #{path}\n")
    store.close
    expect(in_child("s = Igniter::Store.open(ARGV[0]); s.write(store: :a, key: 'k', value: 1); s.close; puts :ok")).to eq("ok\n")
    expect(stored_ids(path).size).to eq(1)
  end

  it "lets read-only opens share the ledger, in this process and another, while refusing a writer" do
    write_facts(path, 3)
    readers = [Igniter::Store.open(path, read_only: true), Igniter::Store::FileBackend.new(path, read_only: true)]
    out = in_child("b = Igniter::Store::FileBackend.new(ARGV[0], read_only: true); puts b.replay.size; b.close")
    expect(out).to eq("3\n")
    expect { Igniter::Store::FileBackend.new(path) }
      .to raise_error(Igniter::Store::LedgerLockedError, "#{path} is locked by a read-only open") { |e| expect(e.pid).to be_nil }
    readers.each(&:close)
    Igniter::Store::FileBackend.new(path).close
  end

  it "refuses a read-only open while a writer holds the ledger" do
    writer = Igniter::Store::FileBackend.new(path)
    expect { Igniter::Store.open(path, read_only: true) }
      .to raise_error(Igniter::Store::LedgerLockedError, "#{path} is locked by a writer (pid #{Process.pid})")
    writer.close
  end

  it "refuses writes through a read-only store and keeps memory unchanged" do
    write_facts(path, 3)
    store = Igniter::Store.open(path, read_only: true)
    backend = store.instance_variable_get(:@backend)
    message = "#{path} is open read-only; writes are refused"

    expect { store.write(store: :orders, key: "o1", value: 9) }.to raise_error(Igniter::Store::ReadOnlyLedgerError, message)
    expect(store.fact_count).to eq(3)
    expect(store.read(store: :orders, key: "o1")).to eq(n: 1, note: "é1")
    expect { backend.write_snapshot([]) }.to raise_error(Igniter::Store::ReadOnlyLedgerError) { |e| expect(e.path).to eq(path) }
    expect { backend.replace_with_snapshot!([]) }.to raise_error(Igniter::Store::ReadOnlyLedgerError)
    expect(backend).to be_read_only
    store.close
  end

  it "recovers in memory only: nothing on disk changes, and the report says what would be quarantined" do
    facts = write_facts(path)
    frames = parse_frames(path)
    damaged = xor_byte(File.binread(path), frames[9][:offset] + 15)
    File.binwrite(path, damaged)
    File.binwrite(path + ".snap.tmp", "stale")
    File.binwrite(path + ".recovery.tmp", "stale")
    before = Dir.children(@dir).sort

    store = Igniter::Store.open(path, read_only: true)
    recovery = store.instance_variable_get(:@backend).recovery
    expect(store.fact_log_all.map(&:id)).to eq(facts.map(&:id) - [facts[9].id])
    expect(recovery).to include(read_only: true, truncated_bytes: frames[9][:size], damaged_spans: 1, tail: :bad_crc)
    expect(recovery[:quarantined]).to eq([{ file: File.absolute_path(path), offset: frames[9][:offset],
                                            length: frames[9][:size], reason: :bad_crc, quarantine_path: nil }])
    store.close
    expect(File.binread(path)).to eq(damaged)
    expect(Dir.children(@dir).sort).to eq(before)
  end

  it "applies :truncate in memory on a read-only open" do
    facts = write_facts(path)
    frames = parse_frames(path)
    File.binwrite(path, xor_byte(File.binread(path), frames[5][:offset] + 15))
    expect(stored_ids(path, read_only: true, recovery: :truncate)).to eq(facts.first(5).map(&:id))
    expect(stored_ids(path, read_only: true)).to eq(facts.map(&:id) - [facts[5].id])
  end

  it "raises ENOENT for a read-only open of a missing WAL and creates nothing" do
    expect { Igniter::Store::FileBackend.new(path, read_only: true) }.to raise_error(Errno::ENOENT, /#{Regexp.escape(path)}/)
    expect(Dir.children(@dir)).to be_empty
  end

  it "takes the lock again when a closed backend is reopened by replace_with_snapshot!" do
    backend = Igniter::Store::FileBackend.new(path)
    backend.close
    other = Igniter::Store::FileBackend.new(path)
    expect { backend.replace_with_snapshot!([]) }.to raise_error(Igniter::Store::LedgerLockedError)
    expect { backend.write_snapshot([]) }.to raise_error(Igniter::Store::LedgerLockedError)
    other.close
    backend.replace_with_snapshot!([])
    expect { Igniter::Store::FileBackend.new(path) }.to raise_error(Igniter::Store::LedgerLockedError)
    backend.close
  end

  it "releases the lock when an open fails after taking it" do
    File.binwrite(path, [3, "[1]", Zlib.crc32("[1]")].pack("Na*N"))
    expect { Igniter::Store.open(path, recovery: :strict) }.to raise_error(Igniter::Store::CorruptLedgerError)
    expect { Igniter::Store::FileBackend.new(path).close }.not_to raise_error
  end
end
