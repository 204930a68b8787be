# frozen_string_literal: true

# recovery: :salvage (the default): damage anywhere in the WAL costs only the
# damaged bytes. They are copied to <wal>.quarantine/ before the WAL is
# rewritten without them; every valid frame before and after survives.
RSpec.describe "Salvaging a WAL damaged anywhere" do
  include_context "a 20-fact WAL"

  # Opens the damaged bytes and checks that exactly frame(s) +lost+ went to
  # quarantine as one span per entry of +spans+ (ranges of the damaged bytes).
  def expect_salvaged(damaged, lost:, spans:)
    File.binwrite(path, damaged)
    backend = Igniter::Store::FileBackend.new(path)
    recovery = backend.recovery
    kept = (0...frames.size).to_a - lost
    expect(backend.replay.map(&:id)).to eq(kept.map { |i| facts[i].id })
    backend.close

    expect(File.binread(path)).to eq(kept.map { |i| pristine.byteslice(frames[i][:offset], frames[i][:size]) }.join)
    expect(recovery[:quarantined].map { |s| [s[:offset], s[:length]] }).to eq(spans.map { |r| [r.begin, r.size] })
    expect(quarantined_bins(path)).to eq(spans.map { |r| [r.begin, damaged.byteslice(r)] })
    expect(recovery).to include(mode: :salvage, damaged_spans: spans.size, read_only: false,
                                original_bytes: damaged.bytesize, truncated_bytes: spans.sum(&:size))
    recovery
  end

  def frame_span(index)
    frames[index][:offset]...(frames[index][:offset] + frames[index][:size])
  end

  it "keeps 19 of 20 facts when any one frame's body has a flipped byte, and quarantines exactly that frame" do
    frames.each_index do |i|
      FileUtils.rm_rf(path + ".quarantine")
      recovery = expect_salvaged(xor_byte(pristine, frames[i][:offset] + 4 + 10), lost: [i], spans: [frame_span(i)])
      expect(recovery[:tail]).to eq(:bad_crc)
      expect(recovery[:salvaged_frames]).to eq(frames.size - 1 - i)
    end
  end

  it "keeps 19 of 20 facts when any one frame's length header is corrupted" do
    frames.each_index do |i|
      FileUtils.rm_rf(path + ".quarantine")
      recovery = expect_salvaged(xor_byte(pristine, frames[i][:offset] + 2, 0x40), lost: [i], spans: [frame_span(i)])
      expect(recovery[:tail]).to eq(i == frames.size - 1 ? :torn : :garbage)
    end
  end

  it "keeps 19 of 20 facts when any one frame's CRC is corrupted" do
    frames.each_index do |i|
      FileUtils.rm_rf(path + ".quarantine")
      crc_at = frames[i][:offset] + frames[i][:size] - 1
      expect(expect_salvaged(xor_byte(pristine, crc_at, 0xFF), lost: [i], spans: [frame_span(i)])[:tail]).to eq(:bad_crc)
    end
  end

  it "keeps the rest when two frames far apart are damaged" do
    damaged = xor_byte(xor_byte(pristine, frames[3][:offset] + 30), frames[15][:offset] + 6)
    expect_salvaged(damaged, lost: [3, 15], spans: [frame_span(3), frame_span(15)])
  end

  it "quarantines two adjacent damaged frames as one span" do
    damaged = xor_byte(xor_byte(pristine, frames[7][:offset] + 30), frames[8][:offset] + 30)
    recovery = expect_salvaged(damaged, lost: [7, 8], spans: [frame_span(7).begin...frame_span(8).end])
    expect(recovery[:quarantined].first[:reason]).to eq(:garbage)
  end

  it "keeps everything after a damaged first frame" do
    recovery = expect_salvaged(xor_byte(pristine, 9), lost: [0], spans: [frame_span(0)])
    expect(recovery[:salvaged_frames]).to eq(19)
  end

  it "quarantines a torn tail after damage in the middle" do
    torn = pristine.byteslice(0, frames.last[:offset] + 11)
    damaged = xor_byte(torn, frames[5][:offset] + 20)
    recovery = expect_salvaged(damaged, lost: [5, 19], spans: [frame_span(5), frames.last[:offset]...torn.bytesize])
    expect(recovery[:quarantined].map { |s| s[:reason] }).to eq(%i[bad_crc torn])
  end

  it "cuts garbage inserted between two frames and nothing else" do
    garbage = "\x00\x00\x00\x07not a frame at all, just junk\xFF".b
    at = frames[10][:offset]
    damaged = pristine.byteslice(0, at) + garbage + pristine.byteslice(at..)
    File.binwrite(path, damaged)
    backend = Igniter::Store::FileBackend.new(path)
    expect(backend.replay.map(&:id)).to eq(facts.map(&:id))
    expect(backend.recovery[:quarantined].map { |s| s.slice(:offset, :length, :reason) })
      .to eq([{ offset: at, length: garbage.bytesize, reason: :garbage }])
    backend.close
    expect(File.binread(path)).to eq(pristine)
    expect(quarantined_bins(path)).to eq([[at, garbage]])
  end

  it "writes receipts in the shared format, durable next to the data" do
    File.binwrite(path, xor_byte(pristine, frames[4][:offset] + 12))
    Igniter::Store::FileBackend.new(path).close
    receipt = quarantine_receipts(path).first
    bin = File.join(path + ".quarantine", receipt["data"])

    expect(receipt.keys).to eq(%w[file offset length reason quarantined_at sha256 data])
    expect(receipt).to include("file" => File.absolute_path(path), "offset" => frames[4][:offset],
                               "length" => frames[4][:size], "reason" => "bad_crc",
                               "sha256" => Digest::SHA256.file(bin).hexdigest)
    expect(receipt["quarantined_at"]).to match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/)
    expect(File.basename(bin)).to eq(format("%020d-%d.bin", frames[4][:offset], frames[4][:size]))
    expect(File.read(Dir[path + ".quarantine/*.json"].first)).to end_with("}\n")
  end

  it "never overwrites a quarantined copy: other bytes under the same stem get a suffix" do
    stem = format("%020d-%d", frames[4][:offset], frames[4][:size])
    Dir.mkdir(path + ".quarantine")
    File.binwrite(File.join(path + ".quarantine", "#{stem}.bin"), "older bytes")
    File.binwrite(path, xor_byte(pristine, frames[4][:offset] + 12))
    backend = Igniter::Store::FileBackend.new(path)

    expect(File.basename(backend.recovery[:quarantined].first[:quarantine_path])).to eq("#{stem}-1.bin")
    expect(File.binread(File.join(path + ".quarantine", "#{stem}.bin"))).to eq("older bytes")
    backend.close
  end

  it "leaves undecodable bodies in place, out of the facts, and copies them to quarantine on replay" do
    at = frames[6][:offset]
    odd = raw_frame('{"no":"store"}')
    File.binwrite(path, pristine.byteslice(0, at) + odd + pristine.byteslice(at..))
    store = Igniter::Store.open(path)
    recovery = store.instance_variable_get(:@backend).recovery

    expect(store.fact_log_all.map(&:id)).to eq(facts.map(&:id))
    expect(recovery[:quarantined].map { |s| s.slice(:offset, :length, :reason) })
      .to eq([{ offset: at, length: odd.bytesize, reason: :undecodable }])
    expect(recovery).to include(truncated_bytes: 0, tail: :undecodable, damaged_spans: 1)
    expect(quarantined_bins(path)).to eq([[at, odd]])
    store.close
    expect(File.binread(path).bytesize).to eq(pristine.bytesize + odd.bytesize)
  end

  it "reports a clean open of a clean WAL with the full shape" do
    backend = Igniter::Store::FileBackend.new(path)
    expect(backend.recovery).to eq(original_bytes: pristine.bytesize, valid_bytes: pristine.bytesize,
                                   truncated_bytes: 0, tail: :clean, mode: :salvage, quarantined: [],
                                   salvaged_frames: 0, damaged_spans: 0, read_only: false)
    expect(backend.recovery).to be_frozen
    expect(File.exist?(path + ".quarantine")).to be(false)
    backend.close
  end
end
