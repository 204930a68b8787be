# frozen_string_literal: true

# Write groups (Engine::WriteGroup, doc/performance.md "Group commit and
# threads"): on a group-commit ledger the writers of one IgniterStore share
# one write and one fdatasync per group, and nothing becomes visible before
# it is durable.
RSpec.describe Igniter::Store::IgniterStore, "write groups on a group-commit ledger" do
  let(:dir) { Dir.mktmpdir("igniter-ledger-write-group") }
  let(:path) { File.join(dir, "ledger.wal") }
  let(:group_policy) { { group: 64, interval: 0.002 } }
  let(:file) { Igniter::Store::FileBackend.new(path, durability: group_policy) }
  let(:feed) { Class.new { attr_reader :facts; def initialize = (@facts = []); def emit(fact) = @facts << fact }.new }
  let(:store) { described_class.new(backend: backend, changefeed: feed) }
  let(:backend) { file }

  after do
    store.close
    FileUtils.rm_rf(dir)
  end

  # A backend that hands every call to the FileBackend, and lets a spec look
  # at the store, or fail the write, at the moment a group reaches the disk.
  let(:probe_class) do
    Class.new do
      attr_accessor :on_write_facts

      def initialize(file)
        @file = file
      end

      def capabilities = @file.capabilities
      def durability = @file.durability
      def write_fact(fact) = @file.write_fact(fact)
      def replay = @file.replay
      def close = @file.close
      def sync_stats = @file.sync_stats
      def write_snapshot(facts) = @file.write_snapshot(facts)
      def replace_with_snapshot!(facts) = @file.replace_with_snapshot!(facts)
      def recovery = @file.recovery

      def write_facts(facts)
        on_write_facts&.call(facts)
        @file.write_facts(facts)
      end
    end
  end

  def reopened_facts
    store.close
    again = Igniter::Store::FileBackend.new(path)
    again.replay.tap { again.close }
  end

  # Starts one thread per block while the store's write lock is held, waits
  # until all of them are blocked (the first as the group's leader, waiting
  # for the lock, the others queued behind it), then lets the lock go.
  def queued_writers(blocks)
    lock = store.instance_variable_get(:@write_lock)
    threads = nil
    lock.synchronize do
      threads = blocks.map { |block| Thread.new { Thread.current.report_on_exception = false; block.call } }
      sleep 0.001 until threads.all? { |t| t.status == "sleep" }
    end
    threads
  end

  it "commits the writers queued behind a leader as one group, with one fdatasync" do
    store.write(store: :tasks, key: "warm", value: {})
    before = file.sync_stats[:count]
    threads = queued_writers(Array.new(6) { |i| -> { store.write(store: :tasks, key: "k#{i}", value: { i: i }) } })
    threads.each(&:join)
    # The leader found only itself queued; the five behind it are the next group.
    expect(file.sync_stats[:count] - before).to eq(2)
    expect(threads.map { |t| t.value.key }).to match_array(%w[k0 k1 k2 k3 k4 k5])
  end

  it "returns each writer its own durable fact, in the file in queue order" do
    facts = queued_writers(Array.new(4) { |i| -> { store.write(store: :tasks, key: "k", value: { i: i }) } }).map(&:value)
    ids = facts.map(&:id)
    replayed = reopened_facts.map(&:id)
    expect(replayed).to match_array(ids)
    expect(replayed).to eq(facts.sort_by(&:transaction_time).map(&:id))
  end

  it "chains a key's facts through the group: causation is the fact before it in the group, or in the log" do
    first = store.write(store: :tasks, key: "k", value: { i: -1 })
    queued_writers(Array.new(5) { |i| -> { store.write(store: :tasks, key: "k", value: { i: i }) } }).each(&:join)
    history = store.history(store: :tasks, key: "k")
    expect(history.size).to eq(6)
    expect(history.first.id).to eq(first.id)
    expect(history.each_cons(2).all? { |a, b| b.causation == a.id }).to be(true)
    expect(reopened_facts.map(&:id)).to eq(history.map(&:id))
  end

  it "keeps one causation chain per key and loses nothing with many threads writing many keys" do
    threads = Array.new(8) do |t|
      Thread.new { Array.new(40) { |i| store.write(store: :tasks, key: "k#{(t + i) % 5}", value: { t: t, i: i }).id } }
    end
    ids = threads.flat_map(&:value)
    expect(ids.uniq.size).to eq(320)
    5.times do |k|
      chain = store.history(store: :tasks, key: "k#{k}")
      expect(chain.each_cons(2).all? { |a, b| b.causation == a.id }).to be(true)
    end
    expect(feed.facts.map(&:id)).to eq(store.history(store: :tasks).map(&:id))
    expect(reopened_facts.map(&:id)).to match_array(ids)
    expect(file.sync_stats[:count]).to be <= 320
  end

  it "takes appends into the group, extending a built partition index" do
    store.append(history: :events, event: { user: "a" }, partition_key: :user)
    store.history_partition(store: :events, partition_key: :user, partition_value: "a")
    queued_writers(Array.new(3) { |i| -> { store.append(history: :events, event: { user: "a", i: i }, partition_key: :user) } })
      .each(&:join)
    partition = store.history_partition(store: :events, partition_key: :user, partition_value: "a")
    expect(partition.size).to eq(4)
    expect(reopened_facts.size).to eq(4)
  end

  context "with a backend that watches the group reach the disk" do
    let(:backend) { probe_class.new(file) }

    it "makes no fact of a group visible (reads, history, changefeed) before the backend wrote it" do
      seen = []
      backend.on_write_facts = lambda do |facts|
        seen << facts.map { |f| [store.fact_by_id(f.id), store.read(store: :tasks, key: f.key), feed.facts.include?(f)] }
      end
      queued_writers(Array.new(3) { |i| -> { store.write(store: :tasks, key: "k#{i}", value: { i: i }) } }).each(&:join)
      expect(seen.flatten(1).size).to eq(3)
      expect(seen.flatten(1)).to all(eq([nil, nil, false]))
      expect(store.read(store: :tasks, key: "k2")).to eq({ i: 2 })
      expect(feed.facts.size).to eq(3)
    end

    it "raises the backend's error for every writer of a failed group, keeps nothing, and writes again after" do
      failures = 1
      backend.on_write_facts = lambda do |_facts|
        next unless failures.positive?

        failures -= 1
        raise Errno::ENOSPC, path
      end
      threads = queued_writers(Array.new(3) { |i| -> { store.write(store: :tasks, key: "k#{i}", value: { i: i }) } })
      errors = threads.map do |t|
        t.join
        nil
      rescue Errno::ENOSPC => e
        e
      end
      # The leader's group (itself) failed; the two queued behind it form the next group.
      expect(errors.compact.size).to eq(1)
      expect(errors.compact.first.message).to include(path)
      expect(store.history(store: :tasks).size).to eq(2)
      expect(store.write(store: :tasks, key: "after", value: {}).key).to eq("after")
      expect(reopened_facts.size).to eq(3)
    end
  end

  it "fails only the writer whose fact cannot be built; the rest of its group commits" do
    bad = Object.new
    threads = queued_writers([
                               -> { store.write(store: :tasks, key: "k", value: { i: 0 }) },
                               -> { store.write(store: :tasks, key: "k", value: { bad: bad }) },
                               -> { store.write(store: :tasks, key: "k", value: { i: 2 }) },
                               -> { store.write(store: :tasks, key: "k", value: { i: 3 }) }
                             ])
    outcomes = threads.map do |t|
      t.value.value
    rescue StandardError => e
      e.class
    end
    expect(outcomes.count { |o| o.is_a?(Class) }).to eq(1)
    history = store.history(store: :tasks, key: "k")
    expect(history.size).to eq(3)
    expect(history.each_cons(2).all? { |a, b| b.causation == a.id }).to be(true)
    expect(reopened_facts.size).to eq(3)
  end

  it "lets a compaction's own writes (made under the write lock) through while writers race it" do
    store.set_retention(:churn, strategy: :ephemeral)
    writers = Array.new(3) do |t|
      Thread.new { Array.new(30) { |i| store.write(store: :keep, key: "#{t}-#{i}", value: { i: i }).id } }
    end
    5.times do |i|
      2.times { store.write(store: :churn, key: "c", value: { i: i }) }
      store.compact
    end
    ids = writers.flat_map(&:value)
    expect(ids.count { |id| store.fact_by_id(id) }).to eq(90)
    expect(store.compaction_receipts(store: :churn).size).to eq(5)
  end

  it "is not used without a group policy: an :fsync ledger takes one fdatasync per write" do
    fsync = Igniter::Store::FileBackend.new(File.join(dir, "fsync.wal"), durability: :fsync)
    s = described_class.new(backend: fsync)
    s.write(store: :tasks, key: "warm", value: {})
    before = fsync.sync_stats[:count]
    lock = s.instance_variable_get(:@write_lock)
    threads = nil
    lock.synchronize do
      threads = Array.new(4) { |i| Thread.new { s.write(store: :tasks, key: "k#{i}", value: {}) } }
      sleep 0.001 until threads.all? { |t| t.status == "sleep" }
    end
    threads.each(&:join)
    expect(fsync.sync_stats[:count] - before).to eq(4)
    s.close
  end
end
