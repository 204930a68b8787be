# frozen_string_literal: true

# Forked workers (Puma, Sidekiq, Unicorn) build facts from the random state
# they inherited from their parent. Every id must still be fresh: a random
# generator that is not reseeded after fork hands every child the same ids,
# and their facts would collide in a shared ledger or downstream.
RSpec.describe "Fact ids across fork" do
  children = 4
  per_process = 50

  # Ids of facts built through every route that draws a fresh id: Fact.build,
  # an engine write (the log's write_new) and a history append (a fresh id
  # and a fresh key).
  def fresh_ids(count)
    store = Igniter::Store::IgniterStore.new
    Array.new(count) do |i|
      built = Igniter::Store::Fact.build(store: :s, key: "k", value: { n: i })
      written = store.write(store: :s, key: "k#{i}", value: { n: i })
      appended = store.append(history: :events, event: { n: i })
      [built.id, written.id, appended.id, appended.key]
    end.flatten
  end

  def ids_from_children(count, per_process)
    readers = Array.new(count) do
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        writer.write(JSON.generate(fresh_ids(per_process)))
        writer.close
        exit!(0)
      end
      writer.close
      [pid, reader]
    end
    readers.map do |pid, reader|
      ids = JSON.parse(reader.read)
      reader.close
      _, status = Process.wait2(pid)
      expect(status).to be_success
      ids
    end
  end

  it "never repeats an id between a parent and its forked children" do
    # The parent draws ids first, so its generator is seeded before the forks.
    before = fresh_ids(per_process)
    from_children = ids_from_children(children, per_process)
    after = fresh_ids(per_process)

    all = before + from_children.flatten + after
    expect(from_children.map(&:size)).to all(eq(per_process * 4))
    expect(all.size).to eq(per_process * 4 * (children + 2))
    expect(all.uniq.size).to eq(all.size)
    expect(all).to all(match(/\A\h{8}-\h{4}-4\h{3}-[89ab]\h{3}-\h{12}\z/))
  end

  it "never repeats an id between the children of a child" do
    fresh_ids(1)
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      nested = ids_from_children(2, per_process).flatten
      writer.write(JSON.generate(nested + fresh_ids(per_process)))
      writer.close
      exit!(0)
    end
    writer.close
    ids = JSON.parse(reader.read)
    reader.close
    _, status = Process.wait2(pid)

    expect(status).to be_success
    expect(ids.size).to eq(per_process * 4 * 3)
    expect(ids.uniq.size).to eq(ids.size)
  end
end
