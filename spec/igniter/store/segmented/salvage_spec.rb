# frozen_string_literal: true

require_relative "segmented_spec_helper"

# "Damage anywhere" for segmented storage (doc/reliability.md "Segments:
# damage anywhere"): a segment of either codec, sealed or left unsealed by a
# crash, damaged in any frame or batch keeps every fact outside the damaged
# bytes; the damaged bytes are copied into the segment's quarantine sidecar
# before anything is cut.
RSpec.describe Igniter::Store::SegmentedFileBackend, "salvage" do
  include LedgerSpec::Segmented
  include LedgerSpec::Reliability

  around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }
  let(:dir) { @dir }

  FACTS = 20
  CODECS = {
    "json_crc32" => { codec: :json_crc32 },
    # 5 batches of 4 facts after the header frame
    "compact_delta_zlib" => { codec: :compact_delta, flush: { every_n: 4 } }
  }.freeze

  # A segment of FACTS facts in +root+, sealed or crashed (raw IO closed,
  # lock dropped). Returns [segment path, facts written].
  def build(root, mode, **opts)
    b = open_backend(root, time_bucket: :none, **opts)
    facts = Array.new(FACTS) { |i| reading("k#{i % 3}", value: { n: i, tag: "t#{i}" }).tap { |f| b.write_fact(f) } }
    mode == :orphan ? crash(b) : b.close
    [segment_files(root).first, facts]
  end

  def signature(facts)
    facts.map { |f| [f.key, f.value] }
  end

  # Facts per frame of a pristine segment: [[offset, size, facts]].
  def frames_with_facts(path, codec)
    frames = parse_frames(path)
    per = codec == "json_crc32" ? frames.map { 1 } : [0] + frames.drop(1).map { |f| f[:body].unpack1("N") }
    frames.zip(per).map { |f, n| [f[:offset], f[:size], n] }
  end

  # The facts outside the frames with these indexes.
  def kept_facts(facts, frames, lost)
    first = 0
    frames.each_with_index.flat_map do |(_, _, n), i|
      slice = facts[first, n]
      first += n
      lost.include?(i) ? [] : slice
    end
  end

  # Every file's bytes and mtime, but the lock file's (a writer records its
  # pid there: it is not ledger data).
  def tree(root)
    Dir.glob("**/*", base: root).sort.reject { |rel| rel == "ledger.lock" }.to_h do |rel|
      path = File.join(root, rel)
      [rel, File.file?(path) ? [File.binread(path), File.mtime(path)] : :dir]
    end
  end

  # Every quarantined span holds exactly the damaged bytes at its offset.
  def expect_quarantined(report, damaged)
    report[:quarantined].each do |span|
      expect(File.binread(span[:quarantine_path])).to eq(damaged.byteslice(span[:offset], span[:length]))
      receipt = JSON.parse(File.read(span[:quarantine_path].sub(/\.bin\z/, ".json")))
      expect(receipt).to include("offset" => span[:offset], "length" => span[:length], "reason" => span[:reason].to_s,
                                 "sha256" => Digest::SHA256.hexdigest(damaged.byteslice(span[:offset], span[:length])))
    end
  end

  CODECS.each do |codec, opts|
    %i[sealed orphan].each do |mode|
      it "#{codec}, #{mode}: damage in any one frame in turn costs only that frame's facts" do
        pristine_root = File.join(dir, "pristine")
        path, facts = build(pristine_root, mode, **opts)
        frames = frames_with_facts(path, codec)
        expect(frames.size).to eq(codec == "json_crc32" ? 20 : 6)
        rel = path.delete_prefix(pristine_root)
        frames.each_with_index do |(offset, size, _), i|
          root = File.join(dir, "case#{i}")
          FileUtils.cp_r(pristine_root, root)
          damaged = flip_bit(File.binread(root + rel), offset + (size / 2), i % 8)
          File.binwrite(root + rel, damaged)
          b = open_backend(root, **opts)
          got = b.replay
          expect(signature(got)).to eq(signature(kept_facts(facts, frames, [i]))), "frame #{i}"
          report = b.recovery[:files].fetch(root + rel)
          expect(report[:quarantined].map { |s| s.values_at(:offset, :length, :reason) }).to eq([[offset, size, :bad_crc]])
          expect(report).to include(damaged_spans: 1, salvaged_frames: frames.size - 1 - i, state: mode, mode: :salvage)
          expect_quarantined(report, damaged)
          last = i == frames.size - 1
          expect(File.binread(root + rel)).to eq(mode == :orphan && last ? damaged.byteslice(0, offset) : damaged)
          expect(got.map(&:id)).to eq(kept_facts(facts, frames, [i]).map(&:id)) if codec == "json_crc32"
          b.write_fact(reading("after"))
          b.close
          expect(replayed(root).size).to eq(got.size + 1)
        end
      end

      it "#{codec}, #{mode}: damage in two places, then a torn tail" do
        path, facts = build(dir, mode, **opts)
        frames = frames_with_facts(path, codec)
        bytes = File.binread(path)
        bytes = flip_bit(bytes, frames[1][0] + 5, 3)
        bytes = flip_bit(bytes, frames[3][0] + 9, 0)
        last = frames.last
        bytes = bytes.byteslice(0, last[0] + (last[1] / 2))
        File.binwrite(path, bytes)
        b = open_backend(dir, **opts)
        expect(signature(b.replay)).to eq(signature(kept_facts(facts, frames, [1, 3, frames.size - 1])))
        report = b.recovery[:files].fetch(path)
        expect(report[:quarantined].map { |s| s[:reason] }).to eq(%i[bad_crc bad_crc torn])
        expect(report[:quarantined].map { |s| s[:offset] }).to eq([frames[1][0], frames[3][0], last[0]])
        expect_quarantined(report, bytes)
        expect(report[:truncated_bytes]).to eq(mode == :orphan ? last[1] / 2 : 0)
      end
    end

    it "#{codec}: damage in the first frame keeps every fact after it" do
      path, facts = build(dir, :sealed, **opts)
      frames = frames_with_facts(path, codec)
      File.binwrite(path, flip_bit(File.binread(path), 1, 7)) # the first frame's length
      b = open_backend(dir)
      expect(signature(b.replay)).to eq(signature(kept_facts(facts, frames, [0])))
      expect(b.recovery[:files].fetch(path)[:quarantined].map { |s| s[:offset] }).to eq([0])
    end

    it "#{codec}: garbage between frames is skipped and quarantined" do
      path, facts = build(dir, :sealed, **opts)
      frames = frames_with_facts(path, codec)
      bytes = File.binread(path)
      at = frames[2][0]
      bytes.insert(at, "\x00\x00\x01junk!".b)
      File.binwrite(path, bytes)
      b = open_backend(dir)
      expect(signature(b.replay)).to eq(signature(facts))
      expect(b.recovery[:files].fetch(path)[:quarantined].map { |s| s.values_at(:offset, :length, :reason) })
        .to eq([[at, 8, :garbage]])
    end

    it "#{codec}: recovery: :truncate keeps each damaged segment's prefix and quarantines the rest" do
      %i[sealed orphan].each do |mode|
        root = File.join(dir, mode.to_s)
        path, facts = build(root, mode, **opts)
        frames = frames_with_facts(path, codec)
        damaged = flip_bit(File.binread(path), frames[2][0] + 7, 1)
        File.binwrite(path, damaged)
        b = open_backend(root, recovery: :truncate)
        expect(signature(b.replay)).to eq(signature(kept_facts(facts, frames, (2...frames.size).to_a)))
        report = b.recovery[:files].fetch(path)
        expect(report[:quarantined].map { |s| s.values_at(:offset, :reason) })
          .to eq([[frames[2][0], :bad_crc], [frames[3][0], :after_damage]])
        expect(report[:quarantined].sum { |s| s[:length] }).to eq(damaged.bytesize - frames[2][0])
        expect(report).to include(mode: :truncate, salvaged_frames: 0, damaged_spans: 1, tail: :bad_crc)
        expect_quarantined(report, damaged)
        expect(File.binread(path)).to eq(mode == :orphan ? damaged.byteslice(0, frames[2][0]) : damaged)
        b.close
      end
    end

    it "#{codec}: recovery: :strict raises naming the file, offset and reason, and changes no byte or mtime" do
      %i[sealed orphan].each do |mode|
        root = File.join(dir, mode.to_s)
        path, = build(root, mode, **opts)
        frames = frames_with_facts(path, codec)
        File.binwrite(path, flip_bit(File.binread(path), frames[1][0] + 6, 2))
        before = tree(root)
        error = nil
        expect { Igniter::Store.segmented(root, recovery: :strict, **opts) }.to raise_error(Igniter::Store::CorruptLedgerError) { |e| error = e }
        expect([error.path, error.offset, error.reason]).to eq([path, frames[1][0], :bad_crc])
        expect(error.message).to eq("#{path}: bad_crc at byte #{frames[1][0]}")
        expect(tree(root)).to eq(before)
        with_backend(root, read_only: true) { |r| expect(r.recovery[:read_only]).to be(true) } # lock released
      end
    end
  end

  it "rejects an unknown recovery mode" do
    expect { open_backend(dir, recovery: :repair) }
      .to raise_error(ArgumentError, "unknown recovery mode: :repair (expected :salvage, :strict or :truncate)")
  end

  it "reports files it does not recognize, never deletes them, and does not count them as segments" do
    path, = build(dir, :sealed)
    bucket = File.dirname(path)
    junk = {
      File.join(dir, "notes.txt") => "mine",
      File.join(dir, "wal", "README") => "x",
      File.join(dir, "wal", "store=readings", "stray.bin") => "y",
      File.join(bucket, "segment-000001.wal.bak") => "z",
      File.join(bucket, "segment-notanumber.wal") => "w",
      File.join(bucket, "segment-000001.wal.quarantine", "mine.txt") => "q"
    }
    junk.each { |p, body| FileUtils.mkdir_p(File.dirname(p)) && File.write(p, body) }
    FileUtils.mkdir_p(File.join(dir, "wal", "store=readings", "archive"))
    b = open_backend(dir)
    expected = (junk.keys + [File.join(dir, "wal", "store=readings", "archive")]).sort
    expect(b.recovery[:unrecognized]).to eq(expected)
    expect(b.storage_stats["recovery"]["unrecognized"]).to eq(expected)
    expect(b.storage_stats(store: :readings)["recovery"]["unrecognized"])
      .to eq(expected.select { |p| p.include?("store=readings") })
    expect(b.segment_count).to eq(1)
    expect(b.replay.size).to eq(FACTS)
    b.write_fact(reading("more"))
    b.checkpoint!
    b.close
    junk.each { |p, body| expect(File.read(p)).to eq(body) }
    expect(open_backend(dir).recovery[:unrecognized]).to eq(expected)
  end

  it "recognizes its own files: lock, manifests, receipts, quarantine sidecars, the descriptor journal" do
    path, = build(dir, :sealed)
    File.binwrite(path, flip_bit(File.binread(path), 40, 1))
    open_backend(dir, retention: { readings: { strategy: :ephemeral } }).tap(&:replay).close
    File.write(File.join(dir, "protocol_descriptors.json"), "{}")
    b = open_backend(dir)
    expect(Dir.exist?("#{path}.quarantine")).to be(true)
    expect(File.exist?("#{path}.quarantine.json")).to be(true)
    expect(b.recovery[:unrecognized]).to eq([])
    expect(b.segment_count).to eq(1)
  end

  it "removes an empty orphan (nothing to lose) and says so" do
    b = open_backend(dir)
    b.write_fact(reading)
    b.checkpoint!
    empty = segment_files(dir).reject { |p| File.exist?("#{p}.manifest.json") }.first
    crash(b)
    b2 = open_backend(dir)
    expect(b2.recovery[:removed_empty]).to eq([empty])
    expect(File.exist?(empty)).to be(false)
    expect(b2.segment_count).to eq(1)
  end

  describe "read-only opens" do
    it "serve every valid fact, write nothing, and report spans with the quarantine copy when one exists" do
      path, facts = build(dir, :orphan)
      frames = frames_with_facts(path, "json_crc32")
      damaged = flip_bit(File.binread(path), frames[4][0] + 30, 0) + "\x00\x00".b
      File.binwrite(path, damaged)
      before = tree(dir)
      r = open_backend(dir, read_only: true)
      expect(signature(r.replay)).to eq(signature(kept_facts(facts, frames, [4])))
      report = r.recovery[:files].fetch(path)
      expect(report).to include(state: :orphan, truncated_bytes: 0, fact_count: FACTS - 1)
      expect(report[:quarantined].map { |s| s.values_at(:offset, :reason, :quarantine_path) })
        .to eq([[frames[4][0], :bad_crc, nil], [damaged.bytesize - 2, :torn, nil]])
      expect { r.write_fact(reading) }.to raise_error(Igniter::Store::ReadOnlyLedgerError, /read-only/)
      expect { r.purge! }.to raise_error(Igniter::Store::ReadOnlyLedgerError)
      r.close
      expect(tree(dir)).to eq(before)

      with_backend(dir, &:replay) # a writer quarantines and seals
      r = open_backend(dir, read_only: true)
      r.replay
      spans = r.recovery[:files].fetch(path)[:quarantined]
      expect(spans.map { |s| s[:quarantine_path] }).to all(end_with(".bin"))
    end

    it "refuse a directory that does not exist" do
      missing = File.join(dir, "nope")
      expect { open_backend(missing, read_only: true) }
        .to raise_error(Igniter::Store::NotALedgerError, /nope is not a segmented igniter-ledger directory/)
      expect(File.exist?(missing)).to be(false)
    end

    it "go through Igniter::Store.segmented(dir, read_only: true)" do
      with_backend(dir) { |b| b.write_fact(reading("k", value: { done: false })) }
      store = Igniter::Store.segmented(dir, read_only: true)
      expect(store.read(store: :readings, key: "k")).to eq(done: false)
      expect { store.write(store: :readings, key: "k", value: { done: true }) }
        .to raise_error(Igniter::Store::ReadOnlyLedgerError)
      expect(store.read(store: :readings, key: "k")).to eq(done: false)
      store.close
    end
  end

  # The damaged directory is salvaged by one path in a child process and
  # reopened by the other (and by this process): same facts, no new
  # quarantine files, the same report.
  it "salvages on one path and reopens identically on the other" do
    require_native_library!
    reader = <<~'RUBY'
      require "igniter-ledger"
      require "json"
      b = Igniter::Store::SegmentedFileBackend.new(ARGV.fetch(0), codec: ARGV.fetch(1).to_sym)
      facts = b.replay.map { |f| [f.key, f.value, ARGV.fetch(1) == "json_crc32" ? f.id : nil] }
      spans = b.recovery[:quarantined].map { |s| [File.basename(s[:file]), s[:offset], s[:length], s[:reason]] }
      b.close
      puts JSON.generate([facts.inspect, spans])
    RUBY
    CODECS.each do |codec, opts|
      %i[pure native].each do |first|
        root = File.join(dir, "#{codec}-#{first}")
        path, = build(root, :orphan, **opts)
        frames = frames_with_facts(path, codec)
        bytes = flip_bit(File.binread(path), frames[2][0] + 4, 5)
        File.binwrite(path, bytes + "\x00\x00\x00\x07{\"x".b)
        runs = [first, first == :pure ? :native : :pure, first].map do |p|
          out, err, status = run_ruby(reader, env: p == :pure ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV,
                                              args: [root, opts[:codec].to_s])
          expect(status).to be_success, err
          [JSON.parse(out.lines.last), tree(root)]
        end
        facts = runs.map { |(result, _)| result[0] }
        expect(facts.uniq.size).to eq(1)
        expect(runs[0][0][1].map(&:last)).to eq(%w[bad_crc torn]) # the torn tail is cut by the first open
        expect(runs[1][0][1]).to eq(runs[0][0][1].first(1))
        expect(runs[2][0][1]).to eq(runs[1][0][1])
        expect(runs[1][1]).to eq(runs[0][1]) # nothing new written: same files, bytes and mtimes
        expect(runs[2][1]).to eq(runs[0][1])
        here = replayed(root, codec: opts[:codec]).map { |f| [f.key, f.value, codec == "json_crc32" ? f.id : nil] }
        expect(here.inspect).to eq(facts.first)
      end
    end
  end
end
