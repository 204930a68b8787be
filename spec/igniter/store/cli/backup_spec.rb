# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger backup", :ledger_cli do
  let(:path) { File.join(@dir, "ledger.wal") }

  # 30 facts: 20, a snapshot, 10 more; then a damaged frame that a writer's
  # open quarantined.
  def build_wal
    store = Igniter::Store.open(path)
    20.times { |i| store.write(store: :orders, key: "o#{i % 3}", value: { n: i }) }
    store.checkpoint
    10.times { |i| store.write(store: :orders, key: "o#{i % 3}", value: { n: 20 + i }) }
    store.close
    flip_byte(path, frame_spans(path)[25][0] + 20)
    Igniter::Store.open(path).close
  end

  # A writer in another process that keeps appending until it is killed.
  def spawn_writer(target, segmented: false)
    open = segmented ? "Igniter::Store.segmented(ARGV[0])" : "Igniter::Store.open(ARGV[0])"
    script = <<~RUBY
      require "igniter-ledger"
      store = #{open}
      $stdout.sync = true
      i = 0
      loop do
        store.write(store: :orders, key: "o\#{i % 4}", value: { n: i, pad: "x" * 100 })
        puts "ready" if (i += 1) == 200
      end
    RUBY
    reader, writer = IO.pipe
    pid = without_bundler do
      Process.spawn(path_env.merge("RUBYOPT" => nil, "BUNDLE_GEMFILE" => nil), RbConfig.ruby, "-I", LedgerSpec::LIB_DIR,
                    "-e", script, target, out: writer, chdir: @dir)
    end
    writer.close
    expect(reader.gets).to eq("ready\n")
    [pid, reader]
  end

  def stop(pid)
    Process.kill(:KILL, pid)
    Process.wait(pid)
  end

  it "copies a WAL with its snapshot and quarantine, reads the copy back and leaves the source as it was" do
    build_wal
    before = tree_state(@dir)
    ran = ledger_cli("backup", "ledger.wal", "copy.wal", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    facts = stored_facts(path)
    expect(ran.out).to include("backed up ledger.wal to copy.wal").and include("ledger.wal.snap")
      .and include("ledger.wal.quarantine (sidecar)")
      .and include("verified: the copy serves 29 facts, the last #{facts.last.id}")
    expect(stored_facts(File.join(@dir, "copy.wal"))).to eq(facts)
    expect(Dir.children(File.join(@dir, "copy.wal.quarantine")).sort).to eq(Dir.children("#{path}.quarantine").sort)
    source = before.keys.select { |p| p.start_with?(path) && !p.end_with?(".lock") }
    expect(tree_state(*source)).to eq(before.slice(*source))
  end

  it "refuses a DEST that exists, even empty, and leaves it alone (exit 1)" do
    build_wal
    File.write(File.join(@dir, "copy.wal"), "")
    ran = ledger_cli("backup", "ledger.wal", "copy.wal", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    expect(ran.err).to eq("igniter-ledger backup: copy.wal exists; give a new path\n")
    expect(File.size(File.join(@dir, "copy.wal"))).to eq(0)
  end

  it "copies a WAL a writer holds up to its last complete frame, and says so" do
    store = Igniter::Store.open(path)
    5.times { |i| store.write(store: :orders, key: "o1", value: { n: i }) }
    # A frame in flight: its length and the first bytes of its body.
    File.open(path, "ab") { |io| io.write([300].pack("N") + '{"id":"in-flight"') }
    size = File.size(path)
    ran = ledger_cli("backup", "ledger.wal", "copy.wal", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    doc = ran.json
    expect(doc).to include("live" => true, "writer_pid" => Process.pid)
    expect(doc["files"].first).to include("bytes_copied" => size - 21, "bytes_at_source" => size)
    expect(doc["verified"]).to include("facts" => 5, "last_fact_id" => store.fact_log_all.last.id)
    expect(ledger_cli("verify", "copy.wal", chdir: @dir).exit_code).to eq(0)
  ensure
    store&.close
  end

  it "copies a WAL another process keeps writing to: a clean prefix of what it wrote" do
    pid, = spawn_writer(path)
    ran = ledger_cli("backup", "ledger.wal", "copy.wal", chdir: @dir)
    stop(pid)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("a writer (pid #{pid}) holds the ledger: copied its complete frames")
    copied = stored_facts(File.join(@dir, "copy.wal")).map(&:id)
    expect(copied.size).to be >= 200
    expect(stored_facts(path).map(&:id).first(copied.size)).to eq(copied)
    expect(ledger_cli("verify", "copy.wal", chdir: @dir).exit_code).to eq(0)
  end

  it "copies a segmented ledger a writer holds: sealed segments with manifests, the open one's complete frames" do
    root = File.join(@dir, "seg")
    backend = Igniter::Store::SegmentedFileBackend.new(root)
    store = Igniter::Store::IgniterStore.new(backend: backend)
    3.times { |i| store.write(store: :orders, key: "o1", value: { n: i }) }
    backend.checkpoint!
    2.times { |i| store.write(store: :orders, key: "o1", value: { n: 3 + i }) }
    live = Dir[File.join(root, "wal", "*", "*", "segment-*.wal")].max
    File.open(live, "ab") { |io| io.write([300].pack("N") + "{") }
    ran = ledger_cli("backup", "seg", "copy", "--json", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.json).to include("live" => true, "writer_pid" => Process.pid)
    expect(ran.json["verified"]["facts"]).to eq(5)
    copy = File.join(@dir, "copy")
    expect(Dir[File.join(copy, "**", "*.manifest.json")].size).to eq(1)
    expect(File.exist?(File.join(copy, "ledger.lock"))).to be(false)
    expect(stored_facts(copy).map(&:value)).to eq((0..4).map { |n| { n: n } })
  ensure
    backend&.close
  end

  it "copies a segmented ledger another process keeps writing to" do
    pid, = spawn_writer("seg", segmented: true)
    ran = ledger_cli("backup", "seg", "copy", chdir: @dir)
    stop(pid)

    expect(ran.exit_code).to eq(0), ran.err
    copied = stored_facts(File.join(@dir, "copy")).map(&:id)
    expect(copied.size).to be >= 200
    expect(stored_facts(File.join(@dir, "seg")).map(&:id).first(copied.size)).to eq(copied)
  end

  it "copies 0.5.2's compact segmented ledger and checks the copy by key, value hash and time" do
    root = fixture_copy(@dir, "segmented_compact_delta_zlib")
    ran = ledger_cli("backup", root, "copy", chdir: @dir)

    expect(ran.exit_code).to eq(0), ran.err
    expect(ran.out).to include("verified: the copy serves 12 facts, as copied")
    expect(stored_facts(File.join(@dir, "copy")).map { |f| [f.key, f.value_hash, f.transaction_time] })
      .to eq(stored_facts(root).map { |f| [f.key, f.value_hash, f.transaction_time] })
  end
end
