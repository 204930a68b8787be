# frozen_string_literal: true

# Every storage backend of the library against one written-down contract
# (doc/contracts.md, lib/igniter/store/contracts/backend_lint.rb).
RSpec.describe "The storage backend contract" do
  caps = Igniter::Store::Capabilities
  let(:dir) { Dir.mktmpdir("igniter-ledger-contract") }
  after { FileUtils.rm_rf(dir) }

  describe Igniter::Store::MemoryBackend do
    it_behaves_like "an igniter-ledger backend", capabilities: [caps::SNAPSHOTS, caps::REWRITE] do
      let(:backend) { described_class.new }
      # Memory storage lives in the object: a "reopen" is the same handle,
      # which still replays after close.
      let(:reopen) { -> { backend } }
    end
  end

  describe Igniter::Store::FileBackend do
    it_behaves_like "an igniter-ledger backend", capabilities: [caps::SNAPSHOTS, caps::REWRITE, caps::RECOVERY, caps::SYNC_STATS,
                                                                   caps::WRITE_BATCH] do
      let(:path) { File.join(dir, "ledger.wal") }
      let(:backend) { described_class.new(path) }
      let(:reopen) { -> { described_class.new(path) } }
    end
  end

  describe Igniter::Store::SegmentedFileBackend do
    it_behaves_like "an igniter-ledger backend",
                    capabilities: [caps::RECOVERY, caps::STORAGE_STATS, caps::SEGMENT_MANIFEST, caps::PURGE_RECEIPTS,
                                   caps::SYNC_STATS] do
      let(:root) { File.join(dir, "segments") }
      let(:backend) { described_class.new(root) }
      let(:reopen) { -> { described_class.new(root) } }
    end
  end

  describe Igniter::Store::NetworkBackend, :servers do
    # The op protocol carries facts as plain JSON: Symbols inside values come back as Strings.
    it_behaves_like "an igniter-ledger backend", capabilities: [caps::SNAPSHOTS], symbols: false do
      # A real op-protocol server over a WAL on disk; each handle is a new connection.
      let(:server) { start_server(backend: :file, path: File.join(dir, "served.wal")) }
      let(:backend) { Igniter::Store::NetworkBackend.new(address: server.bind_address, timeout: 5) }
      let(:reopen) { -> { Igniter::Store::NetworkBackend.new(address: server.bind_address, timeout: 5) } }
    end
  end

  describe "Igniter::Store::PostgresBackend", :postgres do
    it_behaves_like "an igniter-ledger backend", capabilities: [caps::FACT_LOG, caps::STORAGE_STATS] do
      let(:schema) { fresh_pg_schema }
      let(:backend) { pg_backend(schema: schema) }
      let(:reopen) { -> { pg_backend(schema: schema) } }
    end
  end
end
