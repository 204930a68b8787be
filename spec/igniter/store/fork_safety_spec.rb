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
end
