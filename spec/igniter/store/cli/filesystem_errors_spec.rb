# frozen_string_literal: true

require_relative "support/ledger_cli"

# What an operator sees when the file system says no: one line naming what
# was being done, the path, the cause and what to do, and exit 74 — from the
# server and the subcommands alike (cli/filesystem_failure.rb words them all).
#
# Permissions: root ignores chmod, so as root the executables run as user
# nobody (setpriv); a read-only and a full file system are real tmpfs mounts
# when the spec may mount (root), and skipped otherwise.
RSpec.describe "file system refusals on the command line", :ledger_cli do
  SERVER_EXE = File.join(LedgerSpec::ROOT, "exe", "igniter-ledger-server")
  NOBODY = 65_534

  def root?
    Process.uid.zero?
  end

  # Runs as a user whom chmod binds (root: nobody via setpriv), never longer than 20 s.
  def unprivileged(*args, exe: LedgerCliSpec::EXE)
    drop = root? ? ["setpriv", "--reuid=#{NOBODY}", "--regid=#{NOBODY}", "--clear-groups", "--"] : []
    ledger_cli(*args, chdir: @dir, exe: exe, prefix: ["timeout", "20", *drop])
  end

  # A tmpfs at +dir+ with +options+ for the block; skipped where mount is not allowed.
  def with_tmpfs(dir, options)
    FileUtils.mkdir_p(dir)
    skip "mounting a tmpfs needs root" unless root?
    skip "mount -t tmpfs is not allowed here" unless system("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir,
                                                            err: File::NULL)
    begin
      yield
    ensure
      system("umount", dir)
    end
  end

  def small_wal(path)
    store = Igniter::Store.open(path)
    3.times { |i| store.write(store: :orders, key: "o#{i}", value: { n: i, pad: "x" * 400 }) }
    store.close
  end

  let(:locked) { File.join(@dir, "locked") }

  before do
    File.chmod(0o755, @dir) # nobody must reach the directories inside
    Dir.mkdir(locked, 0o555)
  end

  it "igniter-ledger-server on a data directory it may not write: one line, exit 74" do
    ran = unprivileged("--port", "0", "--no-http", "--data-dir", locked, exe: SERVER_EXE)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("Error: starting the server: cannot create #{locked}/ledger.wal: permission denied; " \
                          "check the owner and permissions of #{locked}\n")
    expect(ran.out).to include("data in #{locked}, WAL #{locked}/ledger.wal")
    expect(Dir.children(locked)).to be_empty
  end

  it "igniter-ledger serve where the data directory cannot be created: the same line and status" do
    ran = unprivileged("serve", "--port", "0", "--no-http", "--backend", "segmented", "--data-dir", "#{locked}/sub")

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("Error: starting the server: cannot create the directory #{locked}/sub/segments: " \
                          "permission denied; check the owner and permissions of #{locked}\n")
  end

  it "the server on a read-only file system names it (a read-only tmpfs)" do
    ro = File.join(@dir, "ro")
    with_tmpfs(ro, "ro,size=1m") do
      ran = ledger_cli("--port", "0", "--no-http", "--data-dir", ro, chdir: @dir, exe: SERVER_EXE,
                                                                      prefix: %w[timeout 20])

      expect(ran.exit_code).to eq(74)
      expect(ran.err).to eq("Error: starting the server: cannot create #{ro}/ledger.wal: read-only file system; " \
                            "the file system is mounted read-only: choose a path on a writable one\n")
    end
  end

  it "the server on a data directory below a regular file (ENOTDIR as root or not)" do
    File.write(File.join(@dir, "plain"), "")
    ran = ledger_cli("--port", "0", "--no-http", "--path", "plain/ledger.wal", chdir: @dir, exe: SERVER_EXE,
                                                                               prefix: %w[timeout 20])

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("Error: starting the server: cannot create the directory #{File.realpath(@dir)}/plain: " \
                          "not a directory (#{File.realpath(@dir)}/plain is a file, not a directory); " \
                          "choose another path\n")
  end

  it "backup into a directory that does not exist: names the missing parent, creates nothing" do
    small_wal(File.join(@dir, "ledger.wal"))
    before = tree_state(@dir)
    ran = ledger_cli("backup", "ledger.wal", "backups/today/ledger.wal", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger backup: cannot create backups/today/ledger.wal: no such file or directory " \
                          "(backups does not exist); create the directory first\n")
    expect(ran.out).to eq("")
    expect(tree_state(@dir)).to eq(before)
  end

  it "backup into a directory below a regular file: ENOTDIR, named" do
    small_wal(File.join(@dir, "ledger.wal"))
    File.write(File.join(@dir, "plain"), "")
    ran = ledger_cli("backup", "ledger.wal", "plain/ledger.wal", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger backup: cannot create plain/ledger.wal: not a directory " \
                          "(plain is a file, not a directory); choose another path\n")
  end

  it "backup onto a full file system: names the copy and the cause, removes the partial copy (a 64 KiB tmpfs)" do
    small_wal(File.join(@dir, "ledger.wal"))
    full = File.join(@dir, "full")
    with_tmpfs(full, "size=64k") do
      File.open(File.join(full, "fill"), "wb") do |f|
        loop { f.syswrite("\0" * 4096) }
      rescue Errno::ENOSPC
        nil # full
      end
      big = Igniter::Store.open(File.join(@dir, "big.wal"))
      200.times { |i| big.write(store: :orders, key: "k#{i}", value: { pad: "y" * 400 }) }
      big.close
      ran = ledger_cli("backup", "big.wal", "full/big.wal", chdir: @dir)

      expect(ran.exit_code).to eq(74)
      expect(ran.err).to eq("igniter-ledger backup: cannot write to full/big.wal: no space left on device; " \
                            "free space on that file system or choose a path on another\n")
      expect(Dir.children(full)).to eq(["fill"])
    end
  end

  it "backup of a source that does not exist: check the path" do
    ran = ledger_cli("backup", "missing.wal", "copy.wal", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger backup: cannot open missing.wal: no such file or directory; check the path\n")
    expect(File.exist?(File.join(@dir, "copy.wal"))).to be(false)
  end

  it "import (restore) from a file that does not exist: names it, creates no ledger" do
    ran = ledger_cli("import", "restored.wal", "exports/orders.ndjson", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger import: cannot open exports/orders.ndjson: no such file or directory " \
                          "(exports does not exist); check the path\n")
    expect(Dir.children(@dir)).to eq(["locked"])
  end

  it "import into a ledger in a directory it may not write: check permissions" do
    small_wal(File.join(@dir, "ledger.wal"))
    expect(ledger_cli("export", "ledger.wal", "--out", "orders.ndjson", chdir: @dir).exit_code).to eq(0)
    ran = unprivileged("import", "#{locked}/restored.wal", "orders.ndjson")

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger import: cannot create #{locked}/restored.wal: permission denied; " \
                          "check the owner and permissions of #{locked}\n")
  end

  it "import onto a full file system stops naming the ledger, the cause and how far it got" do
    small_wal(File.join(@dir, "ledger.wal"))
    source = Igniter::Store.open(File.join(@dir, "big.wal"))
    300.times { |i| source.write(store: :orders, key: "k#{i}", value: { pad: "y" * 200 }) }
    source.close
    expect(ledger_cli("export", "big.wal", "--out", "big.ndjson", chdir: @dir).exit_code).to eq(0)
    full = File.join(@dir, "full")
    with_tmpfs(full, "size=64k") do
      File.write(File.join(full, "fill"), "\0" * 40_000)
      ran = ledger_cli("import", "full/restored.wal", "big.ndjson", chdir: @dir)

      expect(ran.exit_code).to eq(74)
      line = "igniter-ledger import: cannot write to full/restored.wal: no space left on device; free space on " \
             "that file system or choose a path on another (imported N of 300 new facts before it; importing the " \
             "file again adds only the rest)\n"
      expect(ran.err.sub(/imported \d+ of/, "imported N of")).to eq(line)
      expect(ran.err[/imported (\d+) of/, 1].to_i).to be_between(1, 299)
    end
  end

  it "a config file that does not exist: the server and `config` name it, exit 74" do
    server = ledger_cli("--config", "ledger.yml", chdir: @dir, exe: SERVER_EXE, prefix: %w[timeout 20])
    config = ledger_cli("config", "--config", "ledger.yml", chdir: @dir)
    line = "Error: reading the config file: cannot open #{File.realpath(@dir)}/ledger.yml: no such file or directory; " \
           "check the path\n"

    expect([server.exit_code, server.err]).to eq([74, line])
    expect([config.exit_code, config.err]).to eq([74, line])
  end

  it "export to a directory that does not exist names the output, not its temporary file" do
    small_wal(File.join(@dir, "ledger.wal"))
    ran = ledger_cli("export", "ledger.wal", "--out", "out/orders.ndjson", chdir: @dir)

    expect(ran.exit_code).to eq(74)
    expect(ran.err).to eq("igniter-ledger export: cannot create out/orders.ndjson: no such file or directory " \
                          "(out does not exist); create the directory first\n")
  end

  it "documents exit status 74 in --help of the command, a subcommand and the server" do
    main = ledger_cli("--help", chdir: @dir)
    backup = ledger_cli("backup", "--help", chdir: @dir)
    server = ledger_cli("--help", chdir: @dir, exe: SERVER_EXE)

    expect(main.out).to include("74 the file system refused (missing path, permissions, read-only or full disk)")
    expect(backup.out).to include("Exit status: 0 done, 1 failed or damaged, 2 not a ledger, 64 usage mistake, " \
                                  "74 the file system refused")
    expect(server.out).to include("74 the file system refused (data directory or ledger missing, unwritable, " \
                                  "read-only or full)")
  end
end
