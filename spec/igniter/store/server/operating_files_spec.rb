# frozen_string_literal: true

require "open3"

# doc/operating.md quotes the files of examples/operating/; they must stay true:
# the page shows them verbatim, promtool accepts and unit-tests the alert rules,
# every metric a rule names is in a real server's /metrics, and systemd accepts
# the unit.
RSpec.describe "The operating files (doc/operating.md)", :servers do
  include LedgerSpec::AdapterHelpers

  DIR = File.join(LedgerSpec::ROOT, "examples", "operating")
  PAGE = File.read(File.join(LedgerSpec::ROOT, "doc", "operating.md"))

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  def run!(*cmd, chdir: @dir)
    out, status = Open3.capture2e(*cmd, chdir: chdir)
    expect(status).to be_success, "#{cmd.join(" ")}:\n#{out}"
    out
  end

  def tool!(name)
    path = ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).map { |d| File.join(d, name) }.find { |f| File.executable?(f) }
    skip "#{name} is not installed" unless path
    path
  end

  %w[igniter-ledger.service Containerfile ledger.yml prometheus.yml igniter-ledger.rules.yml].each do |file|
    it "quotes #{file} verbatim" do
      expect(PAGE).to include(File.read(File.join(DIR, file)))
    end
  end

  it "has alert rules promtool accepts, whose unit test passes" do
    promtool = promtool!
    FileUtils.cp(Dir[File.join(DIR, "*")], @dir)
    File.write(File.join(@dir, "read.token"), "token\n")
    expect(run!(promtool, "check", "rules", "igniter-ledger.rules.yml")).to include("SUCCESS: 11 rules found")
    expect(run!(promtool, "check", "config", "prometheus.yml")).to include("valid prometheus config file syntax")
    expect(run!(promtool, "test", "rules", "igniter-ledger.rules.test.yml")).to include("SUCCESS")
  end

  it "names in its rules only metrics a running server exports" do
    server = build_server(backend: :file, path: File.join(@dir, "ledger.wal"), durability: :fsync)
    server.start_adapters(http_port: 0)
    server.start_async
    port = port_of(server.http_adapter.bind_address)
    http_post_json(port, "/v1/dispatch", envelope(:write, { store: "tasks", key: "k", value: {} }))
    # Every family has its HELP and TYPE lines, also before its first sample.
    types = http_get(port, "/metrics").body.scan(/^# TYPE (\S+) (\S+)$/).to_h
    named = File.read(File.join(DIR, "igniter-ledger.rules.yml")).scan(/igniter_ledger_[a-z_]+/).uniq
                .map { |name| types[name.delete_suffix("_bucket")] == "histogram" ? name.delete_suffix("_bucket") : name }
    exported = types.keys

    expect(named.size).to be >= 10
    expect(named - exported).to eq([])
  end

  it "has a unit systemd-analyze verify accepts" do
    analyze = tool!("systemd-analyze")
    # verify insists the command exists: point it at this checkout's executable.
    unit = File.read(File.join(DIR, "igniter-ledger.service"))
                 .sub("/usr/local/bin/igniter-ledger", File.join(LedgerSpec::ROOT, "exe", "igniter-ledger"))
    File.write(File.join(@dir, "igniter-ledger.service"), unit)
    out = run!(analyze, "verify", File.join(@dir, "igniter-ledger.service"))
    expect(out).to eq("")
  end
end
