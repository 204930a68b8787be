# frozen_string_literal: true

RSpec.describe Igniter::Store::AccessPath do
  it "is a keyword Struct with the 0.5.2 members in order" do
    expect(described_class.ancestors).to include(Struct)
    expect(described_class.members).to eq(%i[store lookup scope filters cache_ttl consumers])
  end

  it "reads back every member given as a keyword" do
    consumer = ->(_store, _key) {}
    path = described_class.new(store: :tasks, lookup: :primary_key, scope: :open, filters: { status: :open },
                               cache_ttl: 30, consumers: [consumer])

    expect(path.store).to eq(:tasks)
    expect(path.lookup).to eq(:primary_key)
    expect(path.scope).to eq(:open)
    expect(path.filters).to eq(status: :open)
    expect(path.cache_ttl).to eq(30)
    expect(path.consumers).to eq([consumer])
  end

  it "defaults every member to nil and is neither frozen nor validated" do
    path = described_class.new(store: :tasks)

    expect(path.to_h).to eq(store: :tasks, lookup: nil, scope: nil, filters: nil, cache_ttl: nil, consumers: nil)
    expect(path).not_to be_frozen
    path.cache_ttl = "anything"
    expect(path.cache_ttl).to eq("anything")
  end

  it "accepts a Set of consumers" do
    consumers = Set[-> {}]

    expect(described_class.new(store: :s, consumers: consumers).consumers).to equal(consumers)
  end

  it "is built by Igniter::Store.access_path with all keywords forwarded" do
    path = Igniter::Store.access_path(store: :tasks, lookup: :primary_key, scope: nil, cache_ttl: 5)

    expect(path).to be_a(described_class)
    expect(path).to eq(described_class.new(store: :tasks, lookup: :primary_key, scope: nil, cache_ttl: 5))
  end

  it "rejects unknown keywords" do
    expect { described_class.new(store: :s, colour: :red) }.to raise_error(ArgumentError)
  end

  describe "sibling descriptors" do
    {
      "RetentionPolicy" => %i[strategy duration],
      "DerivationRule" => %i[source_store source_filters target_store target_key rule],
      "ProjectionPath" => %i[name reads relations consumer_hint reactive],
      "RelationRule" => %i[name source partition target],
      "ScatterRule" => %i[source_store partition_by target_store rule]
    }.each do |name, members|
      it "defines #{name} as a keyword Struct with members #{members.join(", ")}" do
        klass = Igniter::Store.const_get(name)
        instance = klass.new(members.first => :first)

        expect(klass.members).to eq(members)
        expect(instance.public_send(members.first)).to eq(:first)
        expect(members.drop(1).map { |m| instance.public_send(m) }).to all(be_nil)
      end
    end
  end
end
