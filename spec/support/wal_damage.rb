# frozen_string_literal: true

module LedgerSpec
  # Helpers for spec/igniter/store/recovery: build a WAL of N facts, damage it,
  # and look at what an open kept and quarantined.
  module WalDamage
    # Writes +count+ facts over three keys through a store; returns the facts.
    def write_facts(path, count = 20)
      store = Igniter::Store.open(path)
      facts = Array.new(count) { |i| store.write(store: :orders, key: "o#{i % 3}", value: { n: i, note: "é#{i}" }) }
      store.close
      facts
    end

    # +bytes+ with byte +offset+ XORed with +mask+.
    def xor_byte(bytes, offset, mask = 0x01)
      damaged = bytes.b
      damaged.setbyte(offset, damaged.getbyte(offset) ^ mask)
      damaged
    end

    # The facts a fresh store over +path+ holds (by id), closing it again.
    def stored_ids(path, **options)
      store = Igniter::Store.open(path, **options)
      store.fact_log_all.map(&:id)
    ensure
      store&.close
    end

    # [[offset, bytes], ...] of every quarantined .bin of +file+, by offset.
    def quarantined_bins(file)
      Dir[File.join("#{file}.quarantine", "*.bin")].sort.map do |bin|
        [File.basename(bin).to_i, File.binread(bin)]
      end
    end

    # The receipts of +file+'s quarantine, parsed.
    def quarantine_receipts(file)
      Dir[File.join("#{file}.quarantine", "*.json")].sort.map { |r| JSON.parse(File.read(r)) }
    end
  end
end

# A fresh directory holding ledger.wal with 20 facts: `path`, `facts`, the
# `pristine` bytes and their `frames`.
RSpec.shared_context "a 20-fact WAL" do
  include LedgerSpec::WalDamage

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:path) { File.join(@dir, "ledger.wal") }
  let!(:facts) { write_facts(path) }
  let(:pristine) { File.binread(path) }
  let(:frames) { parse_frame_bytes(pristine) }
end
