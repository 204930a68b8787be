# frozen_string_literal: true

# TBackendAdapterDescriptor construction, claims and diagnostics details
# (spec 04 §12) beyond the test vectors.
RSpec.describe "TBackendAdapterDescriptor claims and diagnostics" do
  let(:klass) { Igniter::Store::TBackendAdapterDescriptor }
  let(:all_ops) { %w[register_descriptor write append write_fact read query metadata_snapshot descriptor_snapshot sync_hub_profile replay compact subscribe] }
  let(:as_of_store) { { name: :tasks, key: :id, capabilities: [:as_of_read] } }

  def build(metadata: {}, descriptors: {}, **opts)
    klass.build(metadata_snapshot: metadata, descriptor_snapshot: descriptors, schema_fingerprint: "fp-1", **opts)
  end

  it "has the spec constant values, all frozen" do
    expect([klass::KIND, klass::DIAGNOSTICS_KIND, klass::ADAPTER_KIND, klass::ADAPTER_VERSION, klass::CONTRACT_VERSION,
            klass::PROTOCOL, klass::EVIDENCE_MODE, klass::DEFAULT_ADAPTER_REF])
      .to eq(%w[ledger_tbackend_adapter_descriptor ledger_tbackend_adapter_descriptor_diagnostics ledger_open_protocol
                0.1.0 tbackend.v0 igniter_store receipt_required adapter:ledger-open-protocol/package-descriptor-v0])
    expect([klass::READ_OPS, klass::APPEND_OPS, klass::REPLAY_OPS, klass::SNAPSHOT_OPS])
      .to eq([%w[read query fact_ref], %w[write write_fact append], %w[replay sync_hub_profile],
              %w[metadata_snapshot descriptor_snapshot sync_hub_profile]])
    expect(klass::TBACKEND_OPS.values_at("compact", "subscribe")).to eq([["compact"], ["subscribe"]])
    expect(klass::CURSOR_POLICY).to eq(ordered: "forward", cursor_kinds: ["timestamp"], truncation_reported: true,
                                       tie_breaker: "timestamp_then_fact_id_required")
    expect(klass::NON_AUTHORIZATION.keys).to eq(%i[runtime_binding ledger_reads ledger_writes ledger_append ledger_replay
                                                   ledger_compact ledger_subscribe migration_execution])
    expect([klass::TBACKEND_OPS, klass::CURSOR_POLICY, klass::NON_AUTHORIZATION, klass::READ_OPS].all?(&:frozen?)).to be(true)
  end

  it "builds the same descriptor through build and new" do
    args = { metadata_snapshot: { schema_version: 1 }, descriptor_snapshot: {}, schema_fingerprint: "x" }
    expect(klass.new(**args).payload).to eq(klass.build(**args).payload)
  end

  it "takes ledger ops from the argument, else ledger_protocol_ops, else protocol_ops, deduplicated as Strings" do
    expect(build(metadata: { protocol_ops: %i[read read append] }).ledger_protocol_ops).to eq(%w[read append])
    expect(build(metadata: { ledger_protocol_ops: [:replay], protocol_ops: [:read] }).ledger_protocol_ops).to eq(["replay"])
    expect(build(metadata: { ledger_protocol_ops: [:replay] }, ledger_protocol_ops: [:query]).supported_tbackend_ops).to eq(["read"])
    expect(build.ledger_protocol_ops).to eq([])
    expect(build.supported_tbackend_ops).to eq([])
  end

  it "claims only the as-of read items when there are no histories, blocking bihistory requirements" do
    d = build(metadata: { stores: [as_of_store] }, ledger_protocol_ops: all_ops)
    expect([d.hook_methods, d.capabilities, d.history_axes]).to eq([["read_as_of"], ["history_read"], ["valid_time"]])
    diag = d.diagnostics(required_hook_methods: %w[read_as_of bihistory_at], required_capabilities: %w[bihistory_read],
                         history_axes: %w[valid_time transaction_time])
    expect(diag).to include(status: "blocked", missing_hook_methods: ["bihistory_at"], missing_capabilities: ["bihistory_read"],
                            missing_axes: ["transaction_time"], missing_ops: [])
  end

  it "claims nothing for as_of_read stores when read is not supported" do
    d = build(metadata: { stores: [as_of_store] }, ledger_protocol_ops: %w[append])
    expect([d.hook_methods, d.capabilities, d.history_axes]).to eq([[], [], []])
  end

  it "claims bihistory items from histories of either snapshot, whatever the ops" do
    d = build(descriptors: { histories: { events: { name: :events } } })
    expect([d.hook_methods, d.capabilities, d.history_axes]).to eq([["bihistory_at"], ["bihistory_read"], ["transaction_time"]])
  end

  it "reads as_of_read capabilities from descriptor_snapshot stores given as a Hash of descriptors" do
    d = build(descriptors: { stores: { tasks: as_of_store.merge(capabilities: ["as_of_read"]) } }, ledger_protocol_ops: %w[read])
    expect(d.hook_methods).to eq(["read_as_of"])
  end

  it "takes protocol_schema_version from metadata, then descriptors, else nil" do
    expect(build(metadata: { schema_version: 1 }).payload[:protocol_schema_version]).to eq(1)
    expect(build(descriptors: { schema_version: 2 }).payload[:protocol_schema_version]).to eq(2)
    expect(build.payload[:protocol_schema_version]).to be_nil
  end

  it "fills the default adapter ref, source_snapshots flags and the evidence mode" do
    payload = build(descriptors: nil).payload
    expect(payload.values_at(:adapter_ref, :evidence_mode, :source_snapshots))
      .to eq(["adapter:ledger-open-protocol/package-descriptor-v0", "receipt_required",
              { metadata_snapshot_present: true, descriptor_snapshot_present: true }])
    expect(build(adapter_ref: "adapter:custom").payload[:adapter_ref]).to eq("adapter:custom")
  end

  it "keeps normalized, Symbol-keyed copies of the snapshots" do
    metadata = { "stores" => [{ "name" => "tasks" }] }
    d = build(metadata: metadata)
    expect(d.metadata_snapshot).to eq(stores: [{ name: "tasks" }])
    expect(metadata).to eq("stores" => [{ "name" => "tasks" }])
    expect(klass.build(metadata_snapshot: { a: 1 }, descriptor_snapshot: {}, schema_fingerprint: :sym).payload[:schema_fingerprint]).to eq(:sym)
  end

  it "rejects a non-Hash descriptor snapshot" do
    expect { build(descriptors: 5) }.to raise_error(ArgumentError, "descriptor_snapshot must be a hash")
  end

  it "returns deep-frozen diagnostics in spec key order, matching fingerprints strictly" do
    d = build(ledger_protocol_ops: all_ops)
    diag = d.diagnostics
    expect(diag.keys).to eq(%i[kind status missing_ops missing_hook_methods missing_capabilities missing_axes
                               schema_fingerprint_match descriptor_hash descriptor_registry_hash])
    expect(diag.values_at(:kind, :status, :schema_fingerprint_match, :descriptor_hash))
      .to eq(["ledger_tbackend_adapter_descriptor_diagnostics", "ok", true, d.descriptor_hash])
    expect(deeply_frozen?(diag)).to be(true)
    expect(d.diagnostics(schema_fingerprint: :"fp-1")).to include(status: "blocked", schema_fingerprint_match: false)
  end

  it "keeps requirement order and duplicates in missing lists" do
    diag = build.diagnostics({ "required_ops" => %w[subscribe compact subscribe] })
    expect(diag[:missing_ops]).to eq(%w[subscribe compact subscribe])
  end

  it "describes a live store's snapshots without touching the ledger" do
    proto = Igniter::Store::Protocol.new
    proto.register(kind: :store, name: :tasks, key: "id", capabilities: [:as_of_read])
    proto.write(store: :tasks, key: "t1", value: { n: 1 })
    d = klass.build(metadata_snapshot: proto.metadata_snapshot, descriptor_snapshot: proto.descriptor_snapshot,
                    schema_fingerprint: "fp", ledger_protocol_ops: %i[read query])
    expect([d.hook_methods, d.supported_tbackend_ops]).to eq([["read_as_of"], ["read"]])
    expect(proto.instance_variable_get(:@store).fact_count).to eq(1)
  end
end
