# frozen_string_literal: true

# fork(2) copies only the forking thread; any lock another thread held at that
# moment stays held in the child. Forking while writer threads are inside the
# store (Ruby monitors, native locks, the WAL handle) must still leave the
# child able to read the inherited store, and to open and write its own.
RSpec.describe "Forking while other threads write to the store" do
  include LedgerSpec::Reliability

  around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

  def wait_for(pid, seconds)
    deadline = monotonic + seconds
    loop do
      done, status = Process.waitpid2(pid, Process::WNOHANG)
      return status if done

      if monotonic > deadline
        kill_and_reap(pid)
        return nil
      end
      sleep 0.01
    end
  end

  [["file", ->(dir) { open_file_store(File.join(dir, "parent.wal")) }],
   ["segmented", ->(dir) { open_segmented_store(File.join(dir, "parent"), time_bucket: :none) }]].each do |kind, opener|
    it "lets the child of a #{kind} store read it and write a fresh store, with writers running during fork" do
      store = instance_exec(@dir, &opener)
      store.register_path(Igniter::Store::AccessPath.new(store: :items, scope: :all, filters: {}))
      stop = false
      writers = Array.new(4) do |t|
        Thread.new do
          i = 0
          until stop
            store.write(store: :items, key: "t#{t}-#{i % 5}", value: { i: i })
            i += 1
          end
        end
      end
      deadline = monotonic + 10
      sleep 0.02 until store.fact_count > 50 || monotonic > deadline || writers.none?(&:alive?)
      expect(store.fact_count).to be > 50

      statuses = Array.new(3) do |round|
        pid = fork do
          ok = store.fact_count.positive? && store.query(store: :items, scope: :all).size.positive? &&
               broken_causation(store.fact_log_all).empty?
          child = open_file_store(File.join(@dir, "child#{round}.wal"))
          fact = child.write(store: :items, key: "from-child", value: { round: round })
          child.close
          reopened = open_file_store(File.join(@dir, "child#{round}.wal"))
          ok &&= fact_ids(reopened) == [fact.id]
          exit!(ok ? 0 : 1)
        end
        wait_for(pid, 10)
      end
      stop = true
      writers.each(&:join)

      expect(statuses).to all(be_success), "a forked child hung or failed: #{statuses.inspect}"
      count = store.fact_count
      store.close
      expect(broken_causation(store.fact_log_all)).to be_empty
      reopened = kind == "file" ? open_file_store(File.join(@dir, "parent.wal")) : open_segmented_store(File.join(@dir, "parent"), time_bucket: :none)
      expect(reopened.fact_count).to eq(count)
      reopened.close
    end
  end
end
