# frozen_string_literal: true

require "igniter/ledger/rspec"

RSpec.describe "igniter/ledger/rspec", :ledger do
  def failure_of(&block)
    block.call
    raise "the expectation passed"
  rescue RSpec::Expectations::ExpectationNotMetError => e
    e.message
  end

  describe "ledger" do
    it "is a fresh in-memory ledger, the same one throughout the example" do
      expect(ledger).to be_a(Igniter::Store::IgniterStore)
      expect(ledger.fact_count).to eq(0)
      expect(ledger).to be(ledger)
      ledger.write(store: :tasks, key: "t1", value: 1)
    end

    it "does not carry facts from one example to the next" do
      expect(ledger.fact_count).to eq(0)
    end
  end

  describe "write_fact" do
    it "passes when the block writes to the key, with a matching value" do
      expect { ledger.write(store: :tasks, key: "t1", value: { title: "Ship", status: :open }) }
        .to write_fact(store: :tasks, key: "t1").with_value(title: "Ship", status: :open)
      expect { ledger.write(store: "tasks", key: :t1, value: { title: "Ship", n: 2 }) }
        .to write_fact(store: :tasks, key: "t1").with_value(a_hash_including(n: 2))
    end

    it "watches the ledger it is given" do
      other = Igniter::Store.memory
      expect { other.write(store: :tasks, key: "t1", value: 1) }.to write_fact(store: :tasks, key: "t1", ledger: other)
      expect { other.write(store: :tasks, key: "t2", value: 1) }.to write_fact(store: :tasks, key: "t2").in(other)
      expect { other.write(store: :tasks, key: "t3", value: 1) }.not_to write_fact(store: :tasks, key: "t3")
    end

    it "says what the block wrote instead when nothing reached the key" do
      message = failure_of do
        expect { ledger.write(store: :tasks, key: "t2", value: 1) }.to write_fact(store: :tasks, key: "t1")
      end
      expect(message).to eq('expected the block to write a fact to tasks/"t1", but it wrote none to that key (it wrote to tasks/"t2")')
      message = failure_of { expect { nil }.to write_fact(store: :tasks, key: "t1").with_value(1) }
      expect(message).to eq('expected the block to write a fact to tasks/"t1" with value 1, but it wrote none to that key')
    end

    it "shows the written value and a diff when the value differs" do
      message = failure_of do
        expect { ledger.write(store: :tasks, key: "t1", value: { title: "Ship", status: :done }) }
          .to write_fact(store: :tasks, key: "t1").with_value(title: "Ship", status: :open)
      end
      expect(message).to start_with('expected the block to write a fact to tasks/"t1" with value {:title=>"Ship", :status=>:open}, ' \
                                    'but it wrote one with value {:title=>"Ship", :status=>:done}')
      expect(message).to include("Diff:", "-:status => :open", "+:status => :done")
    end

    it "ignores facts the key had before the block" do
      ledger.write(store: :tasks, key: "t1", value: 1)
      expect { nil }.not_to write_fact(store: :tasks, key: "t1")
      message = failure_of { expect { ledger.write(store: :tasks, key: "t1", value: 2) }.not_to write_fact(store: :tasks, key: "t1") }
      expect(message).to eq('expected the block not to write a fact to tasks/"t1", but it wrote 2')
    end

    it "is a block matcher only, and needs a ledger" do
      expect(write_fact(store: :tasks, key: "t1")).not_to be_supports_value_expectations
      expect { write_fact(store: :tasks, key: "t1").matches?(ledger) }
        .to raise_error(ArgumentError, "write_fact is a block matcher: write `expect { ... }.to write_fact(...)`, " \
                                       "got Igniter::Store::IgniterStore")
      expect { expect { nil }.to write_fact(store: :tasks, key: "t1", ledger: Object.new) }
        .to raise_error(ArgumentError, "write_fact needs an Igniter::Store::IgniterStore, got Object " \
                                       "(pass ledger: or include Igniter::Ledger::RSpec::Helpers for `ledger`)")
    end
  end

  describe "have_fact" do
    before { ledger.write(store: :tasks, key: "t1", value: { title: "Ship" }) }

    it "passes for a key with facts, with the latest value, or as of a time" do
      first = ledger.history(store: :tasks, key: "t1").last
      ledger.write(store: :tasks, key: "t1", value: { title: "Shipped" })
      expect(ledger).to have_fact(store: :tasks, key: "t1")
      expect(ledger).to have_fact(store: "tasks", key: :t1).with_value(title: "Shipped")
      expect(ledger).to have_fact(store: :tasks, key: "t1").with_value(title: "Ship").as_of(first.transaction_time)
      expect(ledger).not_to have_fact(store: :tasks, key: "t1").as_of(first.transaction_time - 1)
      expect(ledger).not_to have_fact(store: :tasks, key: "nope")
    end

    it "names the keys the store does have when the key has none" do
      ledger.write(store: :tasks, key: "t2", value: 1)
      message = failure_of { expect(ledger).to have_fact(store: :tasks, key: "t9") }
      expect(message).to eq('expected the ledger to have a fact at tasks/"t9", but the key has no facts (store tasks has 2 keys: "t1", "t2")')
      message = failure_of { expect(ledger).to have_fact(store: :empty, key: "k") }
      expect(message).to eq('expected the ledger to have a fact at empty/"k", but the key has no facts (store empty has no facts at all)')
    end

    it "shows the latest value and a diff when the value differs" do
      message = failure_of { expect(ledger).to have_fact(store: :tasks, key: "t1").with_value(title: "Other") }
      expect(message).to start_with('expected the ledger to have a fact at tasks/"t1" with value {:title=>"Other"}, ' \
                                    'but its latest value is {:title=>"Ship"} (1 version)')
      expect(message).to include("Diff:")
    end

    it "explains a negated match" do
      message = failure_of { expect(ledger).not_to have_fact(store: :tasks, key: "t1") }
      expect(message).to eq('expected the ledger not to have a fact at tasks/"t1", but it has, with latest value {:title=>"Ship"}')
    end
  end

  describe "have_history" do
    before do
      ledger.write(store: :tasks, key: "t1", value: { n: 1 })
      ledger.write(store: :tasks, key: "t1", value: { n: 2 })
    end

    it "passes on the values oldest first, on the count, or on any history" do
      expect(ledger).to have_history(store: :tasks, key: "t1").with_values([{ n: 1 }, { n: 2 }])
      expect(ledger).to have_history(store: :tasks, key: "t1").with_values([{ n: 1 }, a_hash_including(:n)])
      expect(ledger).to have_history(store: :tasks, key: "t1").with_count(2)
      expect(ledger).to have_history(store: :tasks, key: "t1")
      expect(ledger).not_to have_history(store: :tasks, key: "t2")
    end

    it "shows the history it found, with a diff" do
      message = failure_of { expect(ledger).to have_history(store: :tasks, key: "t1").with_values([{ n: 1 }, { n: 3 }]) }
      expect(message).to start_with('expected tasks/"t1" to have the history [{:n=>1}, {:n=>3}], but it has 2 versions: [{:n=>1}, {:n=>2}]')
      expect(message).to include("Diff:")
      message = failure_of { expect(ledger).to have_history(store: :tasks, key: "t1").with_count(3) }
      expect(message).to eq('expected tasks/"t1" to have 3 versions, but it has 2 versions: [{:n=>1}, {:n=>2}]')
      message = failure_of { expect(ledger).to have_history(store: :tasks, key: "t0") }
      expect(message).to eq('expected tasks/"t0" to have a history, but the key has no facts (store tasks has 1 key: "t1")')
    end

    it "refuses arguments it cannot compare" do
      expect { have_history(store: :tasks, key: "t1").with_values({ n: 1 }) }
        .to raise_error(ArgumentError, "with_values takes an Array of values, oldest first, got Hash")
      expect { have_history(store: :tasks, key: "t1").with_count(-1) }
        .to raise_error(ArgumentError, "with_count takes a non-negative Integer, got -1")
    end
  end

  describe "the shared context" do
    include_context "with an igniter ledger"

    it "provides the ledger helper too" do
      expect { ledger.write(store: :s, key: "k", value: 1) }.to write_fact(store: :s, key: "k").with_value(1)
    end
  end
end
