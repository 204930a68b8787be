# frozen_string_literal: true

# Registered descriptors survive a reopen (spec 04 §15.1), kept in a sidecar
# file, never as facts: fact counts stay exactly as spec 04 §17.3 asserts.
RSpec.describe "Open protocol descriptor persistence" do
  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:relation) do
    { kind: :relation, name: :project_tasks, from: { store: :projects, key: :id }, to: { store: :tasks, field: :project_id } }
  end
  let(:journal_class) { Igniter::Store::Protocol::DescriptorJournal }

  def register_everything(proto)
    proto.register(kind: "store", name: "tasks", key: "id", fields: { b: 1, a: 2.0 }, capabilities: ["as_of_read"])
    proto.register(kind: :history, name: :events, key: :id, partition_key: :task_id)
    proto.register(kind: :access_path, name: :open, store: :tasks, fields: [:status], cache_ttl: 5)
    proto.register(relation)
    proto.register(kind: :projection, name: :board, reads: [:tasks], relations: [:project_tasks], mode: "materialized")
    proto.register(kind: :command, name: :create, owner: :tasks, operation: :record_append, changes: { "title" => 1 })
    proto.register(kind: :effect, name: :e, owner: :tasks, store_op: :store_write, write_kind: :insert, source_operation: nil)
    proto.register(kind: :subscription, name: :watch, source: :tasks, where: { status: :open })
  end

  {
    "a file store" => ->(dir) { Igniter::Store.open(File.join(dir, "ledger.wal")) },
    "a segmented store" => ->(dir) { Igniter::Store.segmented(File.join(dir, "seg")) }
  }.each do |label, opener|
    context "with #{label}" do
      define_method(:reopen) do |&block|
        store = opener.call(@dir)
        block.call(store)
      ensure
        store&.close
      end

      it "keeps every registered descriptor in force after a reopen, equal to what was registered" do
        before = nil
        reopen do |store|
          register_everything(store.protocol)
          before = store.protocol.metadata_snapshot.except(:storage)
        end
        reopen { |store| expect(Igniter::Store::Protocol.new(store).metadata_snapshot.except(:storage)).to eq(before) }
      end

      it "keeps a relation indexing and resolving, old index facts included" do
        reopen do |store|
          store.register_descriptor(relation)
          store.protocol.write(store: :tasks, key: "t1", value: { title: "A", project_id: "p1" })
        end
        reopen do |store|
          store.protocol.write(store: :tasks, key: "t2", value: { title: "B", project_id: "p1" })
          expect(store.protocol.resolve(:project_tasks, from: "p1").map { |t| t[:title] }).to eq(%w[A B])
        end
      end

      it "adds no facts when registering or restoring descriptors" do
        reopen do |store|
          store.protocol.write(store: :tasks, key: "t1", value: { n: 1 })
          register_everything(store.protocol)
          expect([store.fact_count, store.protocol.replay.size, store.protocol.sync_hub_profile.fact_count]).to eq([1, 1, 1])
        end
        reopen do |store|
          expect([store.fact_count, store.fact_log_all.size, store.protocol.sync_hub_profile.fact_count]).to eq([1, 1, 1])
        end
      end

      it "accepts a re-registration after reopen without doubling index writes or access paths" do
        reopen { |store| register_everything(store.protocol) }
        reopen do |store|
          register_everything(store.protocol)
          store.protocol.write(store: :tasks, key: "t1", value: { project_id: "p1" })
          snap = store.protocol.metadata_snapshot
          expect([store.fact_count, snap[:scatters].size, snap[:access_paths][:tasks].size]).to eq([2, 1, 1])
        end
      end
    end
  end

  describe "the sidecar" do
    let(:path) { File.join(@dir, "ledger.wal") }

    def with_store
      store = Igniter::Store.open(path)
      yield store
    ensure
      store&.close
    end

    it "sits next to the WAL, written atomically" do
      with_store { |store| store.register_descriptor(relation) }
      expect(Dir.children(@dir).sort).to eq(["ledger.wal", "ledger.wal.descriptors.json", "ledger.wal.lock"])
      expect(JSON.parse(File.read("#{path}.descriptors.json"))).to include("kind" => "igniter_ledger_protocol_descriptors")
    end

    it "lives inside a segmented root, outside its wal directory" do
      root = File.join(@dir, "seg")
      store = Igniter::Store.segmented(root)
      store.register_descriptor(relation)
      store.close
      expect(Dir.children(root).sort).to eq(%w[ledger.lock protocol_descriptors.json wal])
    end

    it "keeps only the last registration of a slot, and distinct access paths" do
      with_store do |store|
        store.register_descriptor({ kind: :store, name: :tasks, key: "id" })
        store.register_descriptor({ kind: :store, name: "tasks", key: "uuid" })
        store.register_descriptor({ kind: :access_path, name: :a, store: :tasks, fields: [:x] })
        store.register_descriptor({ kind: :access_path, name: :a, store: :tasks, fields: [:x], cache_ttl: 3 })
      end
      with_store do |store|
        journal = journal_class.for(store)
        expect(journal.descriptors.map { |d| [d[:kind], d[:name]] }).to eq([[:store, "tasks"], %i[access_path a], %i[access_path a]])
        expect(store.protocol.descriptor_snapshot[:stores][:tasks][:key]).to eq("uuid")
      end
    end

    it "restores values with their exact types" do
      descriptor = { kind: "store", name: "t", key: "id", n: 1, f: 1.0, inf: -Float::INFINITY, big: 2**70, sym: :s, str: "s",
                     flags: [true, false, nil],
                     nested: { "k" => :v, k: "v" } }
      with_store { |store| store.register_descriptor(descriptor) }
      with_store { |store| expect(journal_class.for(store).descriptors).to eq([descriptor]) }
    end

    it "journals neither derivations nor rejected descriptors" do
      with_store do |store|
        store.register_descriptor({ kind: :derivation, name: :d, inputs: [:a], output: :b })
        store.register_descriptor({ kind: :store, name: :x })
      end
      expect(File.exist?("#{path}.descriptors.json")).to be(false)
    end

    it "persists descriptors registered over the wire" do
      with_store do |store|
        store.protocol.dispatch({ protocol: "igniter_store", op: "register_descriptor",
                                  packet: { kind: "subscription", name: "watch", source: "tasks" } })
      end
      with_store { |store| expect(store.protocol.descriptor_snapshot[:subscriptions][:watch][:source]).to eq("tasks") }
    end

    it "applies but does not persist a descriptor holding a value JSON cannot carry, and says so" do
      receipt = nil
      with_store { |store| receipt = store.register_descriptor({ kind: :store, name: :t, key: "id", at: Object.new }) }
      expect(receipt).to be_accepted
      expect(receipt.warnings).to eq(["descriptor applied but not persisted: it holds a value JSON cannot carry"])
      with_store { |store| expect(store.protocol.descriptor_snapshot[:stores]).to eq({}) }
    end

    it "still applies a descriptor whose sidecar cannot be written, warning in the receipt" do
      with_store do |store|
        FileUtils.mkdir_p(File.join("#{path}.descriptors.json", "blocker"))
        receipt = store.register_descriptor(relation)
        expect(receipt).to be_accepted
        expect(receipt.warnings.first).to start_with("descriptor applied but not persisted: ")
        store.protocol.write(store: :tasks, key: "t1", value: { project_id: "p1" })
        expect(store.protocol.resolve(:project_tasks, from: "p1").size).to eq(1)
      end
    end

    it "refuses to open a store whose sidecar is damaged, naming the file" do
      with_store { |store| store.register_descriptor(relation) }
      File.write("#{path}.descriptors.json", "{not json")
      expect { Igniter::Store.open(path) }
        .to raise_error(Igniter::Store::Error, /protocol descriptor journal .*ledger\.wal\.descriptors\.json is unreadable/)
      File.write("#{path}.descriptors.json", JSON.generate({ "kind" => "other" }))
      expect { Igniter::Store.open(path) }.to raise_error(Igniter::Store::Error, /is not a igniter_ledger_protocol_descriptors document/)
    end

    it "is not used by memory stores or backends without a file location" do
      expect(journal_class.for(Igniter::Store::IgniterStore.new)).to be_nil
      backend = Class.new { include Igniter::Store::Backend; def write_fact(_fact); end }.new # rubocop:disable Style/Semicolon
      store = Igniter::Store::IgniterStore.new(backend: backend)
      expect(store.register_descriptor({ kind: :store, name: :t, key: "id" }).warnings).to eq([])
      expect(journal_class.for(store)).to be_nil
    end
  end
end
