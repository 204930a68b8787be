# frozen_string_literal: true

# The HTTP API against its own OpenAPI document, with the real tools:
# openapi-spec-validator checks the document, schemathesis generates
# requests from it (valid and invalid ones, a bounded number per endpoint)
# against a real server and checks every answer: no 5xx, every status
# documented, every body and content type as the document says. Both tools
# come from PyPI into tmp/schemathesis (bin/setup installs them; `rake
# spec:openapi` runs this file on both paths).
RSpec.describe "the HTTP API against its OpenAPI document", :servers do
  include LedgerSpec::AdapterHelpers
  venv = File.join(LedgerSpec::ROOT, "tmp/schemathesis/bin")
  schemathesis = File.join(venv, "schemathesis")
  python = File.join(venv, "python")

  # Examples per endpoint per phase; the whole run stays well under a minute.
  max_examples = Integer(ENV.fetch("SCHEMATHESIS_MAX_EXAMPLES", "30"))
  # The event stream never ends (its own specs read it); the console is HTML
  # with its browser specs.
  excluded = %w[/v1/events /ui]
  checks = %w[not_a_server_error status_code_conformance content_type_conformance response_schema_conformance
              response_headers_conformance]

  before(:all) do
    unless File.executable?(schemathesis) && File.executable?(python)
      raise "schemathesis is not installed in tmp/schemathesis: run bin/setup"
    end
  end

  let(:server) do
    start_server.tap do |s|
      s.start_adapters(http_port: 0)
      # Something to find: a key with history, another store, an access path.
      store = s.store
      store.write(store: :tasks, key: "t1", value: { title: "Ship", status: :open })
      store.write(store: :tasks, key: "t1", value: { title: "Ship", status: :done })
      store.write(store: :notes, key: "n1", value: "plain")
      store.register_path(Igniter::Store.access_path(store: :tasks, scope: :done, filters: { status: :done }))
    end
  end
  let(:base) { "http://#{server.http_adapter.bind_address}" }

  it "serves a valid OpenAPI 3 document at /v1/openapi.json" do
    response = http_get(port_of(server.http_adapter.bind_address), "/v1/openapi.json")
    expect([response.code, response["Content-Type"]]).to eq(%w[200 application/json])
    document = JSON.parse(response.body)
    expect(document["paths"].keys).to include("/v1/dispatch", "/v1/health", "/v1/events", "/metrics", "/v1/openapi.json")
    out, status = Dir.mktmpdir("openapi") do |dir|
      path = File.join(dir, "openapi.json")
      File.write(path, response.body)
      Open3.capture2e(python, "-m", "openapi_spec_validator", path)
    end
    expect(status.success?).to be(true), out
    expect(out).to include("OK")
  end

  it "answers schemathesis' generated requests with no 5xx and nothing the document does not say" do
    args = [schemathesis, "run", "#{base}/v1/openapi.json", "--max-examples", max_examples.to_s,
            "--phases", "examples,coverage,fuzzing", "--checks", checks.join(","), "--workers", "1",
            "--generation-database", "none", "--no-color", "--request-timeout", "10", "--max-time", "25",
            *excluded.flat_map { |path| ["--exclude-path", path] }]
    # Its caches and reports go to a directory of this example, not the checkout.
    out, status = Dir.mktmpdir("schemathesis") do |dir|
      Open3.capture2e({ "SCHEMATHESIS_HOOKS" => nil }, *args, chdir: dir)
    end
    summary = out[/=+ SUMMARY =+.*\z/m] || out[-3000..] || out
    $stdout.puts "\nschemathesis (#{Igniter::Store::NATIVE ? "native" : "pure"}):\n#{summary}"
    expect(status.exitstatus).to eq(0), out[-20_000..] || out
    expect(out).to match(/Tested: (\d+)/)
    expect(out[/Tested: (\d+)/, 1].to_i).to eq(out[/Selected: (\d+)/, 1].to_i)
    expect(out).to match(/(\d+) generated/)
    expect(out[/(\d+) generated/, 1].to_i).to be >= 100
  end
end
