# frozen_string_literal: true

RSpec.describe "FileBackend recovery of a damaged WAL tail" do
  include LedgerSpec::WalDamage

  let(:igniter_store) { Igniter::Store::IgniterStore }
  let(:backend_class) { Igniter::Store::FileBackend }

  def wal(dir)
    File.join(dir, "ledger.wal")
  end

  # Writes two facts and returns [first_fact, size of frame 1, size of frame 2].
  def write_two_facts(dir)
    store = igniter_store.open(wal(dir))
    first = store.write(store: :tasks, key: "t1", value: { v: 1 })
    store.write(store: :tasks, key: "t2", value: { v: 2, note: "second frame" })
    store.close
    frames = parse_frames(wal(dir))
    expect(frames.size).to eq(2)
    [first, frames[0][:size], frames[1][:size]]
  end

  it "reports nothing cut for a clean WAL" do
    with_tmpdir do |dir|
      write_two_facts(dir)
      size = File.size(wal(dir))
      backend = backend_class.new(wal(dir))

      expect(backend.recovery).to include(:truncated_bytes, :tail)
      expect(backend.recovery[:truncated_bytes]).to eq(0)
      expect(File.size(wal(dir))).to eq(size)
      backend.close
    end
  end

  it "reports nothing cut for a new WAL" do
    with_tmpdir do |dir|
      backend = backend_class.new(wal(dir))

      expect(backend.recovery[:truncated_bytes]).to eq(0)
      backend.close
    end
  end

  [1, 3, 4, 6, 10].each do |cut|
    it "quarantines, then cuts off a tail torn by #{cut} bytes on open and keeps later writes across the next reopen" do
      with_tmpdir do |dir|
        first, frame1, frame2 = write_two_facts(dir)
        torn = File.binread(wal(dir)).byteslice(frame1, frame2 - cut)
        File.truncate(wal(dir), frame1 + frame2 - cut)

        backend = backend_class.new(wal(dir))
        expect(backend.recovery[:truncated_bytes]).to eq(frame2 - cut)
        expect(backend.recovery[:quarantined].map { |s| s.slice(:offset, :length, :reason) })
          .to eq([{ offset: frame1, length: frame2 - cut, reason: :torn }])
        expect(quarantined_bins(wal(dir))).to eq([[frame1, torn]])
        expect(File.size(wal(dir))).to eq(frame1)
        backend.close

        store = igniter_store.open(wal(dir))
        expect(store.fact_count).to eq(1)
        later = store.write(store: :tasks, key: "t3", value: { v: 3 })
        store.close

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(2)
        expect(reopened.instance_variable_get(:@log).all_facts.map(&:id)).to eq([first.id, later.id])
        expect(reopened.read(store: :tasks, key: "t1")).to eq(v: 1)
        expect(reopened.read(store: :tasks, key: "t2")).to be_nil
        expect(reopened.read(store: :tasks, key: "t3")).to eq(v: 3)
      end
    end
  end

  it "cuts off a tail that holds only part of a length header" do
    with_tmpdir do |dir|
      _first, frame1, frame2 = write_two_facts(dir)
      File.truncate(wal(dir), frame1 + 2)

      backend = backend_class.new(wal(dir))
      expect(backend.recovery[:truncated_bytes]).to eq(2)
      expect(File.size(wal(dir))).to eq(frame1)
      expect(frame2).to be > 2
      backend.close
    end
  end

  it "quarantines and cuts off a last frame whose CRC is corrupt and keeps later writes" do
    with_tmpdir do |dir|
      first, frame1, frame2 = write_two_facts(dir)
      bytes = File.binread(wal(dir))
      bytes.setbyte(bytes.bytesize - 1, bytes.getbyte(bytes.bytesize - 1) ^ 0x5A)
      File.binwrite(wal(dir), bytes)

      store = igniter_store.open(wal(dir))
      expect(File.size(wal(dir))).to eq(frame1)
      expect(quarantined_bins(wal(dir))).to eq([[frame1, bytes.byteslice(frame1..)]])
      expect(store.fact_count).to eq(1)
      later = store.write(store: :tasks, key: "t3", value: { v: 3 })
      store.close

      reopened = igniter_store.open(wal(dir))
      expect(reopened.history(store: :tasks, key: "t1").map(&:id)).to eq([first.id])
      expect(reopened.history(store: :tasks, key: "t3").map(&:id)).to eq([later.id])
      expect(reopened.fact_count).to eq(2)
      expect(frame2).to be > 8
    end
  end

  it "reports a corrupt-CRC last frame as truncated bytes" do
    with_tmpdir do |dir|
      _first, frame1, frame2 = write_two_facts(dir)
      bytes = File.binread(wal(dir))
      bytes.setbyte(frame1 + 10, bytes.getbyte(frame1 + 10) ^ 0x01)
      File.binwrite(wal(dir), bytes)

      backend = backend_class.new(wal(dir))
      expect(backend.recovery[:truncated_bytes]).to eq(frame2)
      expect(backend.replay.size).to eq(1)
      backend.close
    end
  end

  it "quarantines and cuts off a length prefix above 64 MiB or beyond the end of the file" do
    with_tmpdir do |dir|
      _first, frame1, frame2 = write_two_facts(dir)
      good = frame1 + frame2
      { [0xFFFF_FFFF].pack("N") + "xyz" => :oversized, [64 * 1024 * 1024 + 1].pack("N") => :oversized,
        [1000].pack("N") + "short" => :torn }.each do |tail, reason|
        File.open(wal(dir), "ab") { |f| f.write(tail.b) }

        backend = backend_class.new(wal(dir))
        expect(backend.recovery[:truncated_bytes]).to eq(tail.bytesize)
        expect(backend.recovery[:quarantined].map { |s| s[:reason] }).to eq([reason])
        expect(File.binread(backend.recovery[:quarantined].first[:quarantine_path])).to eq(tail.b)
        expect(File.size(wal(dir))).to eq(good)
        expect(backend.replay.size).to eq(2)
        backend.close
      end
    end
  end

  it "does not print the recovery on stderr" do
    with_tmpdir do |dir|
      write_two_facts(dir)
      File.truncate(wal(dir), File.size(wal(dir)) - 3)

      expect { backend_class.new(wal(dir)).close }.not_to output.to_stderr_from_any_process
    end
  end
end
