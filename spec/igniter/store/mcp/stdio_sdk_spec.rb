# frozen_string_literal: true

# `igniter-ledger mcp` driven by the official MCP TypeScript SDK
# (@modelcontextprotocol/sdk from spec/browser/) over real stdio: once on a
# WAL file, once through a running server's HTTP API. Both paths: the
# server child runs on this run's path.
RSpec.describe "igniter-ledger mcp with the official MCP client", :servers do
  let(:script) { File.join(LedgerSpec::ROOT, "spec/browser/mcp_check.mjs") }

  before do
    unless File.directory?(File.join(LedgerSpec::ROOT, "spec/browser/node_modules/@modelcontextprotocol/sdk"))
      raise "spec/browser/node_modules is missing: run bin/setup (npm ci in spec/browser)"
    end
  end

  def run_client(args)
    path_env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
    env = ENV.to_h.reject { |k, _| k.start_with?("BUNDLE", "RUBYOPT") }.merge(path_env.compact)
    client_env = { "MCP_COMMAND" => RbConfig.ruby, "MCP_ARGS" => JSON.generate([File.join(LedgerSpec::ROOT, "exe/igniter-ledger"), "mcp", *args]),
                   "MCP_ENV" => JSON.generate(env) }
    out, err, status = Open3.capture3(client_env, "node", script, chdir: File.join(LedgerSpec::ROOT, "spec/browser"))
    expect(status).to be_success, "node failed: #{err}\n#{out}"
    seen = JSON.parse(out, symbolize_names: true)
    expect(seen[:error]).to be_nil, "#{seen[:error]}\nserver stderr: #{seen[:stderr]}"
    seen
  end

  def expect_a_working_session(seen)
    expect(seen[:server]).to eq(name: "igniter-ledger", version: Igniter::Store::VERSION)
    expect(seen[:capabilities]).to eq(tools: { listChanged: false })
    expect(seen[:instructions]).to include("append-only")
    tools = seen[:tools].to_h { |t| [t[:name], t[:required]] }
    expect(tools).to include("read" => %w[store key], "history" => %w[store key], "query" => %w[store limit],
                             "stats" => [], "write" => %w[store key value], "storage_stats" => [])
    expect(seen[:write]).to include(isError: false, structured: include(status: "accepted", store: "tasks", key: "t1"))
    expect(seen[:read]).to eq(isError: false, value: { title: "Ship", status: "done" })
    expect(seen[:history][:facts].map { |f| f[:value][:status] }).to eq(%w[open done])
    expect(seen[:query]).to eq([{ title: "Later", status: "open" }])
    expect(seen[:stats]).to include(fact_count: 3, store_count: 1, key_count: 2)
    expect(seen[:stats][:stores]).to match([include(store: "tasks", facts: 3, keys: 2)])
    expect_bitemporal_reads(seen)
    expect(seen[:chain][:count]).to eq(2)
    expect(seen[:missingArgument]).to eq(isError: true, text: "read: missing required argument key")
    expect(seen[:unknownTool]).to eq(code: -32_602, message: "MCP error -32602: Unknown tool: drop_everything")
    expect(seen[:ping]).to be(true)
  end

  # The client's valid-time reads of prices/p1: a (Jan 1), b (Mar 1), c (Feb 1, written last).
  def expect_bitemporal_reads(seen)
    expect(seen[:schemas]).to eq(read: %w[store key as_of valid_at], history: %w[store key since as_of valid_from valid_to])
    expect(seen[:validAt].except(:bad)).to eq(feb15: "c", jan2: "a", before: nil, now: "b", plain: "c")
    expect(seen[:validAt][:bad]).to eq(isError: true, text: "valid_at must be seconds since the epoch or an ISO-8601 time " \
                                                            'with a zone (2026-11-26T10:30:21Z), got "soon"')
    history = seen[:validHistory]
    expect(history[:facts].map { |f| f[:value] }).to eq(%w[a c b])
    expect(history[:facts].map { |f| f[:valid_time_iso] })
      .to eq(%w[2026-01-01T00:00:00.000000000Z 2026-02-01T00:00:00.000000000Z 2026-03-01T00:00:00.000000000Z])
    expect(history[:count]).to eq(3)
  end

  it "serves a WAL file: lists the tools, writes and reads through them" do
    with_tmpdir do |dir|
      path = File.join(dir, "ledger.wal")
      seen = run_client(["--path", path, "--allow-writes"])
      expect_a_working_session(seen)
      expect(seen[:stderr]).to include("serving #{path} over stdio (writes allowed)", "igniter-ledger-spec 1.0.0 connected")
      reopened = Igniter::Store.open(path)
      expect(reopened.history(store: :tasks, key: "t1").map { |f| f.value[:status] }).to eq(%w[open done])
      reopened.close
    end
  end

  it "serves a running server through its HTTP API, with the server's token" do
    server = build_server(auth_token: "tok")
    server.start_adapters(http_port: 0)
    seen = run_client(["--url", server.http_adapter.bind_address, "--allow-writes", "--token", "tok"])
    expect_a_working_session(seen)
    expect(server.store.read(store: :tasks, key: "t2")).to eq(title: "Later", status: "open")
  end
end
