# frozen_string_literal: true

require "pathname"

RSpec.describe Igniter::Store::FileBackend do
  let(:igniter_store) { Igniter::Store::IgniterStore }
  let(:fact_keys) do
    %w[id store key value value_hash causation transaction_time valid_time schema_version producer derivation]
  end

  def wal(dir)
    File.join(dir, "ledger.wal")
  end

  describe "persistence through IgniterStore (0.5.2 file_backend_spec)" do
    it "restores the latest value and the fact count after close and reopen" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "t1", value: { title: "Write specs", done: false })
        store.write(store: :tasks, key: "t1", value: { title: "Write specs", done: true })
        store.close

        reopened = igniter_store.open(wal(dir))
        expect(reopened.read(store: :tasks, key: "t1")).to include(done: true)
        expect(reopened.fact_count).to eq(2)
        reopened.close
      end
    end

    it "keeps the causation chain across WAL replay" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        f1 = store.write(store: :tasks, key: "t1", value: { step: 1 })
        store.write(store: :tasks, key: "t1", value: { step: 2 })
        store.close

        chain = igniter_store.open(wal(dir)).causation_chain(store: :tasks, key: "t1")
        expect(chain.size).to eq(2)
        expect(chain[0][:id]).to eq(f1.id)
        expect(chain[1][:causation]).to eq(f1.id)
        expect(chain[0][:value_hash]).to eq(f1.value_hash[0, 12])
        expect(chain[0][:transaction_time]).to eq(f1.transaction_time)
      end
    end

    it "opens a WAL whose last 6 bytes were cut off and loads the good prefix" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "t1", value: { v: 1 })
        store.write(store: :tasks, key: "t1", value: { v: 2 })
        store.close
        File.truncate(wal(dir), File.size(wal(dir)) - 6)

        reopened = nil
        expect { reopened = igniter_store.open(wal(dir)) }.not_to raise_error
        expect(reopened.fact_count).to be >= 1
        expect(reopened.fact_count).to eq(1)
        expect { reopened.read(store: :tasks, key: "t1") }.not_to raise_error
        expect(reopened.read(store: :tasks, key: "t1")).to eq(v: 1)
      end
    end

    it "excludes a last frame whose CRC byte was flipped" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "t1", value: { v: 1 })
        store.write(store: :tasks, key: "t2", value: { v: 2 })
        store.close
        bytes = File.binread(wal(dir))
        bytes.setbyte(bytes.bytesize - 1, bytes.getbyte(bytes.bytesize - 1) ^ 0xFF)
        File.binwrite(wal(dir), bytes)

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(1)
        expect(reopened.read(store: :tasks, key: "t2")).to be_nil
      end
    end

    it "opens a zero-byte WAL as an empty store" do
      with_tmpdir do |dir|
        FileUtils.touch(wal(dir))

        expect(igniter_store.open(wal(dir)).fact_count).to eq(0)
      end
    end

    it "restores snapshot facts plus the WAL delta written after the checkpoint" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "a", value: { v: 1 })
        store.write(store: :tasks, key: "b", value: { v: 2 })
        store.checkpoint
        store.write(store: :tasks, key: "c", value: { v: 3 })
        store.close

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(3)
        expect(reopened.read(store: :tasks, key: "a")).to include(v: 1)
        expect(reopened.read(store: :tasks, key: "b")).to include(v: 2)
        expect(reopened.read(store: :tasks, key: "c")).to include(v: 3)
      end
    end

    it "creates path + SNAPSHOT_SUFFIX on checkpoint" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "a", value: { v: 1 })
        expect(store.checkpoint).to equal(store)
        store.close

        expect(described_class::SNAPSHOT_SUFFIX).to eq(".snap")
        expect(File.exist?(wal(dir) + described_class::SNAPSHOT_SUFFIX)).to be(true)
      end
    end

    it "dedups the WAL copy of a checkpointed fact by id" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "a", value: { v: 1 })
        store.checkpoint
        store.close

        expect(igniter_store.open(wal(dir)).fact_count).to eq(1)
      end
    end

    it "never reads a leftover .snap.tmp" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "a", value: { v: 1 })
        store.checkpoint
        store.close
        File.write(wal(dir) + ".snap.tmp", "CORRUPT")

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(1)
        expect(reopened.read(store: :tasks, key: "a")).to include(v: 1)
      end
    end

    it "falls back to the WAL when the snapshot holds garbage" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :tasks, key: "a", value: { v: 1 })
        store.checkpoint
        store.close
        File.write(wal(dir) + described_class::SNAPSHOT_SUFFIX, "GARBAGE")

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(1)
        expect(reopened.read(store: :tasks, key: "a")).to include(v: 1)
      end
    end

    it "keeps causation across the checkpoint boundary, snapshot fact first" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        f1 = store.write(store: :tasks, key: "t", value: { step: 1 })
        store.checkpoint
        f2 = store.write(store: :tasks, key: "t", value: { step: 2 })
        store.close

        chain = igniter_store.open(wal(dir)).causation_chain(store: :tasks, key: "t")
        expect(chain.size).to eq(2)
        expect(chain[0][:id]).to eq(f1.id)
        expect(chain[1][:id]).to eq(f2.id)
        expect(chain[1][:causation]).to eq(f1.id)
      end
    end
  end

  describe "identity and types across a reopen" do
    it "keeps id, times, causation, schema_version, producer and derivation; store is a Symbol, key a String" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        first = store.write(store: "docs", key: :d1, value: { "title" => "a" }, valid_time: 12.5)
        second = store.write(store: :docs, key: "d1", value: { title: "b" }, schema_version: 2,
                             producer: { system: "app", "meta" => { "v" => 1 } },
                             derivation: { name: "manual", source_fact_ids: [first.id] })
        store.close

        facts = described_class.new(wal(dir)).replay
        expect(facts.map(&:id)).to eq([first.id, second.id])
        expect(facts.map(&:transaction_time)).to eq([first.transaction_time, second.transaction_time])
        expect(facts.map(&:causation)).to eq([nil, first.id])
        expect(facts.map(&:store)).to eq(%i[docs docs])
        expect(facts.map(&:key)).to eq(%w[d1 d1])
        expect(facts[0].valid_time).to eq(12.5)
        expect(facts[1].valid_time).to be_nil
        expect(facts[1].schema_version).to eq(2)
        expect(facts[1].producer).to eq(system: "app", meta: { v: 1 })
        expect(facts[1].derivation).to eq(name: "manual", source_fact_ids: [first.id])
        expect(facts.map(&:value_hash)).to eq([first.value_hash, second.value_hash])
      end
    end

    it "restores value keys as Symbols at every depth, exact numbers and deep-frozen values" do
      with_tmpdir do |dir|
        value = { "list" => [{ "a" => 1 }, [{ "b" => 2.5 }]], big: 2**70, f: 1.0e20, s: 1.0e-05, z: -0.0, one: 1.0, u: "日本語 ✓" }
        backend = described_class.new(wal(dir))
        backend.write_fact(build_fact(value: value))
        backend.close

        restored = described_class.new(wal(dir)).replay.first
        expect(restored.value).to eq(list: [{ a: 1 }, [{ b: 2.5 }]], big: 2**70, f: 1.0e20, s: 1.0e-05, z: -0.0, one: 1.0, u: "日本語 ✓")
        expect(restored.value[:big]).to eql(2**70)
        expect(restored.value[:one]).to eql(1.0)
        expect(restored.value[:z].to_s).to eq("-0.0")
        expect(restored.value[:u].encoding).to eq(Encoding::UTF_8)
        expect(deeply_frozen?(restored.value)).to be(true)
        expect(restored).to be_frozen
      end
    end
  end

  describe "WAL frames" do
    it "writes a fact without Symbol values as exactly JSON.generate(fact.to_h)" do
      with_tmpdir do |dir|
        fact = build_fact(value: { "title" => "x", n: 1, f: 2.5, nested: { list: [1, "two", nil, true] } },
                          causation: "c-1", valid_time: 3.0, producer: { "system" => "app" })
        backend = described_class.new(wal(dir))
        backend.write_fact(fact)
        backend.close

        expect(File.binread(wal(dir))).to eq(raw_frame(JSON.generate(fact.to_h)))
        expect(JSON.parse(frame_bodies(wal(dir)).first).keys).to eq(fact_keys)
      end
    end

    it "lists where Symbol values stood in a trailing \"symbols\" member and restores them on replay" do
      with_tmpdir do |dir|
        fact = build_fact(value: { status: :open, n: 1, list: [:a, "b", { deep: :c }] },
                          producer: { system: :spec }, derivation: { name: "d" })
        backend = described_class.new(wal(dir))
        backend.write_fact(fact)
        backend.close

        paths = [["value", "status"], ["value", "list", 0], ["value", "list", 2, "deep"], ["producer", "system"]]
        # With `symbols`, the null causation and valid_time are left out (doc/format.md "Symbol extension").
        members = fact.to_h.except(:causation, :valid_time)
        expect(File.binread(wal(dir))).to eq(raw_frame(JSON.generate(members.merge(symbols: paths))))
        expect(JSON.parse(frame_bodies(wal(dir)).first).keys).to eq(fact_keys - %w[causation valid_time] + ["symbols"])

        restored = described_class.new(wal(dir)).replay.first
        expect(restored.value).to eq(status: :open, n: 1, list: [:a, "b", { deep: :c }])
        expect(restored.producer).to eq(system: :spec)
        expect(restored.derivation).to eq(name: "d")
      end
    end

    it "round-trips a Symbol that is the whole value" do
      with_tmpdir do |dir|
        fact = build_fact(value: :ready)
        backend = described_class.new(wal(dir))
        backend.write_fact(fact)
        backend.close

        expect(JSON.parse(frame_bodies(wal(dir)).first)["symbols"]).to eq([["value"]])
        expect(described_class.new(wal(dir)).replay.first.value).to eq(:ready)
      end
    end

    it "keeps a String that starts with a colon a String" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :items, key: "k", value: { s: ":not_a_symbol", t: :sym })
        store.close

        value = igniter_store.open(wal(dir)).read(store: :items, key: "k")
        expect(value).to eq(s: ":not_a_symbol", t: :sym)
        expect(value[:s]).to be_a(String)
      end
    end

    it "keeps a Symbol value as a Symbol after reopen through IgniterStore" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        store.write(store: :items, key: "k", value: { status: :open })
        store.close

        expect(igniter_store.open(wal(dir)).read(store: :items, key: "k")).to eq(status: :open)
      end
    end

    it "writes non-JSON objects as their to_s String" do
      with_tmpdir do |dir|
        at = Time.at(0).utc
        fact = build_fact(value: { at: at })
        backend = described_class.new(wal(dir))
        backend.write_fact(fact)
        backend.close

        expect(fact.value[:at]).to eq(at)
        expect(described_class.new(wal(dir)).replay.first.value).to eq(at: "1970-01-01 00:00:00 UTC")
      end
    end

    it "appends one frame per fact in write order" do
      with_tmpdir do |dir|
        facts = Array.new(3) { |i| build_fact(key: "k#{i}", value: { i: i }) }
        backend = described_class.new(wal(dir))
        facts.each { |f| backend.write_fact(f) }
        backend.close

        expect(frame_bodies(wal(dir)).map { |b| JSON.parse(b)["id"] }).to eq(facts.map(&:id))
      end
    end
  end

  describe "decoding frames" do
    def replay_bodies(dir, bodies)
      write_wal(wal(dir), bodies)
      described_class.new(wal(dir)).replay
    end

    it "skips a CRC-valid frame that is not JSON and keeps reading" do
      with_tmpdir do |dir|
        facts = replay_bodies(dir, [fact_body("key" => "a"), "{not json", fact_body("key" => "b", "transaction_time" => 2e9)])

        expect(facts.map(&:key)).to eq(%w[a b])
      end
    end

    it "skips bodies that break the decode rules and keeps the rest" do
      with_tmpdir do |dir|
        bad = [
          "[1,2,3]",
          "\"just a string\"",
          JSON.generate("id" => "x", "key" => "k", "value" => {}),
          fact_body("store" => 5),
          fact_body("key" => [1]),
          fact_body("key" => nil),
          fact_body("transaction_time" => "yesterday"),
          fact_body("valid_time" => "later"),
          fact_body("schema_version" => "2"),
          fact_body("schema_version" => 1.5)
        ]
        good = fact_body("key" => "survivor", "transaction_time" => 2e9)
        facts = replay_bodies(dir, bad + [good])

        expect(facts.map(&:key)).to eq(["survivor"])
      end
    end

    it "turns a legacy Integer key into its decimal String" do
      with_tmpdir do |dir|
        expect(replay_bodies(dir, [fact_body("key" => 42)]).first.key).to eq("42")
      end
    end

    it "accepts the legacy timestamp and term members" do
      with_tmpdir do |dir|
        body = JSON.generate("id" => "legacy-1", "store" => "items", "key" => "k", "value" => { "a" => 1 },
                             "value_hash" => "h", "causation" => nil, "timestamp" => 1_714_200_000.25, "term" => 1_714_200_123.5)
        fact = replay_bodies(dir, [body]).first

        expect(fact.transaction_time).to eq(1_714_200_000.25)
        expect(fact.valid_time).to eq(1_714_200_123.5)
        expect(fact.schema_version).to eq(1)
      end
    end

    it "fills defaults: a fresh UUID for a missing id, 0.0 for a missing time, 1 for schema_version" do
      with_tmpdir do |dir|
        fact = replay_bodies(dir, [JSON.generate("store" => "items", "key" => "k", "value" => { "a" => 1 })]).first

        expect(fact.id).to match(/\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/)
        expect(fact.transaction_time).to eql(0.0)
        expect(fact.valid_time).to be_nil
        expect(fact.schema_version).to eq(1)
        expect(fact.value).to eq(a: 1)
      end
    end

    it "ignores unknown top-level members and malformed symbols entries" do
      with_tmpdir do |dir|
        bodies = [
          fact_body("key" => "a", "extra" => { "x" => 1 }, "transaction_time" => 1.0),
          fact_body("key" => "b", "symbols" => "nope", "transaction_time" => 2.0),
          fact_body("key" => "b2", "symbols" => [7, nil, "value"], "transaction_time" => 2.5),
          fact_body("key" => "c", "value" => { "n" => 1, "s" => "str" },
                              "symbols" => [["value", "n"], ["value", "missing"], ["bogus"], ["value", "s"]],
                              "transaction_time" => 3.0)
        ]
        facts = replay_bodies(dir, bodies)

        expect(facts.map(&:key)).to eq(%w[a b b2 c])
        expect(facts[0].value).to eq(n: 1)
        expect(facts[1].value).to eq(n: 1)
        expect(facts[2].value).to eq(n: 1)
        expect(facts[3].value).to eq(n: 1, s: :str)
      end
    end

    it "sorts replayed facts stably by transaction_time, ties in WAL order" do
      with_tmpdir do |dir|
        bodies = [
          fact_body("id" => "c", "transaction_time" => 3.0),
          fact_body("id" => "a1", "transaction_time" => 1.0),
          fact_body("id" => "b", "transaction_time" => 2.0),
          fact_body("id" => "a2", "transaction_time" => 1.0),
          fact_body("id" => "a3", "transaction_time" => 1.0)
        ]

        expect(replay_bodies(dir, bodies).map(&:id)).to eq(%w[a1 a2 a3 b c])
      end
    end
  end

  describe "snapshot" do
    def snapshot_header(count)
      JSON.generate("type" => "snapshot_header", "fact_count" => count, "written_at" => 1.0)
    end

    it "starts with a snapshot_header frame followed by one WAL-shaped frame per fact" do
      with_tmpdir do |dir|
        facts = [build_fact(key: "a"), build_fact(key: "b", value: { s: :sym })]
        backend = described_class.new(wal(dir))
        before = realtime
        backend.write_snapshot(facts)
        backend.close

        bodies = frame_bodies(backend.snapshot_path)
        header = JSON.parse(bodies.first)
        expect(backend.snapshot_path).to eq(wal(dir) + ".snap")
        expect(header.keys).to eq(%w[type fact_count written_at])
        expect(header).to include("type" => "snapshot_header", "fact_count" => 2)
        expect(header["written_at"]).to be_a(Float).and be >= before
        expect(bodies.drop(1).map { |b| JSON.parse(b)["id"] }).to eq(facts.map(&:id))
        expect(File.size(wal(dir))).to eq(0)
        expect(File.exist?(wal(dir) + ".snap.tmp")).to be(false)
      end
    end

    it "orders snapshot facts before WAL facts with the same transaction_time and drops WAL copies" do
      with_tmpdir do |dir|
        write_wal(wal(dir) + ".snap", [snapshot_header(1), fact_body("id" => "s", "transaction_time" => 1.0)])
        write_wal(wal(dir), [fact_body("id" => "w", "transaction_time" => 1.0),
                             fact_body("id" => "s", "transaction_time" => 1.0),
                             fact_body("id" => "early", "transaction_time" => 0.5)])

        expect(described_class.new(wal(dir)).replay.map(&:id)).to eq(%w[early s w])
      end
    end

    it "keeps the facts of a snapshot whose first frame is not a snapshot_header" do
      with_tmpdir do |dir|
        write_wal(wal(dir) + ".snap", [fact_body("id" => "s1", "transaction_time" => 1.0)])
        write_wal(wal(dir), [fact_body("id" => "w1", "transaction_time" => 2.0)])

        expect(described_class.new(wal(dir)).replay.map(&:id)).to eq(%w[s1 w1])
      end
    end

    it "skips undecodable snapshot fact frames individually and stops at a damaged frame" do
      with_tmpdir do |dir|
        snap = [snapshot_header(4), fact_body("id" => "s1", "transaction_time" => 1.0), "{broken",
                fact_body("id" => "s2", "transaction_time" => 2.0)].map { |b| raw_frame(b) }.join
        File.binwrite(wal(dir) + ".snap", snap + raw_frame(fact_body("id" => "s3", "transaction_time" => 3.0))[0..-2])
        FileUtils.touch(wal(dir))

        expect(described_class.new(wal(dir)).replay.map(&:id)).to eq(%w[s1 s2])
      end
    end

    it "deletes a stale .snap.tmp on open" do
      with_tmpdir do |dir|
        File.write(wal(dir) + ".snap.tmp", "CORRUPT")
        described_class.new(wal(dir)).close

        expect(File.exist?(wal(dir) + ".snap.tmp")).to be(false)
      end
    end
  end

  describe "replay" do
    it "sees every written fact immediately, without closing the writer" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))
        facts = Array.new(3) { |i| build_fact(key: "k#{i}") }
        facts.each { |f| backend.write_fact(f) }

        expect(backend.replay.map(&:id)).to eq(facts.map(&:id))
        expect(parse_frames(wal(dir)).size).to eq(3)
        backend.write_fact(build_fact(key: "k3"))
        expect(backend.replay.size).to eq(4)
        backend.close
      end
    end

    it "returns an empty Array for a new WAL" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))

        expect(backend.replay).to eq([])
        backend.close
      end
    end

    it "never writes: a damaged tail that appears after open stays on disk" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))
        backend.write_fact(build_fact)
        File.open(wal(dir), "ab") { |f| f.write("\x00\x00\x01\x00partial".b) }
        size = File.size(wal(dir))

        expect(backend.replay.size).to eq(1)
        expect(backend.replay.size).to eq(1)
        expect(File.size(wal(dir))).to eq(size)
        backend.close
      end
    end
  end

  describe "lifecycle" do
    it "creates the WAL when absent and accepts a Pathname" do
      with_tmpdir do |dir|
        backend = described_class.new(Pathname(wal(dir)))

        expect(File.exist?(wal(dir))).to be(true)
        expect(File.size(wal(dir))).to eq(0)
        expect(backend.snapshot_path).to eq(wal(dir) + ".snap")
        backend.close
      end
    end

    it "raises Errno::ENOENT when the parent directory is missing" do
      with_tmpdir do |dir|
        expect { described_class.new(File.join(dir, "missing", "ledger.wal")) }.to raise_error(Errno::ENOENT)
      end
    end

    it "closes idempotently and raises IOError on a write after close" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))
        backend.write_fact(build_fact)
        backend.close

        expect { backend.close }.not_to raise_error
        expect { backend.write_fact(build_fact) }.to raise_error(IOError)
        expect(parse_frames(wal(dir)).size).to eq(1)
      end
    end

    it "supports snapshots but none of the segmented-backend extras" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))

        %i[write_fact replay write_snapshot replace_with_snapshot! snapshot_path close].each do |m|
          expect(backend).to respond_to(m)
        end
        %i[storage_stats segment_manifest purge_receipts checkpoint! durability_snapshot].each do |m|
          expect(backend).not_to respond_to(m)
        end
        backend.close
      end
    end

    it "is usable again after replace_with_snapshot! following close" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))
        kept = build_fact(key: "kept")
        backend.write_fact(kept)
        backend.close
        backend.replace_with_snapshot!([kept])
        later = build_fact(key: "later")
        backend.write_fact(later)
        backend.close

        expect(described_class.new(wal(dir)).replay.map(&:id)).to eq([kept.id, later.id])
      end
    end
  end

  describe "durability policies" do
    [:flush, :fsync, { group: 4, interval: 0.05 }].each do |policy|
      it "persists every fact across a reopen with durability: #{policy.inspect}" do
        with_tmpdir do |dir|
          backend = described_class.new(wal(dir), durability: policy)
          facts = Array.new(6) { |i| build_fact(key: "k#{i}", value: { i: i }) }
          facts.each { |f| backend.write_fact(f) }
          backend.close

          expect(described_class.new(wal(dir)).replay.map(&:id)).to eq(facts.map(&:id))
        end
      end
    end

    [:flush, :fsync].each do |policy|
      it "hands each frame to the OS before write_fact returns with durability: #{policy.inspect}" do
        with_tmpdir do |dir|
          backend = described_class.new(wal(dir), durability: policy)
          fact = build_fact
          backend.write_fact(fact)

          expect(frame_bodies(wal(dir)).map { |b| JSON.parse(b)["id"] }).to eq([fact.id])
          backend.close
        end
      end
    end

    # Group commit's promise (doc/reliability.md "Durability policies"): a
    # write returns only after an fdatasync covering its frame, and a lone
    # writer waits neither for a full group nor for the interval.
    it "fdatasyncs each write of a lone writer under group commit before write_fact returns" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir), durability: { group: 1000, interval: 3600 })
        counts = Array.new(5) do |i|
          backend.write_fact(build_fact(key: "k#{i}"))
          backend.sync_stats[:count]
        end

        expect(counts).to eq([1, 2, 3, 4, 5])
        expect(frame_bodies(wal(dir)).size).to eq(5)
        backend.close
      end
    end

    it "returns each write of threads sharing a group-commit backend only after an fdatasync that ended after the call began" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir), durability: { group: 64, interval: 0.05 })
        facts = Array.new(8) { |t| Array.new(25) { |i| build_fact(key: "t#{t}-#{i}", value: { i: i }) } }
        seen = facts.map do |mine|
          Thread.new do
            mine.map do |fact|
              before = backend.sync_stats[:count]
              backend.write_fact(fact)
              [before, backend.sync_stats[:count]]
            end
          end
        end.flat_map(&:value)

        expect(seen.reject { |before, after| after > before }).to be_empty
        expect(backend.sync_stats[:count]).to be_between(1, 200)
        backend.close
        expect(described_class.new(wal(dir)).replay.map(&:id)).to match_array(facts.flatten.map(&:id))
      end
    end

    it "hands each frame to the OS before write_fact returns by default" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))
        backend.write_fact(build_fact)

        expect(parse_frames(wal(dir)).size).to eq(1)
        backend.close
      end
    end

    it "rejects an unknown policy with ArgumentError" do
      with_tmpdir do |dir|
        expect { described_class.new(wal(dir), durability: :sometimes) }.to raise_error(ArgumentError)
      end
    end
  end

  describe "non-finite numbers and invalid strings" do
    it "raise before anything is stored or written, and the store stays usable" do
      with_tmpdir do |dir|
        store = igniter_store.open(wal(dir))
        first = store.write(store: :items, key: "ok", value: { v: 1 })
        size = File.size(wal(dir))

        [
          { value: { x: Float::NAN } },
          { value: { x: [1, { y: Float::INFINITY }] } },
          { value: { v: 1 }, producer: { p: Float::INFINITY } },
          { value: { v: 1 }, derivation: { d: -Float::INFINITY } },
          { value: { v: 1 }, valid_time: Float::NAN }
        ].each do |kw|
          expect { store.write(store: :items, key: "bad", **kw) }.to raise_error(Igniter::Store::NonFiniteNumberError)
          expect { store.write(store: :items, key: "ok", **kw) }.to raise_error(JSON::GeneratorError)
        end
        expect { store.append(history: :events, event: { x: Float::NAN }) }.to raise_error(Igniter::Store::NonFiniteNumberError)
        bad_utf8 = "\xFF".dup.force_encoding(Encoding::UTF_8)
        expect { store.write(store: :items, key: "bad", value: { s: bad_utf8 }) }.to raise_error(JSON::GeneratorError)

        expect(File.size(wal(dir))).to eq(size)
        expect(store.fact_count).to eq(1)
        expect(store.read(store: :items, key: "bad")).to be_nil
        expect(store.history(store: :items, key: "ok").map(&:id)).to eq([first.id])

        second = store.write(store: :items, key: "ok", value: { v: 2 })
        expect(second.causation).to eq(first.id)
        store.close

        reopened = igniter_store.open(wal(dir))
        expect(reopened.fact_count).to eq(2)
        expect(reopened.read(store: :items, key: "ok")).to eq(v: 2)
      end
    end

    it "refuses a NaN fact at from_h or write_fact, writing nothing" do
      with_tmpdir do |dir|
        backend = described_class.new(wal(dir))

        expect do
          backend.write_fact(Igniter::Store::Fact.from_h(store: :items, key: "k", value: { x: Float::NAN }, transaction_time: 1.0))
        end.to raise_error(JSON::GeneratorError)
        expect(File.size(wal(dir))).to eq(0)
        backend.write_fact(build_fact)
        backend.close

        expect(parse_frames(wal(dir)).size).to eq(1)
      end
    end
  end
end
