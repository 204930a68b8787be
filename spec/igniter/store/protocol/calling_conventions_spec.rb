# frozen_string_literal: true

# Ruby-level API shape of the protocol layer (spec 04 §3, §17.1): methods
# taking one positional Hash accept both the brace and the keyword style.
RSpec.describe "Open protocol calling conventions" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:interpreter_class) { Igniter::Store::Protocol::Interpreter }

  it "takes exactly one positional parameter in the Hash-taking methods" do
    methods = [interpreter_class.instance_method(:register), interpreter_class.instance_method(:write_fact),
               interpreter_class.instance_method(:dispatch), Igniter::Store::Protocol::WireEnvelope.instance_method(:dispatch),
               Igniter::Store::IgniterStore.instance_method(:register_descriptor)]
    methods += interpreter_class::HANDLERS.keys.map { |kind| interpreter_class.instance_method(:"register_#{kind}") }
    expect(methods.map { |m| m.parameters.map(&:first) }.uniq).to eq([[:req]])
    expect(Igniter::Store::TBackendAdapterDescriptor.instance_method(:diagnostics).parameters.map(&:first)).to eq([:opt])
  end

  it "accepts every register_* alias in brace and keyword style" do
    interpreter_class::HANDLERS.each_key do |kind|
      name = :"register_#{kind}"
      expect(proto.public_send(name, { kind: kind }).kind).to eq(kind)
      expect(proto.public_send(name, kind: kind, extra: 1).kind).to eq(kind)
    end
  end

  it "accepts register_descriptor, write_fact and dispatch in both styles" do
    expect(store.register_descriptor({ kind: :store, name: :a, key: "id" })).to be_accepted
    expect(store.register_descriptor(schema_version: 1, kind: :store, name: :b, key: "id")).to be_accepted
    expect(proto.write_fact(kind: :fact, store: :s, key: "k", value: 1)).to be_accepted
    expect(proto.write_fact({ kind: :fact, store: :s, key: "k", value: 2 })).to be_accepted
    expect(proto.dispatch(protocol: :igniter_store, op: :descriptor_snapshot)[:status]).to eq(:ok)
    expect(proto.wire.dispatch(protocol: :igniter_store, op: :descriptor_snapshot)[:status]).to eq(:ok)
  end

  it "takes the relation name and fact id positionally" do
    proto.register(kind: :relation, name: :r, from: { store: :p, key: :id }, to: { store: :t, field: :p })
    expect(proto.resolve(:r, from: "x")).to eq([])
    expect(proto.resolve_items(:r, from: "x", as_of: nil)).to eq([])
    expect(proto.fact_ref("none")).to be_nil
    expect(interpreter_class.instance_method(:resolve).parameters).to eq([%i[req relation_name], %i[keyreq from], %i[key as_of]])
  end

  it "builds interpreters positionally with optional alert thresholds" do
    expect(Igniter::Store::Protocol.method(:new).parameters).to eq([%i[opt store]])
    custom = interpreter_class.new(store, alert_thresholds: { storage_byte_size: 5 })
    expect(custom.instance_variable_get(:@alert_thresholds)).to eq(quarantine_receipt_count: 10, storage_byte_size: 5)
    expect(custom.instance_variable_get(:@store)).to equal(store)
  end

  it "answers the spec's public operations and none of the doc-only ones" do
    expected = %i[register register_store register_history register_access_path register_relation register_projection
                  register_derivation register_command register_effect register_subscription write append write_fact
                  read query resolve resolve_items causation_chain lineage fact_ref metadata_snapshot storage_stats
                  segment_manifest descriptor_snapshot sync_hub_profile compaction_activity replay wire dispatch
                  observability_snapshot]
    expect(expected.reject { |m| proto.respond_to?(m) }).to eq([])
    %i[history history_partition compact subscribe register_retention stats drain].each do |m|
      expect(proto).not_to respond_to(m)
    end
  end

  it "keeps keyword-only signatures for the other fact IO methods" do
    expect(proto.read(store: :t, key: "k")).to be_nil
    expect { proto.read(:t, "k") }.to raise_error(ArgumentError)
    expect(proto.query(store: :t)).to eq([])
  end
end
