# frozen_string_literal: true

require_relative "../../store"

# The fact-log contract (doc/contracts.md): what the engine reads and writes
# through its log, as RSpec shared examples. Any log the engine can run on
# (the in-memory log on either path, a log served by a database) keeps it:
#
#   require "igniter/store/contracts/fact_log_lint"
#
#   RSpec.describe MyFactLog do
#     it_behaves_like "an igniter-ledger fact log" do
#       let(:log) { MyFactLog.new }   # empty
#     end
#   end
#
# Facts are appended with fixed transaction times (100.0, 200.0, ...), so
# `as_of`/`since` bounds are exact; both bounds are inclusive.
RSpec.shared_examples "an igniter-ledger fact log" do
  # A built fact of (store, key) at transaction time +tt+, id and hash intact.
  def lint_fact(tt, store: :lint_tasks, key: "t1", value: { status: "open" }, causation: nil)
    built = Igniter::Store::Fact.build(store: store, key: key, value: value, causation: causation)
    Igniter::Store::Fact.from_h(built.to_h.merge(transaction_time: tt))
  end

  # t1 open@100, t2 open@200, t1 done@300, other-store x@400, t2 done@500
  let(:lint_seeded) do
    [
      lint_fact(100.0, key: "t1", value: { status: "open", n: 1 }),
      lint_fact(200.0, key: "t2", value: { status: "open", n: 2 }),
      lint_fact(300.0, key: "t1", value: { status: "done", n: 1 }),
      lint_fact(400.0, store: :lint_other, key: "x", value: { status: "open" }),
      lint_fact(500.0, key: "t2", value: { status: "done", n: 2 })
    ].each { |fact| log.append(fact) }
  end

  def lint_ids(facts)
    facts.map(&:id)
  end

  describe "when empty" do
    it "has no facts, no latest, no history, no scope and size 0" do
      expect([log.size, log.all_facts, log.latest(:lint_tasks, "t1", nil), log.facts(:lint_tasks, nil, nil, nil),
              log.query_scope(store: :lint_tasks, filters: {}), log.fact_by_id("missing")])
        .to eq([0, [], nil, [], [], nil])
    end
  end

  describe "append and all_facts" do
    it "returns each appended fact and keeps every fact in append order" do
      fact = lint_fact(100.0)
      expect(log.append(fact).id).to eq(fact.id)
      more = lint_seeded
      expect(lint_ids(log.all_facts)).to eq([fact.id] + lint_ids(more))
    end

    it "counts appended facts" do
      lint_seeded
      expect(log.size).to eq(5)
    end

    it "gives back stores as Symbols and keys as Strings, values as written" do
      lint_seeded
      fact = log.latest(:lint_tasks, "t1", nil)
      expect([fact.store, fact.key, fact.value]).to eq([:lint_tasks, "t1", { status: "done", n: 1 }])
    end

    it "hands out new Arrays: changing one does not change the log" do
      lint_seeded
      log.all_facts.clear
      log.facts(:lint_tasks, nil, nil, nil).clear
      expect([log.all_facts.size, log.facts(:lint_tasks, nil, nil, nil).size]).to eq([5, 4])
    end
  end

  describe "latest and as_of" do
    it "is the last appended fact of the key" do
      facts = lint_seeded
      expect(log.latest(:lint_tasks, "t1", nil).id).to eq(facts[2].id)
      expect(log.latest_for(store: :lint_tasks, key: "t2").id).to eq(facts[4].id)
    end

    it "as of a time is the last fact at or before it (inclusive)" do
      facts = lint_seeded
      expect(log.latest(:lint_tasks, "t1", 299.9).id).to eq(facts[0].id)
      expect(log.latest(:lint_tasks, "t1", 300.0).id).to eq(facts[2].id)
      expect(log.latest_for(store: :lint_tasks, key: "t1", as_of: 99.9)).to be_nil
    end

    it "finds nothing for an unknown store or key, and finds a key given as a Symbol" do
      lint_seeded
      expect([log.latest(:nope, "t1", nil), log.latest(:lint_tasks, "nope", nil)]).to eq([nil, nil])
      expect(log.latest(:lint_tasks, :t1, nil)&.key).to eq("t1")
    end

    it "refuses a NaN bound with an ArgumentError naming it" do
      lint_seeded
      expect { log.latest(:lint_tasks, "t1", Float::NAN) }.to raise_error(ArgumentError, /as_of/)
    end
  end

  describe "history (facts / facts_for) and since" do
    it "is every fact of the key in append order" do
      facts = lint_seeded
      expect(lint_ids(log.facts(:lint_tasks, "t1", nil, nil))).to eq(lint_ids(facts.values_at(0, 2)))
      expect(lint_ids(log.facts_for(store: :lint_tasks, key: "t2"))).to eq(lint_ids(facts.values_at(1, 4)))
    end

    it "is every fact of the store without a key" do
      facts = lint_seeded
      expect(lint_ids(log.facts_for(store: :lint_tasks))).to eq(lint_ids(facts.values_at(0, 1, 2, 4)))
    end

    it "keeps the inclusive since/as_of window" do
      facts = lint_seeded
      expect(lint_ids(log.facts_for(store: :lint_tasks, since: 200.0, as_of: 300.0))).to eq(lint_ids(facts.values_at(1, 2)))
      expect(lint_ids(log.facts(:lint_tasks, nil, 300.0, nil))).to eq(lint_ids(facts.values_at(2, 4)))
      expect(log.facts(:lint_tasks, nil, 501.0, nil)).to eq([])
    end
  end

  describe "scope sets (query_scope)" do
    it "is the latest fact of each key whose value matches every filter pair, keys in first-appearance order" do
      facts = lint_seeded
      expect(lint_ids(log.query_scope(store: :lint_tasks, filters: { status: "done" }))).to eq(lint_ids(facts.values_at(2, 4)))
      expect(lint_ids(log.query_scope(store: :lint_tasks, filters: {}))).to eq(lint_ids(facts.values_at(2, 4)))
    end

    it "drops a key whose latest fact no longer matches" do
      lint_seeded
      expect(log.query_scope(store: :lint_tasks, filters: { status: "open" })).to eq([])
    end

    it "as of a time, matches each key's fact at that time" do
      facts = lint_seeded
      expect(lint_ids(log.query_scope(store: :lint_tasks, filters: { status: "open" }, as_of: 250.0)))
        .to eq(lint_ids(facts.values_at(0, 1)))
      expect(lint_ids(log.query_scope(store: :lint_tasks, filters: { status: "done", n: 2 }, as_of: 400.0))).to eq([])
    end
  end

  describe "by id" do
    it "finds every appended fact by its id, and nothing for another id" do
      facts = lint_seeded
      expect(facts.map { |f| log.fact_by_id(f.id)&.id }).to eq(lint_ids(facts))
      expect(log.fact_by_id(SecureRandom.uuid)).to be_nil
    end
  end

  describe "writing new facts" do
    it "write_new builds the next fact of a key, caused by its latest one" do
      facts = lint_seeded
      fact = log.write_new(:lint_tasks, "t1", { status: "archived" }, nil, 1, nil, nil, nil, nil, nil)
      expect([fact.store, fact.key, fact.value, fact.causation]).to eq([:lint_tasks, "t1", { status: "archived" }, facts[2].id])
      expect(log.latest(:lint_tasks, "t1", nil).id).to eq(fact.id)
      expect(log.size).to eq(6)
    end

    it "write_new keeps an explicit causation" do
      facts = lint_seeded
      fact = log.write_new(:lint_tasks, "t1", { status: "x" }, facts[0].id, 1, nil, nil, nil, nil, nil)
      expect(fact.causation).to eq(facts[0].id)
    end

    it "append_new adds a history event under a fresh key, without causation" do
      lint_seeded
      one = log.append_new(:lint_events, { kind: "ping" }, 1, nil, nil, nil, nil, nil)
      two = log.append_new(:lint_events, { kind: "ping" }, 1, nil, nil, nil, nil, nil)
      expect([one.causation, two.causation, one.key == two.key]).to eq([nil, nil, false])
      expect(lint_ids(log.facts_for(store: :lint_events))).to eq([one.id, two.id])
    end
  end

  describe "restoring" do
    it "replay adds a built fact as append does" do
      fact = lint_fact(100.0)
      log.replay(fact)
      expect([log.size, log.fact_by_id(fact.id)&.id]).to eq([1, fact.id])
    end

    it "replay_from takes every fact a backend replays, in its order" do
      backend = Igniter::Store::MemoryBackend.new
      facts = [lint_fact(100.0, key: "a"), lint_fact(200.0, key: "b"), lint_fact(300.0, key: "a")]
      facts.each { |fact| backend.write_fact(fact) }
      log.replay_from(backend)
      expect(lint_ids(log.all_facts)).to eq(lint_ids(facts))
      expect(log.latest(:lint_tasks, "a", nil).id).to eq(facts[2].id)
    end
  end
end
