# frozen_string_literal: true

RSpec.describe Igniter::Store::MCPAdapter do
  let(:store) { Igniter::Store.memory }
  let(:interpreter) { Igniter::Store::Protocol.new(store) }
  let(:mcp) { described_class.new(interpreter) }

  def seed_tasks
    first = interpreter.write(store: :tasks, key: "t1", value: { title: "Plan", status: "open" })
    interpreter.write(store: :tasks, key: "t1", value: { title: "Plan", status: "done" }, causation: first.fact_id)
    interpreter.write(store: :tasks, key: "t2", value: { title: "Ship", status: "open" })
    first
  end

  describe "construction" do
    it "accepts an IgniterStore, an Interpreter and a RemoteDispatch" do
      remote = described_class::RemoteDispatch.new("http://127.0.0.1:1")
      [store, interpreter, remote].each { |target| expect { described_class.new(target) }.not_to raise_error }
    end

    it "rejects anything else naming the class" do
      expect { described_class.new("nope") }
        .to raise_error(ArgumentError, "MCPAdapter expects a Protocol::Interpreter, IgniterStore, or RemoteDispatch, got String")
    end

    it "enables exactly the read tools by default" do
      expect(mcp.enabled_tools).to eq(described_class::READ_TOOLS.to_set)
      expect(described_class::TOOL_TO_OP[:sync_profile]).to eq(:sync_hub_profile)
    end
  end

  describe "#tool_list" do
    it "lists every read tool in order with String name and description and a Hash schema" do
      list = mcp.tool_list
      expect(list.map { |t| t[:name] }).to eq(described_class::READ_TOOLS.map(&:to_s))
      expect(list.map(&:keys).uniq).to eq([%i[name description input_schema]])
      expect(list.all? { |t| t[:description].is_a?(String) && t[:input_schema][:type] == "object" }).to be(true)
    end

    it "carries the 0.5.2 descriptions and required arguments" do
      by_name = mcp.tool_list.to_h { |t| [t[:name], t] }
      expect(by_name["read"][:description]).to eq("Read the current (or as_of) value for one key.")
      expect(by_name["read"][:input_schema][:required]).to eq(%w[store key])
      expect(by_name["query"][:input_schema][:required]).to eq(%w[store limit])
      expect(by_name["query"][:input_schema][:properties][:limit]).to eq(type: "integer")
      expect(by_name["replay"][:input_schema]).not_to have_key(:required)
      expect(by_name["metadata_snapshot"][:input_schema]).to eq(type: "object", properties: {})
    end

    it "lists only enabled read tools (strings accepted, unknown names ignored)" do
      limited = described_class.new(interpreter, enabled_tools: ["read", :query, :write_fact])
      expect(limited.tool_list.map { |t| t[:name] }).to eq(%w[read query])
    end
  end

  describe "#call_tool envelope" do
    it "has schema_version, request_id, source_protocol_op, status and result" do
      response = mcp.call_tool(:metadata_snapshot)
      expect(response.keys).to eq(%i[schema_version request_id source_protocol_op status result])
      expect(response).to include(schema_version: 1, source_protocol_op: :metadata_snapshot, status: :ok)
    end

    it "reports an unknown tool with a nil source op and the given request_id" do
      response = mcp.call_tool(:teleport, request_id: "r9")
      expect(response).to eq(schema_version: 1, request_id: "r9", source_protocol_op: nil, status: :error,
                             error: "Tool :teleport is not enabled")
    end

    it "echoes request_id and keeps it on an argument error" do
      expect(mcp.call_tool(:metadata_snapshot, request_id: "abc")[:request_id]).to eq("abc")
      failed = mcp.call_tool(:query, { "request_id" => "q1", "store" => "tasks" })
      expect(failed).to include(request_id: "q1", status: :error, source_protocol_op: :query)
    end

    it "generates an mcp_ request id when none is given" do
      expect(mcp.call_tool(:descriptor_snapshot)[:request_id]).to match(/\Amcp_[0-9a-f]+\z/)
    end

    it "refuses a disabled tool" do
      limited = described_class.new(interpreter, enabled_tools: [:read])
      expect(limited.call_tool(:query, store: "tasks", limit: 1)[:error]).to match(/not enabled/)
    end

    it "answers an enabled non-read tool with a nil result and no source op" do
      response = described_class.new(interpreter, enabled_tools: [:write_fact]).call_tool(:write_fact, store: "x")
      expect(response).to include(status: :ok, result: nil, source_protocol_op: nil)
    end

    it "never raises, even for arguments that are not a Hash" do
      expect(mcp.call_tool(:read, "oops")[:status]).to eq(:error)
    end
  end

  describe "embedded tools" do
    it "returns the metadata and descriptor snapshots" do
      interpreter.register(schema_version: 1, kind: :store, name: :tasks, key: :id, fields: [])
      expect(mcp.call_tool(:metadata_snapshot)[:result][:stores]).to have_key(:tasks)
      expect(mcp.call_tool(:descriptor_snapshot)[:result]).to include(:stores, :histories)
    end

    it "equals the wire dispatch result for metadata_snapshot" do
      wire = interpreter.wire.dispatch(protocol: :igniter_store, op: :metadata_snapshot)
      expect(mcp.call_tool(:metadata_snapshot)[:result]).to eq(wire[:result])
    end

    it "reads a value, or nil for a missing key" do
      seed_tasks
      expect(mcp.call_tool(:read, store: "tasks", key: "t2")[:result]).to eq(title: "Ship", status: "open")
      expect(mcp.call_tool(:read, store: "tasks", key: "zz")[:result]).to be_nil
    end

    it "reports a missing required argument as an internal error naming it" do
      expect(mcp.call_tool(:read, key: "t1")[:error]).to eq("Internal error: key not found: :store")
    end

    it "queries with limit and where, and requires limit" do
      seed_tasks
      expect(mcp.call_tool(:query, store: "tasks", limit: 2)[:result].size).to eq(2)
      expect(mcp.call_tool(:query, store: "tasks", where: { status: "open" }, limit: 5)[:result])
        .to eq([{ title: "Ship", status: "open" }])
      expect(mcp.call_tool(:query, store: "tasks")[:error]).to eq("query: requires limit:")
    end

    it "replays by store and by limit, and requires a bound" do
      seed_tasks
      interpreter.write(store: :other, key: "o", value: { n: 1 })
      by_store = mcp.call_tool(:replay, store: "tasks")[:result]
      expect([by_store[:count], by_store[:facts].class]).to eq([3, Array])
      expect(mcp.call_tool(:replay, limit: 1)[:result][:count]).to eq(1)
      expect(mcp.call_tool(:replay, {})[:error]).to match(/bounding/)
    end

    it "returns the causation chain, lineage and a value-free fact ref" do
      first = seed_tasks
      expect(mcp.call_tool(:causation_chain, store: "tasks", key: "t1")[:result][:count]).to eq(2)
      lineage = mcp.call_tool(:lineage, store: "tasks", key: "t1")[:result]
      expect(lineage[:subject]).to eq(store: :tasks, key: "t1")
      expect(lineage).to include(:depth, :proof_hash)
      ref = mcp.call_tool(:fact_ref, fact_id: first.fact_id)[:result]
      expect(ref[:found]).to be(true)
      expect(ref[:ref]).to include(id: first.fact_id, store: :tasks, key: "t1")
      expect(ref[:ref]).not_to have_key(:value)
    end

    it "resolves a relation and reports an unknown one as an argument error" do
      expect(mcp.call_tool(:resolve, relation: "nope", from: "x")[:error]).to eq("No relation registered: :nope")
    end

    it "returns a SyncProfile struct for sync_profile" do
      seed_tasks
      profile = mcp.call_tool(:sync_profile, stores: ["tasks"])[:result]
      expect(profile).to be_a(Igniter::Store::Protocol::SyncProfile)
      expect(profile.fact_count).to eq(3)
    end

    it "returns nil storage stats for a memory store" do
      expect(mcp.call_tool(:storage_stats)[:result]).to be_nil
    end

    it "returns String-keyed storage data for a segmented store" do
      with_tmpdir do |dir|
        seg = Igniter::Store.segmented(dir)
        seg.write(store: :readings, key: "r1", value: { v: 1 })
        adapter = described_class.new(seg)
        stats = adapter.call_tool(:storage_stats)[:result]
        manifest = adapter.call_tool(:segment_manifest, store: "readings")[:result]
        expect(stats["stores"]["readings"]["fact_count"]).to eq(1)
        expect(manifest["stores"]["readings"]["segments"]).to be_an(Array)
      ensure
        seg&.close
      end
    end
  end

  describe "compaction_activity tool" do
    before do
      store.set_retention(:things, strategy: :ephemeral)
      2.times { |i| interpreter.write(store: :things, key: "k", value: { i: i }) }
      store.compact(:things)
      doomed = interpreter.write(store: :other, key: "x", value: { n: 1 })
      store.prune_fact_ids(fact_ids: [doomed.fact_id], reason: :erasure)
    end

    def activity(args = {})
      mcp.call_tool(:compaction_activity, args)
    end

    it "is listed with its description and optional filters" do
      entry = mcp.tool_list.find { |t| t[:name] == "compaction_activity" }
      expect(entry[:description]).to eq("Return normalized compaction lifecycle activity (retention compact, exact prune, segment purge).")
      expect(entry[:input_schema][:properties].keys).to eq(%i[store kind since limit])
      expect(entry[:input_schema]).not_to have_key(:required)
    end

    it "maps to the compaction_activity protocol op" do
      expect(activity[:source_protocol_op]).to eq(:compaction_activity)
    end

    it "returns every entry with nil filters" do
      result = activity[:result]
      expect(result.keys).to eq(%i[schema_version generated_at filters activity count])
      expect(result[:filters]).to eq(store: nil, kind: nil, since: nil, limit: nil)
      expect(result[:activity].map { |e| e[:kind] }).to eq(%i[retention_compaction exact_prune])
    end

    it "filters by store" do
      expect(activity(store: "things")[:result][:count]).to eq(1)
    end

    it "filters by kind" do
      expect(activity(kind: "exact_prune")[:result][:activity].map { |e| e[:reason] }).to eq([:erasure])
    end

    it "filters by since" do
      expect(activity(since: Time.now.to_f + 60)[:result][:count]).to eq(0)
    end

    it "applies limit" do
      expect(activity(limit: 1)[:result][:count]).to eq(1)
    end

    it "echoes the filters" do
      expect(activity(since: 1_714_000_000, limit: 10)[:result][:filters])
        .to eq(store: nil, kind: nil, since: 1_714_000_000.0, limit: 10)
    end

    it "returns an empty activity for an untouched store" do
      expect(activity(store: "nothing")[:result][:activity]).to eq([])
    end

    it "reports a negative limit as an argument error" do
      expect(activity(limit: -1)).to include(status: :error, error: match(/limit must be >= 0/))
    end

    it "equals the wire dispatch result apart from generated_at" do
      wire = interpreter.wire.dispatch(protocol: :igniter_store, op: :compaction_activity, packet: { store: "things" })
      tool = activity(store: "things")[:result]
      expect(tool.reject { |k, _| k == :generated_at }).to eq(wire[:result].reject { |k, _| k == :generated_at })
    end
  end
end
