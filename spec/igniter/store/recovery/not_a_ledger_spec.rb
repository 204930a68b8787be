# frozen_string_literal: true

# A non-empty file that does not start like a ledger is refused with
# NotALedgerError and left byte for byte; nothing is created next to it.
RSpec.describe "Opening a file that is not a ledger" do
  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  {
    "a text file" => "remember the milk\nand the eggs\n",
    "random bytes" => Random.new(7).bytes(4096),
    "a PNG header" => "\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6".b,
    "a short text" => "hi"
  }.each do |what, bytes|
    it "refuses #{what} untouched, through every entry point" do
      path = File.join(@dir, "notes.txt")
      File.binwrite(path, bytes)
      File.utime(Time.at(1_600_000_000), Time.at(1_600_000_000), path)

      [-> { Igniter::Store::FileBackend.new(path) }, -> { Igniter::Store::IgniterStore.open(path) },
       -> { Igniter::Store.open(path, read_only: true) }, -> { Igniter::Store.open(path, recovery: :truncate) }].each do |open|
        expect(&open).to raise_error(Igniter::Store::NotALedgerError) { |e|
          expect(e.path).to eq(path)
          expect(e.message).to eq("#{path} is not an igniter-ledger WAL: no valid frame at offset 0 or anywhere after it")
        }
      end
      expect(File.binread(path)).to eq(bytes.b)
      expect(File.mtime(path)).to eq(Time.at(1_600_000_000))
      expect(Dir.children(@dir)).to eq(["notes.txt"])
    end
  end

  it "refuses a directory" do
    dir = File.join(@dir, "ledger.wal")
    Dir.mkdir(dir)
    expect { Igniter::Store.open(dir) }
      .to raise_error(Igniter::Store::NotALedgerError, "#{dir} is not an igniter-ledger WAL: it is a directory")
  end

  it "accepts an empty file and a file holding one torn first frame" do
    path = File.join(@dir, "ledger.wal")
    File.binwrite(path, "")
    expect(Igniter::Store.open(path).tap(&:close).fact_count).to eq(0)

    File.binwrite(path, [300].pack("N") + '{"id":"x","sto')
    backend = Igniter::Store::FileBackend.new(path)
    expect(backend.recovery[:quarantined].map { |s| [s[:offset], s[:reason]] }).to eq([[0, :torn]])
    expect(File.size(path)).to eq(0)
    backend.close
  end

  it "accepts a ledger whose first frame is damaged when a valid frame follows" do
    path = File.join(@dir, "ledger.wal")
    first = raw_frame(fact_body("id" => "a"))
    first.setbyte(10, first.getbyte(10) ^ 1)
    File.binwrite(path, first + raw_frame(fact_body("id" => "b")))
    expect(Igniter::Store::FileBackend.new(path).tap(&:close).recovery[:quarantined].first[:offset]).to eq(0)
    expect(Igniter::Store::FileBackend.new(path).replay.map(&:id)).to eq(["b"])
  end
end
