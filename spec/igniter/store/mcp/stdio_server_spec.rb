# frozen_string_literal: true

require "igniter/store/cli"
require_relative "mcp_child"

# `igniter-ledger mcp` as a child process with a scripted JSON-RPC client on
# its stdin/stdout: the protocol's edges and errors.
RSpec.describe "igniter-ledger mcp over stdio (scripted client)", :servers do
  let(:dir) { Dir.mktmpdir("igniter-mcp") }
  # An existing (empty) ledger: without --allow-writes the command opens it read-only.
  let(:wal) { File.join(dir, "ledger.wal").tap { |path| FileUtils.touch(path) } }

  after { FileUtils.rm_rf(dir) }

  def with_child(*args)
    child = LedgerSpec::McpChild.new(args.empty? ? ["--path", wal] : args)
    yield child
  ensure
    child&.kill
  end

  it "negotiates the protocol version: the client's when supported, else the newest" do
    with_child do |child|
      expect(child.initialize_session("2024-11-05")[:result]).to include(protocolVersion: "2024-11-05",
                                                                        serverInfo: { name: "igniter-ledger", version: Igniter::Store::VERSION })
    end
    with_child do |child|
      expect(child.initialize_session("1999-01-01")[:result][:protocolVersion]).to eq("2025-11-25")
      expect(child.request(1, "initialize", protocolVersion: 7)[:error])
        .to eq(code: -32_602, message: "Invalid params: protocolVersion must be a string")
    end
  end

  it "answers malformed messages with the standard JSON-RPC error codes" do
    with_child do |child|
      child.initialize_session
      child.send_line("{not json")
      expect(child.receive).to eq(jsonrpc: "2.0", id: nil, error: { code: -32_700, message: "Parse error: the line is not valid JSON" })
      child.send_message(id: 5, method: "ping")
      expect(child.receive).to include(id: 5, error: include(code: -32_600))
      child.send_message(jsonrpc: "2.0", id: { no: 1 }, method: "ping")
      expect(child.receive).to include(id: nil, error: { code: -32_600, message: "Invalid Request: id must be a string or an integer" })
      expect(child.request(6, "resources/list")).to include(id: 6, error: { code: -32_601, message: "Method not found: resources/list" })
      expect(child.request(7, "tools/list", [1])).to include(error: { code: -32_602, message: "Invalid params: params must be an object" })
      expect(child.request(8, "tools/call", {})).to include(error: { code: -32_602, message: "Invalid params: tools/call needs a tool name" })
      expect(child.call(9, "nope")).to include(error: { code: -32_602, message: "Unknown tool: nope" })
      expect(child.call(10, "read", [1])).to include(error: { code: -32_602, message: "Invalid params: arguments must be an object" })
      child.send_line("[]")
      expect(child.receive).to include(error: { code: -32_600, message: "Invalid Request: empty batch" })
    end
  end

  it "reports a failing tool as a result with isError, and the ledger keeps serving" do
    with_child do |child|
      child.initialize_session
      expect(child.call(1, "read", { store: "tasks" })[:result])
        .to eq(content: [{ type: "text", text: "read: missing required argument key" }], isError: true)
      expect(child.call(2, "query", { store: "tasks", limit: -1 })[:result])
        .to eq(content: [{ type: "text", text: "query: limit must be >= 0, got -1" }], isError: true)
      expect(child.call(3, "history", { key: "k" })[:result][:content].first[:text]).to eq("history: missing required argument store")
      expect(child.call(4, "stats")[:result]).to include(isError: false, structuredContent: include(fact_count: 0))
    end
  end

  it "offers write only with --allow-writes" do
    with_child do |child|
      child.initialize_session
      names = child.request(1, "tools/list")[:result][:tools].map { |t| t[:name] }
      expect(names).to include("read", "history", "query", "stats", "storage_stats")
      expect(names).not_to include("write")
      expect(child.call(2, "write", { store: "s", key: "k", value: 1 })[:error]).to eq(code: -32_602, message: "Unknown tool: write")
    end
  end

  it "answers nothing to notifications, answers a batch with an array, and leaves stdout to JSON-RPC" do
    with_child("--path", wal, "--allow-writes") do |child|
      child.initialize_session
      child.send_message(jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99 })
      expect(child.request(1, "ping")).to eq(jsonrpc: "2.0", id: 1, result: {})
      child.send_line(JSON.generate([{ jsonrpc: "2.0", id: "a", method: "ping" }, { jsonrpc: "2.0", method: "notifications/initialized" },
                                     { jsonrpc: "2.0", id: "b", method: "tools/call",
                                       params: { name: "write", arguments: { store: "s", key: "k", value: { n: 1 } } } }]))
      batch = child.receive
      expect(batch.map { |r| r[:id] }).to eq(%w[a b])
      expect(batch.last[:result][:structuredContent]).to include(status: "accepted")
      status, rest, stderr = child.finish
      expect(status.exitstatus).to eq(0)
      messages = (child.stdout_lines + rest.lines).flat_map { |line| [JSON.parse(line)].flatten }
      expect(messages).to all(include("jsonrpc" => "2.0"))
      expect(stderr).to include("igniter-ledger mcp: serving #{wal} over stdio (writes allowed)", "spec 1 connected (protocol 2025-11-25)")
    end
    reopened = Igniter::Store.open(wal)
    expect(reopened.read(store: :s, key: "k")).to eq(n: 1)
    reopened.close
  end

  it "leaves out structuredContent for protocol revisions before 2025-06-18" do
    with_child do |child|
      child.initialize_session("2025-03-26")
      expect(child.call(1, "stats")[:result].keys).to eq(%i[content isError])
    end
  end

  it "turns a server that cannot be reached into a tool error" do
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] } # a port nothing listens on
    with_child("--url", "127.0.0.1:#{port}") do |child|
      child.initialize_session
      result = child.call(1, "read", { store: "tasks", key: "t1" })[:result]
      expect(result[:isError]).to be(true)
      expect(result[:content].first[:text]).to match(/Connection refused|ECONNREFUSED/)
    end
  end

  it "refuses a write the server's token does not allow, as a tool error" do
    server = build_server(auth_token: "right")
    server.start_adapters(http_port: 0)
    with_child("--url", server.http_adapter.bind_address, "--allow-writes", "--token", "wrong") do |child|
      child.initialize_session
      result = child.call(1, "write", { store: "s", key: "k", value: 1 })[:result]
      expect(result[:isError]).to be(true)
      expect(result[:content].first[:text]).to include("returned 401")
      expect(server.store.fact_count).to eq(0)
    end
  end

  describe "the command line" do
    def run_cli(*args)
      out = StringIO.new
      err = StringIO.new
      status = Igniter::Store::CLI::Main.new(out: out, err: err, env: {}).run(["mcp", *args])
      [status, out.string, err.string]
    end

    it "needs exactly one of --path and --url (exit 64)" do
      expect(run_cli).to eq([64, "", "igniter-ledger mcp: give one of --path or --url\n#{Igniter::Store::CLI::Mcp::USAGE}\n"])
      expect(run_cli("--path", "a", "--url", "b").first).to eq(64)
      expect(run_cli("--bogus")[2]).to start_with("igniter-ledger mcp: invalid option: --bogus")
    end

    it "exits 1 naming the reason when the ledger cannot be opened" do
      status, out, err = run_cli("--path", dir)
      expect([status, out]).to eq([1, ""])
      expect(err).to start_with("igniter-ledger mcp: cannot open the ledger: ")
    end

    it "opens the ledger read-only without --allow-writes: a missing one is an error, a torn tail stays on disk" do
      missing = File.join(dir, "missing.wal")
      status, _out, err = run_cli("--path", missing)
      expect(status).to eq(74) # a file system refusal (cli/filesystem_failure.rb)
      expect(err).to eq("igniter-ledger mcp: cannot open #{missing}: no such file or directory; check the path\n")
      expect(File.exist?(missing)).to be(false)

      writer = Igniter::Store.open(wal)
      writer.write(store: :s, key: "k", value: { n: 1 })
      writer.close
      File.open(wal, "ab") { |io| io.write("\x00\x00\x01") }
      before = File.binread(wal)
      with_child do |child|
        child.initialize_session
        expect(child.call(1, "read", { store: "s", key: "k" })[:result]).to include(isError: false)
        expect(child.finish.first.exitstatus).to eq(0)
      end
      expect(File.binread(wal)).to eq(before)
      expect(Dir.children(dir).sort).to eq(%w[ledger.wal ledger.wal.lock])
    end

    it "is listed by igniter-ledger --help" do
      out = StringIO.new
      Igniter::Store::CLI::Main.new(out: out, err: StringIO.new, env: {}).run(["--help"])
      # The column width follows the longest command name.
      expect(out.string).to match(/^  mcp +serve one ledger to an MCP client over stdio \(mcp --help\)$/)
    end
  end
end
