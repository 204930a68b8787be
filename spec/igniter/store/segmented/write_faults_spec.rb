# frozen_string_literal: true

require_relative "segmented_spec_helper"

# Faults while writing segments, on a real small filesystem: a 64 KiB tmpfs
# (mounted by the spec, so it needs root; skipped with a message otherwise).
# A write the disk refuses raises an error naming the segment, leaves no
# partial frame behind and nothing in memory; writing resumes once the fault
# is gone, and a reopen holds exactly the facts that were acknowledged.
RSpec.describe Igniter::Store::SegmentedFileBackend, "write faults" do
  include LedgerSpec::Segmented

  around do |ex|
    Dir.mktmpdir("igniter-ledger-faults") do |base|
      @mount = File.join(base, "disk")
      Dir.mkdir(@mount)
      _out, err, status = Open3.capture3("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", @mount)
      unless status.success?
        skip "write-fault specs need a 64k tmpfs (mount -t tmpfs as root): #{err.strip.empty? ? "mount failed" : err.strip}"
      end
      begin
        ex.run
      ensure
        close_opened_backends
        (@stores || []).each { |s| s.close rescue nil } # rubocop:disable Style/RescueModifier
        # Lazy: a descriptor an example left open must not keep the mount around.
        system("umount", "-l", @mount, exception: false)
      end
    end
  end

  let(:root) { File.join(@mount, "ledger") }
  let(:filler) { File.join(@mount, "filler") }

  # Leaves about +room+ bytes free on the tmpfs.
  def fill_disk(room)
    File.open(filler, "wb") do |io|
      io.write("\0" * 4096) while (stat = disk_free) > room + 4096
      io.write("\0" * (stat - room)) if stat > room
    rescue Errno::ENOSPC
      nil
    end
  end

  def disk_free
    out, = Open3.capture2("df", "-B1", "--output=avail", @mount)
    out.lines.last.to_i
  end

  def free_disk
    File.delete(filler) if File.exist?(filler)
  end

  def open_store(**opts)
    Igniter::Store.segmented(root, time_bucket: :none, **opts).tap { |s| (@stores ||= []) << s }
  end

  def value(i)
    { n: i, pad: "x" * 300 }
  end

  # Writes until the disk refuses one; returns [acknowledged keys, error].
  def write_until_full(store, limit: 2_000)
    acked = []
    limit.times do |i|
      store.write(store: :readings, key: "k#{i}", value: value(i))
      acked << "k#{i}"
    rescue SystemCallError => e
      return [acked, e, "k#{i}"]
    end
    raise "the disk never filled up"
  end

  def segment_ends_on_a_frame?(path)
    parse_frames(path).sum { |f| f[:size] } == File.size(path)
  end

  {
    "json_crc32" => { codec: :json_crc32 },
    "compact_delta_zlib, one batch per fact" => { codec: :compact_delta, flush: :on_write }
  }.each do |name, opts|
    it "#{name}: a disk-full append raises naming the segment, keeps nothing of the fact, and resumes" do
      store = open_store(**opts)
      fill_disk(12_000)
      acked, error, refused = write_until_full(store)
      segment = segment_files(root).first
      expect(error).to be_a(Errno::ENOSPC)
      expect(error.message).to include(segment, "nothing of it was kept")
      expect(acked.size).to be > 3
      expect(store.read(store: :readings, key: refused)).to be_nil
      expect(store.fact_log_all.size).to eq(acked.size)
      expect(segment_ends_on_a_frame?(segment)).to be(true) # the half-written frame was cut back
      expect { store.write(store: :readings, key: "again", value: value(0)) }.to raise_error(Errno::ENOSPC)

      free_disk
      store.write(store: :readings, key: refused, value: value(-1))
      store.close
      keys = replayed(root).map(&:key)
      expect(keys).to eq(acked + [refused])
      expect(Dir.glob(File.join(root, "**", "*.quarantine"))).to eq([])
    end
  end

  it "compact_delta_zlib: a batch the disk refuses keeps its buffered facts for the next write" do
    store = open_store(codec: :compact_delta)
    fill_disk(8_192)
    acked = []
    error = nil
    (0...640).each do |i|
      store.write(store: :readings, key: "k#{i}", value: { n: i, pad: Random.new(i).bytes(40).unpack1("H*") })
      acked << "k#{i}"
    rescue SystemCallError => e
      error = e
      break
    end
    expect(error).to be_a(Errno::ENOSPC)
    expect(acked.size % 64).to eq(63) # refused by the write that completes a batch
    backend = store.instance_variable_get(:@backend)
    expect(backend.durability_snapshot["stores"]["readings"]["buffered_count"]).to eq(63)
    free_disk
    store.write(store: :readings, key: "last", value: { n: -1, pad: "" })
    store.close
    expect(replayed(root).map(&:key)).to match_array(acked + ["last"])
  end

  it "a disk-full seal raises naming the segment, and the next open recovers every fact" do
    store = open_store
    5.times { |i| store.write(store: :readings, key: "k#{i}", value: value(i)) }
    fill_disk(0)
    expect { store.close }.to raise_error(Errno::ENOSPC, /sealing segment .*segment-000001\.wal; its facts are on disk/)
    free_disk
    b = open_backend(root)
    expect(b.replay.map(&:key)).to eq(%w[k0 k1 k2 k3 k4])
    expect(b.recovery[:files].values.map { |r| r[:state] }).to eq([:orphan])
  end

  it "a file-size limit (EFBIG) refuses a write in a child process, which goes on once the limit is raised" do
    script = <<~'RUBY'
      require "igniter-ledger"
      require "json"
      trap("XFSZ", "IGNORE") # EFBIG instead of the signal
      soft, hard = Process.getrlimit(:FSIZE)
      store = Igniter::Store.segmented(ARGV.fetch(0), time_bucket: :none)
      Process.setrlimit(:FSIZE, 20_000, hard)
      acked = []
      error = nil
      200.times do |i|
        store.write(store: :readings, key: "k#{i}", value: { pad: "x" * 300 })
        acked << "k#{i}"
      rescue SystemCallError => e
        error = e
        break
      end
      refused_in_memory = store.read(store: :readings, key: "k#{acked.size}").nil?
      Process.setrlimit(:FSIZE, soft, hard)
      store.write(store: :readings, key: "after", value: { pad: "" })
      store.close
      puts JSON.generate([error.class.name, error.message, acked.size, refused_in_memory])
    RUBY
    out, err, status = run_ruby(script, env: Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV,
                                        args: [root])
    expect(status).to be_success, err
    klass, message, acked, refused_in_memory = JSON.parse(out.lines.last)
    expect(klass).to eq("Errno::EFBIG")
    expect(message).to include("appending a fact to segment", "segment-000001.wal")
    expect(refused_in_memory).to be(true)
    keys = replayed(root).map(&:key)
    expect(keys).to eq(Array.new(acked) { |i| "k#{i}" } + ["after"])
    expect(File.size(segment_files(root).first)).to be <= 20_000
  end
end
