# frozen_string_literal: true

RSpec.describe "A ledger used across fork" do
  # Enough facts that replay decodes in parallel (the pool starts in the parent).
  let(:facts) { 300 }

  def wait_for(pid, seconds)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    loop do
      done, status = Process.waitpid2(pid, Process::WNOHANG)
      return status if done
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        Process.kill(:KILL, pid)
        Process.wait(pid)
        return nil
      end
      sleep 0.01
    end
  end

  it "replays and writes in a forked child after the parent replayed" do
    with_tmpdir do |dir|
      path = File.join(dir, "fork.wal")
      store = Igniter::Store.open(path)
      facts.times { |i| store.write(store: :items, key: "k#{i % 7}", value: { n: i }) }
      store.close
      expect(Igniter::Store.open(path).tap(&:close).fact_count).to eq(facts)

      pid = fork do
        child = Igniter::Store.open(path)
        child.write(store: :items, key: "from-child", value: { ok: true })
        child.close
        exit!(child.fact_count == facts + 1 ? 0 : 1)
      end
      status = wait_for(pid, 30)

      expect(status).not_to be_nil, "the forked child hung"
      expect(status).to be_success
      reopened = Igniter::Store.open(path)
      expect(reopened.read(store: :items, key: "from-child")).to eq(ok: true)
      expect(reopened.fact_count).to eq(facts + 1)
      reopened.close
    end
  end

  it "refuses writes from a forked child through the parent's open ledger, and the child's close keeps the parent's lock" do
    with_tmpdir do |path_dir|
      path = File.join(path_dir, "fork.wal")
      store = Igniter::Store.open(path)
      store.write(store: :items, key: "parent", value: { n: 1 })
      reader, writer = IO.pipe

      pid = fork do
        reader.close
        report = begin
          store.write(store: :items, key: "child", value: { n: 2 })
          "wrote"
        rescue Igniter::Store::LedgerLockedError => e
          [e.class, e.pid, store.fact_count, store.read(store: :items, key: "parent")[:n]].join(" ")
        end
        store.close
        writer.puts(report)
        writer.close
        exit!(0)
      end
      writer.close
      status = wait_for(pid, 30)
      report = reader.read
      reader.close

      expect(status).to be_success
      expect(report).to eq("Igniter::Store::LedgerLockedError #{Process.pid} 1 1\n")
      # The child's close left the lock with the parent: another writer is still refused.
      expect { Igniter::Store::FileBackend.new(path) }.to raise_error(Igniter::Store::LedgerLockedError)
      store.write(store: :items, key: "parent", value: { n: 3 })
      store.close
      reopened = Igniter::Store.open(path)
      expect(reopened.history(store: :items, key: "parent").map { |f| f.value[:n] }).to eq([1, 3])
      expect(reopened.read(store: :items, key: "child")).to be_nil
      reopened.close
    end
  end

  [:flush, { group: 8, interval: 0.05 }].each do |policy|
    it "names the parent in the error a forked child gets (durability: #{policy.inspect})" do
      with_tmpdir do |dir|
        path = File.join(dir, "fork.wal")
        backend = Igniter::Store::FileBackend.new(path, durability: policy)
        reader, writer = IO.pipe
        pid = fork do
          reader.close
          begin
            backend.write_fact(Igniter::Store::Fact.build(store: :s, key: "k", value: 1))
          rescue Igniter::Store::LedgerLockedError => e
            writer.puts(e.message)
          end
          writer.close
          exit!(0)
        end
        writer.close
        wait_for(pid, 30)
        message = reader.read
        reader.close
        backend.close

        expect(message).to eq("#{path} is locked by another writer (pid #{Process.pid}): this process (pid #{pid}) " \
                              "is a fork of it and may read the ledger but not write to it\n")
      end
    end
  end
end
