# frozen_string_literal: true

# IgniterStore.open feeds the log in bulk (the native log straight from the
# decoded WAL, batch by batch); these pin that the result is what per-fact
# replay of `backend.replay` gives.
RSpec.describe Igniter::Store::IgniterStore do
  def wal(dir) = File.join(dir, "ledger.wal")

  it "opens a WAL whose times step back in time order, ties in WAL order, with latest and history to match" do
    with_tmpdir do |dir|
      write_wal(wal(dir), [
                  fact_body("id" => "c", "key" => "k", "value" => { "n" => 3 }, "transaction_time" => 3.0),
                  fact_body("id" => "a1", "key" => "k", "value" => { "n" => 1 }, "transaction_time" => 1.0),
                  fact_body("id" => "b", "key" => "j", "value" => { "n" => 2 }, "transaction_time" => 2.0),
                  fact_body("id" => "a2", "key" => "k", "value" => { "n" => 4 }, "transaction_time" => 1.0)
                ])
      store = described_class.open(wal(dir))

      expect(store.fact_log_all.map(&:id)).to eq(%w[a1 a2 b c])
      expect(store.history(store: :items, key: "k").map(&:id)).to eq(%w[a1 a2 c])
      expect(store.read(store: :items, key: "k")).to eq(n: 3)
      expect(store.read(store: :items, key: "k", as_of: 1.5)).to eq(n: 4)
      expect(store.fact_by_id("b").key).to eq("j")
      store.close
    end
  end

  it "shares the previous fact's id String as a reopened fact's causation" do
    with_tmpdir do |dir|
      store = described_class.open(wal(dir))
      first = store.write(store: :items, key: "k", value: { n: 1 })
      store.write(store: :items, key: "k", value: { n: 2 })
      store.close

      reopened = described_class.open(wal(dir))
      older, newer = reopened.history(store: :items, key: "k")
      expect(newer.causation).to eq(first.id)
      expect(newer.causation).to equal(older.id) if Igniter::Store::NATIVE
      reopened.close
    end
  end

  it "replays through a subclass's own replay(fact) when it redefines it" do
    seen = []
    subclass = Class.new(described_class) do
      define_method(:replay) do |fact|
        seen << fact.id
        super(fact)
      end
      protected :replay
    end
    with_tmpdir do |dir|
      write_wal(wal(dir), [fact_body("id" => "x", "transaction_time" => 1.0)])
      backend = Igniter::Store::FileBackend.new(wal(dir))
      store = subclass.new(backend: backend)
      store.replay_from(backend)

      expect(seen).to eq(["x"])
      expect(store.fact_count).to eq(1)
      backend.close
    end
  end
end
