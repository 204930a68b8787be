# frozen_string_literal: true

RSpec.describe Igniter::Store::Protocol::Receipt do
  let(:fact) { build_fact(store: :tasks, key: "t1", value: { n: 1 }) }

  it "has the spec member order" do
    expect(described_class.members).to eq(%i[schema_version kind status name store key fact_id value_hash warnings errors derived])
  end

  it "answers its status predicates" do
    expect(described_class.accepted(kind: :store, name: :t)).to be_accepted
    expect(described_class.rejection("bad")).to be_rejected
    expect(described_class.deduplicated(kind: :store, name: :t)).to be_deduplicated
  end

  it "puts a rejection message into errors" do
    r = described_class.rejection("Missing required fields: name", kind: :store)
    expect([r.errors, r.warnings, r.derived, r.kind, r.name]).to eq([["Missing required fields: name"], [], [], :store, nil])
  end

  it "marks a deduplicated receipt with a warning" do
    expect(described_class.deduplicated(kind: :store, name: :t).warnings).to eq(["descriptor already registered"])
  end

  it "carries fact id and value hash on a write receipt" do
    r = described_class.write_accepted(store: :tasks, key: "t1", fact: fact)
    expect([r.kind, r.status, r.fact_id, r.value_hash]).to eq([:receipt, :accepted, fact.id, fact.value_hash])
  end

  it "returns the generated key on an append receipt and warns about a differing client key" do
    r = described_class.append_accepted(history: :events, fact: fact, requested_key: "client")
    expect([r.kind, r.store, r.key]).to eq([:append_receipt, :events, "t1"])
    expect(r.warnings.first).to match(/metadata only/)
    expect(described_class.append_accepted(history: :events, fact: fact, requested_key: "t1").warnings).to eq([])
  end

  it "drops nil members from to_h and serializes through it" do
    r = described_class.write_accepted(store: :tasks, key: "t1", fact: fact)
    expect(r.to_h.keys).to eq(%i[schema_version kind status store key fact_id value_hash warnings errors derived])
    expect(JSON.parse(r.to_json)).to include("kind" => "receipt", "store" => "tasks", "warnings" => [])
  end
end
