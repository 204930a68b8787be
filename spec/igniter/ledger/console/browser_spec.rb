# frozen_string_literal: true

require "net/http"
require "igniter/ledger/console"

# The console in real headless Chromium (Debian's `chromium`, driven by
# playwright-core from spec/browser/), against a real server on loopback:
# facts written through the HTTP API, then what the pages show.
#
# It runs once per `rake`, in the native run: the console is pure Ruby over
# the store's public read API, whose two paths are pinned by every other
# spec (the console's own Rack specs run on both); a second Chromium session
# would test the same markup again at the cost of a browser start.
RSpec.describe "Web console in headless Chromium", :servers do
  let(:token) { "console-secret" }
  let(:chromium) { "/usr/bin/chromium" }
  let(:script) { File.join(LedgerSpec::ROOT, "spec/browser/console_check.mjs") }
  let(:artifacts) { File.join(LedgerSpec::ROOT, "tmp/artifacts/console") }
  let(:probe) do
    { store: %(<script>window.__igniterXss=true</script>"'), key: %("><img src=x onerror="window.__igniterXss=true">'),
      value: { note: "<script>window.__igniterXss=true</script>", quote: %('single' "double" </pre>) } }
  end

  before do
    skip "runs once per rake, in the native run (see the comment above)" if ENV["IGNITER_LEDGER_PURE"] == "1"
    raise "#{chromium} is missing: run bin/setup (installs Debian's chromium)" unless File.executable?(chromium)
    unless File.directory?(File.join(LedgerSpec::ROOT, "spec/browser/node_modules/playwright-core"))
      raise "spec/browser/node_modules is missing: run bin/setup (npm ci in spec/browser)"
    end
  end

  def dispatch(http, op, packet)
    request = Net::HTTP::Post.new("/v1/dispatch", "Content-Type" => "application/json", "Authorization" => "Bearer #{token}")
    request.body = JSON.generate(protocol: "igniter_store", op: op, packet: packet)
    reply = JSON.parse(http.request(request).body, symbolize_names: true)
    raise "write failed: #{reply}" unless reply[:status] == "ok" && reply[:result][:status] == "accepted"

    reply[:result]
  end

  def fact_time(server, id)
    server.store.fact_by_id(id).transaction_time
  end

  it "shows stores, keys, a history diff, time travel and live writes, escaping every value" do
    server = build_server(auth_token: token, auth_reads: true)
    server.start_adapters(http_port: 0)
    server.start_async
    host, port = server.http_adapter.bind_address.split(":")
    first = nil
    Net::HTTP.start(host, Integer(port)) do |http|
      first = dispatch(http, "write", { store: "tasks", key: "t1", value: { title: "Ship", status: "open", owner: "ana" } })
      sleep 0.01
      dispatch(http, "write", { store: "tasks", key: "t1", value: { title: "Ship it", status: "open", owner: "ana", priority: 1 } })
      dispatch(http, "write", { store: "tasks", key: "t2", value: { title: "Later" } })
      dispatch(http, "write", { store: "tasks", key: "t1", value: { title: "Ship it", status: "done", priority: 1 } })
      dispatch(http, "write", { store: "notes", key: "n1", value: "plain text" })
      dispatch(http, "write", probe)
    end
    first_tt = fact_time(server, first[:fact_id])
    fixture = { store: "tasks", key: "t1", first_iso: Time.at(first_tt.to_r).utc.iso8601(6), probe: probe }
    FileUtils.rm_rf(artifacts)
    env = { "CONSOLE_URL" => "http://#{host}:#{port}/ui", "DISPATCH_URL" => "http://#{host}:#{port}/v1/dispatch",
            "CONSOLE_TOKEN" => token, "ARTIFACTS" => artifacts, "FIXTURE" => JSON.generate(fixture) }
    out, err, status = Open3.capture3(env, "node", script, chdir: File.join(LedgerSpec::ROOT, "spec/browser"))
    expect(status).to be_success, "node failed (#{status}): #{err}\n#{out}"
    seen = JSON.parse(out, symbolize_names: true)
    expect(seen[:error]).to be_nil, "#{seen[:error]}\nat #{seen[:failedAt]}: #{seen[:failedText]}"

    # Signed in through the form; a wrong token is refused with a notice.
    expect(seen[:login]).to include(status: 401, form: 1, afterUrl: "http://#{host}:#{port}/ui/")
    expect(seen[:login][:wrongTokenNotice]).to eq("That token is not the console's token.")

    expect(seen[:stores]).to include({ store: "tasks", facts: 4, keys: 2 }, { store: "notes", facts: 1, keys: 1 },
                                     { store: probe[:store], facts: 1, keys: 1 })
    expect(seen[:keys]).to eq([
                                { key: "t1", value: JSON.generate(title: "Ship it", status: "done", priority: 1), versions: 3 },
                                { key: "t2", value: JSON.generate(title: "Later"), versions: 1 }
                              ])

    # Newest first; each version against the one before.
    expect(seen[:history].map { |v| [v[:version], v[:current]] }).to eq([[3, true], [2, false], [1, false]])
    expect(seen[:history][0][:diff]).to eq([
                                             { path: "status", change: "changed", from: '"open"', to: '"done"' },
                                             { path: "owner", change: "removed", from: '"ana"', to: "" }
                                           ])
    expect(seen[:history][1][:diff]).to eq([
                                             { path: "title", change: "changed", from: '"Ship"', to: '"Ship it"' },
                                             { path: "priority", change: "added", from: "", to: "1" }
                                           ])
    expect(seen[:history][2][:diff].map { |c| [c[:path], c[:change]] })
      .to eq([%w[title added], %w[status added], %w[owner added]])
    expect(JSON.parse(seen[:currentValue])).to eq("title" => "Ship it", "status" => "done", "priority" => 1)

    # As of the first version: its value, it is current, the later ones are marked.
    expect(JSON.parse(seen[:travelKey][:value])).to eq("title" => "Ship", "status" => "open", "owner" => "ana")
    expect(seen[:travelKey]).to include(current: [1], later: [3, 2])
    expect(seen[:travelKey][:heading]).to start_with("Value as of #{fixture[:first_iso]} (version 1)")
    # Typed as ISO-8601 (microseconds) on the store page: t2 did not exist yet.
    expect(seen[:travelStore][:keys]).to eq([{ key: "t1", value: JSON.generate(title: "Ship", status: "open", owner: "ana"),
                                               versions: 1 }])
    expect(seen[:travelStore][:validAtDisabled]).to be(false)

    # Markup in a store, key or value is shown as text, never run or parsed.
    expect(seen[:escaping][:heading]).to eq("#{probe[:store]} / #{probe[:key]}")
    expect(JSON.parse(seen[:escaping][:value])).to eq(probe[:value].transform_keys(&:to_s))
    expect(seen[:escaping][:storeKeyCell].strip).to eq(probe[:key])
    expect(seen[:escaping]).to include(injected: false, images: 0)
    expect(seen[:escaping][:scripts]).to eq(["/ui/assets/console.js"])
    expect(seen[:dialogs]).to be_empty
    expect(seen[:pageErrors]).to be_empty

    # The write made while the feed page was open arrived over SSE, on top.
    expect(seen[:feedWrite]).to include(status: "ok")
    expect(seen[:feed][:first]).to eq(seen[:feed][:key])
    expect(seen[:feed][:value]).to eq(JSON.generate(title: "from the feed test"))
    expect(seen[:feed]).to include(images: 0, injected: false, probeKey: probe[:key])

    # Charts drawn from samples of api/status; a write between two samples
    # makes the fact count's line climb (SVG y grows downwards).
    charts = seen[:status][:charts].to_h { |c| [c[:series], c] }
    expect(charts.keys).to include("facts in ledger", "keys", "facts written", "requests", "connections", "feed events")
    expect(charts["facts in ledger"][:latest]).to eq("8")
    ys = charts["facts in ledger"][:points].map(&:last)
    expect(ys.size).to be >= 3
    expect(ys.last).to be < ys.first

    expect(seen[:screenshots].map { |p| File.basename(p) })
      .to eq(%w[stores.png history-diff.png time-travel-key.png time-travel-store.png escaping.png live-feed.png status.png])
    seen[:screenshots].each { |path| expect(File.size(path)).to be > 10_000 }
  end
end
