# frozen_string_literal: true

# Faults while writing: the write raises the OS error naming the WAL, memory keeps
# nothing the disk did not take, a half-written frame is cut off again, and
# writing resumes once the fault is gone. Disk-full and read-only file systems
# are real (a small tmpfs, mounted by root); permissions through a child that
# drops to an unprivileged user.
RSpec.describe "Write faults" do
  include LedgerSpec::WalDamage

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  def mount_tmpfs(dir, size)
    skip "not root: cannot mount a tmpfs to fill up" unless Process.uid.zero?
    Dir.mkdir(dir)
    _out, err, status = Open3.capture3("mount", "-t", "tmpfs", "-o", "size=#{size}", "tmpfs", dir)
    skip "mount -t tmpfs failed (#{err.strip})" unless status.success?
    yield dir
  ensure
    # Lazy: a store an example left open must not keep the mount around.
    system("umount", "-l", dir, err: File::NULL) if dir && File.directory?(dir)
  end

  # Remounts the tmpfs at +dir+ read-only for the block, then read-write again.
  def read_only_mount(dir)
    _out, err, status = Open3.capture3("mount", "-o", "remount,ro", dir)
    skip "remount,ro failed (#{err.strip})" unless status.success?
    yield
  ensure
    system("mount", "-o", "remount,rw", dir) if status&.success?
  end

  # Fills the file system of +dir+ with a filler file; returns its path.
  def fill(dir)
    filler = File.join(dir, "filler")
    File.open(filler, "wb") do |io|
      loop { io.syswrite("\0" * 4096) }
    rescue Errno::ENOSPC
      nil
    end
    filler
  end

  it "raises ENOSPC naming the WAL when the disk is full, keeps memory and file as they were, and resumes after" do
    mount_tmpfs(File.join(@dir, "small"), "64k") do |dir|
      path = File.join(dir, "ledger.wal")
      store = Igniter::Store.open(path)
      kept = Array.new(3) { |i| store.write(store: :notes, key: "n#{i}", value: { text: "x" * 100 }) }
      size = File.size(path)
      filler = fill(dir)

      expect { store.write(store: :notes, key: "n0", value: { text: "y" * 20_000 }) }
        .to raise_error(Errno::ENOSPC, "No space left on device - #{path}")
      expect(store.fact_count).to eq(3)
      expect(store.read(store: :notes, key: "n0")).to eq(text: "x" * 100)
      expect(File.size(path)).to eq(size)

      File.delete(filler)
      later = store.write(store: :notes, key: "n0", value: { text: "after" })
      expect(later.causation).to eq(kept[0].id)
      store.close
      reopened = Igniter::Store.open(path)
      expect(reopened.fact_log_all.map(&:id)).to eq(kept.map(&:id) + [later.id])
      expect(reopened.instance_variable_get(:@backend).recovery[:damaged_spans]).to eq(0)
      reopened.close
    end
  end

  it "refuses to open for writing on a read-only file system, naming the WAL, and opens read-only there" do
    mount_tmpfs(File.join(@dir, "ro"), "1m") do |dir|
      path = File.join(dir, "ledger.wal")
      facts = write_facts(path, 4)
      read_only_mount(dir) do
        expect { Igniter::Store.open(path) }.to raise_error(Errno::EROFS, "Read-only file system - #{path}")
        expect(stored_ids(path, read_only: true)).to eq(facts.map(&:id))
      end
    end
  end

  it "opens read-only without a lock file where none can be created" do
    mount_tmpfs(File.join(@dir, "ro"), "1m") do |dir|
      path = File.join(dir, "ledger.wal")
      facts = write_facts(path, 2)
      File.delete(path + ".lock")
      read_only_mount(dir) { expect(stored_ids(path, read_only: true)).to eq(facts.map(&:id)) }
    end
  end

  it "raises EACCES naming the WAL for a user who may not write, who can still open it read-only" do
    skip "not root: cannot drop to another user" unless Process.uid.zero?
    File.chmod(0o755, @dir)
    path = File.join(@dir, "ledger.wal")
    facts = write_facts(path, 2)
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      Process::Sys.setgid(65_534)
      Process::Sys.setuid(65_534)
      lines = []
      begin
        Igniter::Store.open(path)
      rescue SystemCallError => e
        lines << "#{e.class}: #{e.message}"
      end
      lines << Igniter::Store.open(path, read_only: true).fact_log_all.map(&:id).join(",")
      writer.puts(lines)
      writer.close
      exit!(0)
    end
    writer.close
    Process.wait(pid)
    lines = reader.read.lines(chomp: true)
    reader.close

    expect(lines).to eq(["Errno::EACCES: Permission denied - #{path}", facts.map(&:id).join(",")])
    expect(Dir.children(@dir).sort).to eq(["ledger.wal", "ledger.wal.lock"])
  end
end
