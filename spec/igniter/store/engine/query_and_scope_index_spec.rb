# frozen_string_literal: true

RSpec.describe Igniter::Store::IgniterStore, "query, scope index and consumers" do
  subject(:store) { ledger_store }

  let(:path_class) { Igniter::Store::AccessPath }

  def register_scope(scope, filters, consumers: nil, cache_ttl: nil, store_name: :tasks)
    store.register_path(path_class.new(store: store_name, scope: scope, filters: filters,
                                       consumers: consumers, cache_ttl: cache_ttl))
  end

  def keys_of(facts) = facts.map(&:key).sort

  describe "#query" do
    before { register_scope(:open, { status: :open }) }

    it "returns the latest fact of each key matching the path filters" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.write(store: :tasks, key: "b", value: { status: :closed })
      store.write(store: :tasks, key: "c", value: { status: :open, x: 1 })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a c])
    end

    it "reflects updates: a key leaves and enters the scope" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a])
      store.write(store: :tasks, key: "a", value: { status: :closed })
      expect(store.query(store: :tasks, scope: :open)).to eq([])
      store.write(store: :tasks, key: "a", value: { status: :open, n: 2 })
      result = store.query(store: :tasks, scope: :open)
      expect(result.map(&:value)).to eq([{ status: :open, n: 2 }])
    end

    it "raises ArgumentError naming store and scope for an unknown scope" do
      expect { store.query(store: :tasks, scope: :unknown) }
        .to raise_error(ArgumentError, "No registered path for store=:tasks scope=:unknown")
    end

    it "matches the filters exactly: Symbol value keys and Symbol values" do
      store.write(store: :tasks, key: "a", value: { "status" => :open })
      store.write(store: :tasks, key: "b", value: { status: "open" })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a])
    end

    it "ignores non-Hash values" do
      store.write(store: :tasks, key: "a", value: [1, 2])
      expect(store.query(store: :tasks, scope: :open)).to eq([])
    end

    it "answers a time-travel query from the log as of then" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      t = clock_boundary
      store.write(store: :tasks, key: "a", value: { status: :closed })
      store.write(store: :tasks, key: "b", value: { status: :open })
      expect(keys_of(store.query(store: :tasks, scope: :open, as_of: t))).to eq(%w[a])
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[b])
    end

    it "is invalidated by writes (a cached answer never outlives a write to the store)" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "b", value: { status: :open })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a b])
    end

    it "accepts a String store name" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(keys_of(store.query(store: "tasks", scope: :open))).to eq(%w[a])
    end
  end

  describe "cached answers" do
    it "returns the identical Array object on a second query within the path cache_ttl",
       not_on_postgres: "answers are never served from a cache another process could have made stale" do
      register_scope(:open, { status: :open }, cache_ttl: 60)
      store.write(store: :tasks, key: "a", value: { status: :open })
      first = store.query(store: :tasks, scope: :open)
      expect(store.query(store: :tasks, scope: :open)).to equal(first)
    end

    it "freezes the cached Array so a caller cannot corrupt the cache" do
      register_scope(:open, { status: :open })
      store.write(store: :tasks, key: "a", value: { status: :open })
      result = store.query(store: :tasks, scope: :open)
      expect(result).to be_frozen
      expect { result << :junk }.to raise_error(FrozenError)
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a])
    end

    it "recomputes once the explicit ttl has expired" do
      register_scope(:open, { status: :open })
      store.write(store: :tasks, key: "a", value: { status: :open })
      first = store.query(store: :tasks, scope: :open)
      sleep 0.02
      expect(store.query(store: :tasks, scope: :open, ttl: 0.01)).not_to equal(first)
    end
  end

  describe "scope index" do
    before { register_scope(:open, { status: :open }) }

    it "gives the same results before and after warm-up" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.write(store: :tasks, key: "b", value: { status: :closed })
      cold = keys_of(store.query(store: :tasks, scope: :open))
      store.write(store: :tasks, key: "z", value: { other: 1 }) # drops the cached answer
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(cold)
    end

    it "is maintained on enter and leave once warm" do
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.write(store: :tasks, key: "b", value: { status: :open })
      store.write(store: :tasks, key: "a", value: { status: :closed })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[b])
    end

    it "matches String-keyed input by its normalized value, agreeing with a cold scan" do
      store.query(store: :tasks, scope: :open) # warm, empty
      store.write(store: :tasks, key: "a", value: { "status" => :open })
      warm = keys_of(store.query(store: :tasks, scope: :open))
      cold = ledger_store
      cold.register_path(path_class.new(store: :tasks, scope: :open, filters: { status: :open }))
      cold.write(store: :tasks, key: "a", value: { "status" => :open })
      expect(warm).to eq(%w[a])
      expect(keys_of(cold.query(store: :tasks, scope: :open))).to eq(warm)
    end

    it "is not used for time-travel queries" do
      store.write(store: :tasks, key: "a", value: { status: :closed })
      t = clock_boundary
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(store.query(store: :tasks, scope: :open, as_of: t)).to eq([])
    end

    it "keeps scope queries on a history store current across appends" do
      register_scope(:big, { size: :big }, store_name: :events)
      store.append(history: :events, event: { size: :big })
      expect(store.query(store: :events, scope: :big).size).to eq(1)
      store.append(history: :events, event: { size: :big })
      store.append(history: :events, event: { size: :small })
      expect(store.query(store: :events, scope: :big).size).to eq(2)
    end

    it "answers a scope-less (point) path by a fresh scan every time" do
      store.register_path(path_class.new(store: :tasks, scope: nil))
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(keys_of(store.query(store: :tasks, scope: nil))).to eq(%w[a])
      store.write(store: :tasks, key: "b", value: { status: :closed })
      expect(keys_of(store.query(store: :tasks, scope: nil))).to eq(%w[a b])
    end

    it "uses the filters of the first path registered under a scope name" do
      register_scope(:open, { status: :closed }) # second path, same scope name
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "b", value: { status: :closed })
      store.write(store: :tasks, key: "c", value: { status: :open })
      expect(keys_of(store.query(store: :tasks, scope: :open))).to eq(%w[a c])
    end
  end

  describe "point consumers" do
    it "are called (store, key) on every write to the store, in registration order" do
      calls = []
      store.register_path(path_class.new(store: :tasks, consumers: [->(s, k) { calls << [1, s, k] },
                                                                    ->(s, k) { calls << [2, s, k] }]))
      store.write(store: :tasks, key: "a", value: {})
      store.write(store: :tasks, key: "a", value: {})
      store.write(store: :other, key: "a", value: {})
      expect(calls).to eq([[1, :tasks, "a"], [2, :tasks, "a"], [1, :tasks, "a"], [2, :tasks, "a"]])
    end

    it "accept a Set of consumers and fire twice when registered twice" do
      calls = []
      consumer = ->(s, k) { calls << [s, k] }
      store.register_path(path_class.new(store: :tasks, consumers: Set[consumer]))
      store.register_path(path_class.new(store: :tasks, consumers: [consumer]))
      store.write(store: :tasks, key: "a", value: {})
      expect(calls.size).to eq(2)
    end

    it "swallow a consumer's StandardError and still call the others" do
      calls = []
      store.register_path(path_class.new(store: :tasks, consumers: [->(*) { raise "boom" }, ->(*a) { calls << a }]))
      expect { store.write(store: :tasks, key: "a", value: {}) }.not_to raise_error
      expect(calls).to eq([[:tasks, "a"]])
    end

    it "are notified by append on the history store" do
      calls = []
      store.register_path(path_class.new(store: :events, consumers: [->(*a) { calls << a }]))
      fact = store.append(history: :events, event: { n: 1 })
      expect(calls).to eq([[:events, fact.key]])
    end

    it "are registered under the normalized store name" do
      calls = []
      store.register_path(path_class.new(store: "tasks", consumers: [->(*a) { calls << a }]))
      store.write(store: :tasks, key: "a", value: {})
      expect(calls).to eq([[:tasks, "a"]])
    end
  end

  describe "scope consumers" do
    let(:calls) { [] }

    before do
      register_scope(:open, { status: :open }, consumers: [->(s, sc) { calls << [s, sc] }])
      register_scope(:closed, { status: :closed }, consumers: [->(s, sc) { calls << [s, sc] }])
    end

    it "are not notified while the scope was never queried (cold cache)" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(calls).to eq([])
    end

    it "are notified when a key enters the scope" do
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(calls).to eq([[:tasks, :open]])
    end

    it "are notified when a key leaves the scope" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :closed })
      expect(calls).to eq([[:tasks, :open]])
    end

    it "fire for both scopes when a key moves from one to the other" do
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.query(store: :tasks, scope: :open)
      store.query(store: :tasks, scope: :closed)
      store.write(store: :tasks, key: "a", value: { status: :closed })
      expect(calls).to contain_exactly([:tasks, :open], [:tasks, :closed])
    end

    it "are not notified when membership is unchanged",
       not_on_postgres: "no scope index across processes: scope consumers hear of every write to the store" do
      store.write(store: :tasks, key: "a", value: { status: :open, n: 1 })
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open, n: 2 })
      expect(calls).to eq([])
    end

    it "are never notified by writes to another store" do
      store.query(store: :tasks, scope: :open)
      store.write(store: :other, key: "a", value: { status: :open })
      expect(calls).to eq([])
    end

    it "fire once, then not again until the scope is queried again" do
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open })
      store.write(store: :tasks, key: "b", value: { status: :open })
      expect(calls.size).to eq(1)
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "c", value: { status: :open })
      expect(calls.size).to eq(2)
    end

    it "fire after point consumers, each with its own arguments" do
      order = []
      store.register_path(path_class.new(store: :tasks, consumers: [->(s, k) { order << [:point, s, k] }]))
      store.register_path(path_class.new(store: :tasks, scope: :open, filters: { status: :open },
                                         consumers: [->(s, sc) { order << [:scope, s, sc] }]))
      store.query(store: :tasks, scope: :open)
      store.write(store: :tasks, key: "a", value: { status: :open })
      expect(order).to eq([[:point, :tasks, "a"], [:scope, :tasks, :open]])
    end

    it "are notified when an append enters a cached scope of a history store" do
      seen = []
      store.register_path(path_class.new(store: :events, scope: :big, filters: { size: :big },
                                         consumers: [->(*a) { seen << a }]))
      store.query(store: :events, scope: :big)
      store.append(history: :events, event: { size: :big })
      expect(seen).to eq([[:events, :big]])
    end
  end
end
