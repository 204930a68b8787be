# frozen_string_literal: true

# Interpreter-level observability snapshot (spec 04 §10, §17.2) and its wire
# form. HTTP /v1/status and the StoreServer layers are specified with the
# servers.
RSpec.describe "Open protocol observatory conformance" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:iso_ms) { /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:[+-]\d\d:\d\d|Z)\z/ }

  def wire_snapshot(interpreter)
    interpreter.dispatch({ protocol: :igniter_store, schema_version: 1, request_id: "obs", op: :observability_snapshot })
  end

  it "has the canonical key order and an ISO-8601 generated_at with milliseconds" do
    snap = proto.observability_snapshot
    expect(snap.keys).to eq(%i[schema_version generated_at status uptime_ms metrics alerts storage server])
    expect(snap[:generated_at]).to match(iso_ms)
    expect(Time.iso8601(snap[:generated_at])).to be_within(5).of(Time.now)
  end

  it "is ready with nil uptime, metrics, storage and server and no alerts for a memory store" do
    expect(proto.observability_snapshot.values_at(:schema_version, :status, :uptime_ms, :metrics, :alerts, :storage, :server))
      .to eq([1, :ready, nil, nil, [], nil, nil])
  end

  it "has nil storage for a plain file store" do
    with_tmpdir do |dir|
      file_store = Igniter::Store.open(File.join(dir, "l.wal"))
      file_store.protocol.write(store: :t, key: "k", value: { n: 1 })
      expect(file_store.protocol.observability_snapshot.values_at(:storage, :alerts)).to eq([nil, []])
      file_store.close
    end
  end

  it "agrees with the wire except for generated_at" do
    resp = wire_snapshot(proto)
    expect(resp[:status]).to eq(:ok)
    expect(resp[:result].except(:generated_at)).to eq(proto.observability_snapshot.except(:generated_at))
    expect(resp[:result][:generated_at]).to match(iso_ms)
  end

  it "keeps the default alert thresholds frozen" do
    expect(Igniter::Store::Protocol::Interpreter::DEFAULT_STORAGE_ALERT_THRESHOLDS)
      .to eq(quarantine_receipt_count: 10, storage_byte_size: 1_073_741_824).and be_frozen
  end

  it "reports nil storage and no alerts when the backend's statistics raise" do
    failing = Class.new do
      include Igniter::Store::Backend

      def capabilities = Igniter::Store::Capabilities.declare(:storage_stats)
      def write_fact(_fact); end

      def storage_stats(store: nil)
        raise IOError, "disk gone #{store}"
      end
    end.new
    snap = Igniter::Store::Protocol.new(Igniter::Store::IgniterStore.new(backend: failing)).observability_snapshot
    expect(snap.values_at(:status, :storage, :alerts)).to eq([:ready, nil, []])
  end

  it "raises a quarantine alert with its message when the threshold is exceeded" do
    backend = Class.new do
      include Igniter::Store::Backend

      def capabilities = Igniter::Store::Capabilities.declare(:storage_stats)
      def write_fact(_fact); end

      def storage_stats(store: nil)
        { "schema_version" => 1, "stores" => { "a" => { "byte_size" => 1, "quarantine_receipt_count" => 2 },
                                               "b" => { "byte_size" => 1, "quarantine_receipt_count" => 1 } } }
      end
    end.new
    interpreter = Igniter::Store::Protocol::Interpreter.new(Igniter::Store::IgniterStore.new(backend: backend),
                                                            alert_thresholds: { quarantine_receipt_count: 2 })
    expect(interpreter.observability_snapshot[:alerts])
      .to eq([{ type: :quarantine_receipt_count, threshold: 2, current_value: 3,
                message: "quarantine_receipt_count exceeded threshold: 3 > 2" }])
  end

  context "with a segmented store" do
    around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

    let(:store) { Igniter::Store.segmented(File.join(@dir, "seg")) }

    before do
      proto.write(store: :orders, key: "o1", value: { n: 1 })
      proto.write(store: :tasks, key: "t1", value: { n: 1 })
      store.instance_variable_get(:@backend).checkpoint!
    end

    after { store.close }

    it "has no alerts with the default thresholds" do
      expect(proto.observability_snapshot[:alerts]).to eq([])
    end

    it "raises a storage_byte_size alert over a threshold of 1" do
      interpreter = Igniter::Store::Protocol::Interpreter.new(store, alert_thresholds: { storage_byte_size: 1 })
      alerts = interpreter.observability_snapshot[:alerts]
      bytes = store.storage_stats["stores"].values.sum { |s| s["byte_size"] }
      expect(alerts).to eq([{ type: :storage_byte_size, threshold: 1, current_value: bytes,
                              message: "storage_byte_size exceeded threshold: #{bytes} > 1" }])
    end

    it "keys its storage section by store name" do
      storage = proto.observability_snapshot[:storage]
      expect(storage.keys).to eq(%w[schema_version generated_at stores recovery])
      expect(storage["stores"].keys.sort).to eq(%w[orders tasks])
    end

    it "shows the same stores and alerts on the interpreter and the wire" do
      interpreter = Igniter::Store::Protocol::Interpreter.new(store, alert_thresholds: { storage_byte_size: 1 })
      direct = interpreter.observability_snapshot
      over_wire = wire_snapshot(interpreter)[:result]
      expect(over_wire[:alerts]).to eq(direct[:alerts])
      expect(over_wire[:storage]["stores"].keys).to eq(direct[:storage]["stores"].keys)
      expect(over_wire[:storage]["stores"]).to eq(direct[:storage]["stores"])
    end
  end
end
