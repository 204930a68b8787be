# frozen_string_literal: true

# T threads × N writes and appends on one persisted store, while other
# threads read, run scope queries, and compact (file store) or checkpoint
# (segmented store). Afterwards the counts are exact, every per-key causation
# chain is intact, and a reopen replays the very same facts in the same order.
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module ConcurrencySpec
    RSpec.describe "One store under concurrent writers, readers and compaction" do
      include LedgerSpec::Reliability

      THREADS = 8
      OPS_PER_THREAD = 2_000
      APPEND_EVERY = 4 # every 4th operation is an append to a history store
      SHARED_KEYS = 4
      raise "OPS_PER_THREAD must be a multiple of APPEND_EVERY" unless (OPS_PER_THREAD % APPEND_EVERY).zero?

      around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

      def register_scope(store)
        store.register_path(Igniter::Store::AccessPath.new(store: :accounts, scope: :all, filters: {}))
      end

      # The key of thread +t+'s operation +i+, nil for an append: its own keys,
      # and every 10th write one of a few keys shared by all threads (so chains
      # interleave across threads).
      def key_for(t, i)
        return nil if (i % APPEND_EVERY).zero?

        (i % 10).zero? ? "shared#{(i / 10) % SHARED_KEYS}" : "t#{t}-k#{i % 7}"
      end

      def writer_threads(store)
        Array.new(THREADS) do |t|
          Thread.new do
            OPS_PER_THREAD.times do |i|
              key = key_for(t, i)
              if key
                store.write(store: :accounts, key: key, value: { t: t, i: i })
              else
                store.append(history: :events, event: { t: t, i: i })
              end
            end
          end
        end
      end

      let(:keys) { (0...THREADS).flat_map { |t| (0...OPS_PER_THREAD).filter_map { |i| key_for(t, i) } }.uniq }

      # Bounded, and yields the GVL every round: a pure-Ruby reader that never
      # blocks would otherwise starve writers waiting to reacquire it after I/O.
      def reader_thread(store, done)
        Thread.new do
          reads = 0
          until done.true? || reads >= 500
            Thread.pass
            store.read(store: :accounts, key: "shared#{reads % SHARED_KEYS}")
            store.query(store: :accounts, scope: :all)
            store.history(store: :accounts, key: "t#{reads % THREADS}-k1")
            store.causation_chain(store: :accounts, key: "shared0")
            reads += 1
          end
          reads
        end
      end

      let(:appends) { THREADS * OPS_PER_THREAD / APPEND_EVERY }
      let(:writes) { THREADS * OPS_PER_THREAD - appends }

      def expect_exact_and_chained(store)
        expect(store.history(store: :accounts).size).to eq(writes)
        expect(store.history(store: :events).size).to eq(appends)
        expect(store.query(store: :accounts, scope: :all).map(&:key)).to match_array(keys)
        chained = store.fact_log_all.reject { |f| f.store == :churn }
        expect(broken_causation(chained)).to be_empty
      end

      it "keeps counts exact and chains intact on a file store through compactions, and reopens to the same facts" do
        path = File.join(@dir, "ledger.wal")
        store = open_file_store(path)
        register_scope(store)
        store.set_retention(:churn, strategy: :ephemeral)
        done = Struct.new(:flag) { def true? = flag }.new(false)
        writers = writer_threads(store)
        reader = reader_thread(store, done)
        compactor = Thread.new do
          Array.new(4) do |round|
            3.times { |i| store.write(store: :churn, key: "c#{i}", value: { round: round }) }
            3.times { |i| store.write(store: :churn, key: "c#{i}", value: { round: round, again: true }) }
            store.compact(:churn).first[:dropped_count]
          end
        end
        writers.each(&:join)
        dropped = compactor.value
        done.flag = true
        expect(reader.value).to be > 0

        expect(dropped).to all(be >= 3)
        expect_exact_and_chained(store)
        expect(store.history(store: :churn).size).to eq(3)
        receipts = store.compaction_receipts(store: :churn).size
        expect(receipts).to eq(4)
        expect(store.fact_count).to eq(writes + appends + 3 + receipts)

        before = store.fact_log_all.map(&:id)
        store.close
        reopened = open_file_store(path)
        expect(fact_ids(reopened)).to eq(before)
        reopened.close
      end

      it "keeps every frame whole when 8 threads call FileBackend#write_fact directly while another replays" do
        path = File.join(@dir, "direct.wal")
        backend = Igniter::Store::FileBackend.new(path)
        per_thread = 500
        facts = Array.new(THREADS) do |t|
          Array.new(per_thread) { |i| Igniter::Store::Fact.build(store: :direct, key: "t#{t}", value: { i: i, pad: "x" * (i % 64) }) }
        end
        replays = []
        replayer = Thread.new do
          5.times do
            replays << backend.replay.size
            Thread.pass
          end
        end
        THREADS.times.map { |t| Thread.new { facts[t].each { |fact| backend.write_fact(fact) } } }.each(&:join)
        replayer.join
        backend.close

        expect(replays).to all(be_between(0, THREADS * per_thread))
        reopened = Igniter::Store::FileBackend.new(path)
        expect(reopened.recovery[:truncated_bytes]).to eq(0)
        replayed = reopened.replay
        expect(replayed.size).to eq(THREADS * per_thread)
        expect(replayed.map(&:id)).to match_array(facts.flatten.map(&:id))
        # Each thread's facts keep their order in the file.
        THREADS.times do |t|
          expect(replayed.select { |f| f.key == "t#{t}" }.map { |f| f.value[:i] }).to eq((0...per_thread).to_a)
        end
        reopened.close
      end

      it "keeps counts exact and chains intact on a segmented store through checkpoints, and reopens to the same facts" do
        root = File.join(@dir, "segments")
        store = open_segmented_store(root, time_bucket: :none)
        register_scope(store)
        done = Struct.new(:flag) { def true? = flag }.new(false)
        writers = writer_threads(store)
        reader = reader_thread(store, done)
        checkpointer = Thread.new do
          5.times do
            backend_of(store).checkpoint!
            sleep 0.01
          end
        end
        writers.each(&:join)
        checkpointer.join
        done.flag = true
        expect(reader.value).to be > 0

        expect_exact_and_chained(store)
        expect(store.fact_count).to eq(writes + appends)

        before = store.fact_log_all.map(&:id)
        store.close
        reopened = open_segmented_store(root, time_bucket: :none)
        expect(fact_ids(reopened)).to eq(before)
        reopened.close
      end
    end
  end
end
