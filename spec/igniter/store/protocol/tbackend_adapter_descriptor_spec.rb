# frozen_string_literal: true

RSpec.describe Igniter::Store::TBackendAdapterDescriptor do
  let(:all_ops) { %i[register_descriptor write append write_fact read query metadata_snapshot descriptor_snapshot sync_hub_profile replay compact subscribe] }
  let(:metadata) do
    { schema_version: 1, ledger_protocol_ops: all_ops,
      stores: [{ name: :tasks, key: :id, capabilities: [:as_of_read] }], histories: [{ name: :events }] }
  end

  def build(**overrides)
    described_class.build(metadata_snapshot: metadata, descriptor_snapshot: {}, schema_fingerprint: "fp-1", **overrides)
  end

  it "reproduces the spec 04 canonical hash test vectors" do
    expect(described_class.canonical_hash({ metadata_snapshot: {}, descriptor_snapshot: {} }))
      .to eq("sha256:9ae3ca311fd083dc7a9a7cd9b21e94d178796840e96520f9bc18797b8863263c")
    expect(described_class.canonical_hash({ b: 1, a: [:x, 1.5, nil, true] }))
      .to eq("sha256:16a524f040e9e5cd32df1156670cfb6da2e3073471f181ce6e075bdff80b8bd2")
    expect(described_class.build(metadata_snapshot: {}, descriptor_snapshot: {}, schema_fingerprint: "x").descriptor_hash)
      .to eq("sha256:c16455cb273937b8b4d2be9615250b939724a181af7bd60cc038e97d33e70598")
  end

  it "is the same class under Igniter::Ledger and exposes frozen payload constants" do
    expect(Igniter::Ledger::TBackendAdapterDescriptor).to equal(described_class)
    expect(described_class::CURSOR_POLICY[:tie_breaker]).to eq("timestamp_then_fact_id_required")
    expect(described_class::TBACKEND_OPS.keys).to eq(%w[read append replay snapshot compact subscribe])
  end

  it "maps ledger ops to TBackend ops and history claims" do
    d = build
    expect(d.supported_tbackend_ops).to eq(%w[read append replay snapshot compact subscribe])
    expect([d.hook_methods, d.capabilities, d.history_axes])
      .to eq([%w[read_as_of bihistory_at], %w[history_read bihistory_read], %w[valid_time transaction_time]])
    expect(build(ledger_protocol_ops: %i[read query metadata_snapshot]).supported_tbackend_ops).to eq(%w[read snapshot])
  end

  it "builds the payload in spec order, deep-frozen" do
    d = build
    expect(d.payload.keys).to eq(%i[kind adapter_kind adapter_ref adapter_version contract_version protocol protocol_schema_version
                                    ledger_protocol_ops supported_tbackend_ops hook_methods capabilities history_axes cursor_policy
                                    schema_fingerprint descriptor_registry_hash evidence_mode source_snapshots non_authorization
                                    descriptor_hash])
    expect(deeply_frozen?(d.payload)).to be(true)
    expect(d).to be_frozen
  end

  it "hashes independently of key order and changes with content" do
    reordered = metadata.to_a.reverse.to_h
    expect(described_class.build(metadata_snapshot: reordered, descriptor_snapshot: {}, schema_fingerprint: "fp-1").descriptor_hash)
      .to eq(build.descriptor_hash)
    expect(build(descriptor_snapshot: { stores: [{ name: :x }] }).descriptor_registry_hash).not_to eq(build.descriptor_registry_hash)
  end

  it "diagnoses missing ops, hooks and fingerprint mismatches" do
    d = build(ledger_protocol_ops: %i[read query], metadata_snapshot: { stores: [] })
    diag = d.diagnostics(required_ops: %w[read append replay], schema_fingerprint: "other")
    expect(diag).to include(status: "blocked", missing_ops: %w[append replay], schema_fingerprint_match: false)
    expect(build.diagnostics({ required_ops: ["read"], schema_fingerprint: "fp-1" })[:status]).to eq("ok")
    expect { build.diagnostics(5) }.to raise_error(ArgumentError, "requirement must be a hash")
  end

  it "accepts a real Interpreter metadata snapshot (Hash of descriptors) with read among the ops" do
    proto = Igniter::Store::Protocol.new
    proto.register(kind: :store, name: :tasks, key: "id", capabilities: ["as_of_read"])
    proto.register(kind: :history, name: :events, key: "id")
    d = described_class.build(metadata_snapshot: proto.metadata_snapshot, descriptor_snapshot: proto.descriptor_snapshot,
                              schema_fingerprint: "fp", ledger_protocol_ops: Igniter::Store::Protocol::WireEnvelope::OPERATIONS)
    expect(d.hook_methods).to eq(%w[read_as_of bihistory_at])
    expect(described_class.build(metadata_snapshot: { 1 => { 2 => :x } }, descriptor_snapshot: nil, schema_fingerprint: "f"))
      .to be_a(described_class)
  end

  it "validates its arguments and has no operational methods" do
    expect { build(schema_fingerprint: nil) }.to raise_error(ArgumentError, "schema_fingerprint is required")
    expect { build(metadata_snapshot: 3) }.to raise_error(ArgumentError, "metadata_snapshot must be a hash")
    %i[read_as_of bihistory_at read write append replay compact subscribe].each do |m|
      expect(build).not_to respond_to(m)
    end
    expect(build.payload[:non_authorization].values.uniq).to eq([false])
  end
end
