# frozen_string_literal: true

# The snapshot is read like the WAL: a damaged frame inside it costs only that
# frame. It is never rewritten (the next checkpoint replaces it whole); a writer
# copies the damage to <wal>.snap.quarantine/ when it reads the snapshot.
RSpec.describe "Reading a damaged snapshot" do
  include LedgerSpec::WalDamage

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:path) { File.join(@dir, "ledger.wal") }
  let(:snap) { path + ".snap" }
  let!(:facts) do
    written = write_facts(path, 10)
    store = Igniter::Store.open(path)
    store.instance_variable_get(:@backend).replace_with_snapshot!(store.fact_log_all)
    store.close
    written
  end
  let(:snap_frames) { parse_frames(snap) }

  it "loses only the damaged fact frame and copies it to quarantine, leaving the snapshot as it is" do
    damaged = xor_byte(File.binread(snap), snap_frames[4][:offset] + 25)
    File.binwrite(snap, damaged)
    store = Igniter::Store.open(path)
    recovery = store.instance_variable_get(:@backend).recovery

    expect(store.fact_log_all.map(&:id)).to eq(facts.map(&:id) - [facts[3].id])
    expect(recovery[:quarantined]).to eq([{ file: File.absolute_path(snap), offset: snap_frames[4][:offset],
                                            length: snap_frames[4][:size], reason: :bad_crc,
                                            quarantine_path: File.absolute_path(format("%s.quarantine/%020d-%d.bin", snap, snap_frames[4][:offset], snap_frames[4][:size])) }])
    expect(recovery).to include(truncated_bytes: 0, damaged_spans: 1)
    expect(quarantined_bins(snap)).to eq([[snap_frames[4][:offset], damaged.byteslice(snap_frames[4][:offset], snap_frames[4][:size])]])
    store.close
    expect(File.binread(snap)).to eq(damaged)
  end

  it "keeps every fact when the header frame is damaged" do
    File.binwrite(snap, xor_byte(File.binread(snap), 12))
    expect(stored_ids(path)).to eq(facts.map(&:id))
    expect(quarantine_receipts(snap).map { |r| [r["offset"], r["reason"]] }).to eq([[0, "bad_crc"]])
  end

  it "only reports snapshot damage on a read-only open" do
    File.binwrite(snap, xor_byte(File.binread(snap), snap_frames[2][:offset] + 25))
    store = Igniter::Store.open(path, read_only: true)
    span = store.instance_variable_get(:@backend).recovery[:quarantined].first
    expect(span).to include(reason: :bad_crc, quarantine_path: nil)
    store.close
    expect(File.exist?(snap + ".quarantine")).to be(false)
  end
end
