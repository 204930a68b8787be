# frozen_string_literal: true

RSpec.describe Igniter::Store::SubscriptionRegistry do
  subject(:registry) { described_class.new }

  let(:fact) { build_fact(store: :orders) }

  it "returns a record with a 16-hex id and String stores" do
    record = registry.subscribe(stores: %i[orders invoices]) { |_| nil }
    expect(record).to be_a(described_class::SubscriptionRecord)
    expect(record.id).to match(/\A\h{16}\z/)
    expect(record.stores).to eq(%w[orders invoices])
  end

  it "calls matching handlers synchronously in subscription order, with no wildcard" do
    calls = []
    registry.subscribe(stores: :orders) { |f| calls << [:first, f] }
    registry.subscribe(stores: "orders") { |f| calls << [:second, f] }
    registry.subscribe(stores: []) { |f| calls << [:none, f] }
    registry.fan_out(fact)
    expect(calls).to eq([[:first, fact], [:second, fact]])
  end

  it "removes a raising handler after the round and keeps the others" do
    calls = []
    registry.subscribe(stores: :orders) { |_| raise "boom" }
    registry.subscribe(stores: :orders) { |_| calls << :ok }
    expect { registry.fan_out(fact) }.not_to raise_error
    registry.fan_out(fact)
    expect(calls).to eq(%i[ok ok])
    expect(registry.subscriber_count(:orders)).to eq(1)
  end

  it "unsubscribes by identity, tolerating nil and repeats" do
    record = registry.subscribe(stores: :orders) { |_| nil }
    registry.subscribe(stores: :orders) { |_| nil }
    registry.unsubscribe(nil)
    2.times { registry.unsubscribe(record) }
    expect(registry.subscriber_count("orders")).to eq(1)
  end

  it "counts exact store matches" do
    registry.subscribe(stores: %i[a b]) { |_| nil }
    expect([registry.subscriber_count(:a), registry.subscriber_count(:c)]).to eq([1, 0])
  end

  it "requires a handler" do
    expect { registry.subscribe(stores: :a) }.to raise_error(ArgumentError, "subscribe requires a block")
  end
end
