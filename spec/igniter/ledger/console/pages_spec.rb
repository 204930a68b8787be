# frozen_string_literal: true

require_relative "console_helpers"

RSpec.describe Igniter::Ledger::Console, :console do
  let(:store) { Igniter::Store.memory }
  let(:app) { console_for(store) }

  def write(key, value, store_name: :tasks, **opts)
    fact = store.write(store: store_name, key: key, value: value, **opts)
    sleep 0.002 # distinct transaction times
    fact
  end

  describe "the stores page" do
    it "lists each store with its fact and key counts, engine stores apart" do
      write("t1", { a: 1 })
      write("t1", { a: 2 })
      write("t2", { a: 3 })
      write("n1", "x", store_name: :notes)
      store.set_retention(:tasks, strategy: :ephemeral)
      store.compact(:tasks)
      status, census = api(app, "/api/stores")
      expect(status).to eq(200)
      tasks = census[:stores].find { |s| s[:store] == "tasks" }
      expect(tasks).to include(facts: 2, keys: 2, internal: false)
      expect(census[:stores].find { |s| s[:store] == "__compaction_receipts" }).to include(facts: 1, internal: true)
      page = get(app, "/").body
      expect(page).to include(%(<tr data-store="tasks">), %(<table class="engine-stores">))
      expect(page[/<table class="stores">.*?<\/table>/m]).not_to include("__compaction_receipts")
    end
  end

  describe "the keys of a store" do
    it "shows the latest value of every key, sorted, with its version count" do
      write("b", { n: 1 })
      write("a", { n: 2 })
      write("b", { n: 3 })
      _, data = api(app, "/api/keys?store=tasks")
      expect(data[:rows].map { |r| [r[:key], r[:value], r[:versions]] }).to eq([["a", { n: 2 }, 1], ["b", { n: 3 }, 2]])
    end

    it "pages the keys" do
      5.times { |i| write("k#{i}", { i: i }) }
      _, data = api(app, "/api/keys?store=tasks&per_page=2&page=3")
      expect(data).to include(total: 5, page: 3, pages: 3, per_page: 2)
      expect(data[:rows].map { |r| r[:key] }).to eq(["k4"])
      page = get(app, "/store?store=tasks&per_page=2&page=2").body
      expect(page).to include("page 2 of 3 (5 keys)", %(rel="prev"), %(rel="next"))
    end

    it "filters by a registered scope" do
      store.register_path(Igniter::Store.access_path(store: :tasks, lookup: :primary_key, scope: :open,
                                                     filters: { status: :open }, cache_ttl: nil, consumers: []))
      write("t1", { status: :open })
      write("t2", { status: :done })
      _, data = api(app, "/api/keys?store=tasks&scope=open")
      expect(data[:scopes]).to eq(["open"])
      expect(data[:rows].map { |r| r[:key] }).to eq(["t1"])
      expect(get(app, "/store?store=tasks").body).to include(%(<option value="open">open</option>))
    end

    it "answers an unregistered scope or a missing store with 400 and the reason" do
      status, body = api(app, "/api/keys?store=tasks&scope=nope")
      expect(status).to eq(400)
      expect(body[:error]).to include("No registered path", ":nope")
      expect(api(app, "/api/keys")).to eq([400, { error: "store is required" }])
      expect(get(app, "/store").status).to eq(400)
    end

    it "shows the values as of a transaction time" do
      first = write("t1", { n: 1 })
      write("t1", { n: 2 })
      write("t2", { n: 9 })
      _, data = api(app, "/api/keys?store=tasks&as_of=#{first.transaction_time}")
      expect(data[:rows].map { |r| [r[:key], r[:value], r[:versions]] }).to eq([["t1", { n: 1 }, 1]])
      expect(data[:time]).to include(as_of: first.transaction_time, valid_time_reads: true)
    end
  end

  describe "a key's history" do
    it "diffs each version against the one before, field by field, with nested paths" do
      write("t1", { title: "Ship", meta: { owner: "ana", tags: [1] } })
      write("t1", { title: "Ship", meta: { owner: "bo", tags: [1, 2] }, due: "mon" })
      write("t1", { title: "Shipped", meta: { owner: "bo", tags: [1, 2] } })
      _, data = api(app, "/api/history?store=tasks&key=t1")
      diffs = data[:versions].map { |v| v[:diff].map { |c| [c[:path], c[:change], c[:from], c[:to]] } }
      expect(diffs).to eq([
                            [["title", "added", nil, "Ship"], ["meta", "added", nil, { owner: "ana", tags: [1] }]],
                            [["meta.owner", "changed", "ana", "bo"], ["meta.tags", "changed", [1], [1, 2]], ["due", "added", nil, "mon"]],
                            [["title", "changed", "Ship", "Shipped"], ["due", "removed", "mon", nil]]
                          ])
      expect(data).to include(current_version: 3, found: true)
      page = get(app, "/key?store=tasks&key=t1").body
      expect(page).to include(%(<tr class="changed" data-path="meta.owner">), %(<tr class="removed" data-path="due">))
    end

    it "says so when a version repeats the value before it" do
      write("t1", { a: 1 })
      write("t1", { a: 1 })
      expect(get(app, "/key?store=tasks&key=t1").body).to include("same value as the version before")
    end

    it "marks the version current at the chosen time and those written after it" do
      write("t1", { n: 1 })
      second = write("t1", { n: 2 })
      write("t1", { n: 3 })
      _, data = api(app, "/api/history?store=tasks&key=t1&as_of=#{second.transaction_time}")
      expect(data[:value_as_of]).to eq(n: 2)
      expect(data[:versions].map { |v| [v[:version], v[:current], v[:later]] }).to eq([[1, false, false], [2, true, false], [3, false, true]])
      expect(get(app, "/key?store=tasks&key=t1&as_of=#{second.transaction_time}").body).to include("current then", "after the chosen time")
    end

    it "shows no value before the first version" do
      first = write("t1", { n: 1 })
      _, data = api(app, "/api/history?store=tasks&key=t1&as_of=#{first.transaction_time - 10}")
      expect(data).to include(value_as_of: nil, current_version: nil)
      expect(get(app, "/key?store=tasks&key=t1&as_of=#{first.transaction_time - 10}").body).to include("no value then")
    end

    it "refuses an as_of that is neither epoch seconds nor ISO-8601, naming it" do
      status, body = api(app, "/api/history?store=tasks&key=t1&as_of=yesterday")
      expect(status).to eq(400)
      expect(body[:error]).to eq('as_of must be seconds since the epoch or an ISO-8601 time (e.g. 2026-11-26T07:49:20.5Z), got "yesterday"')
    end

    it "shows the values valid at a valid time, as known as of a transaction time (doc/bitemporal.md)" do
      write("t1", { n: 1 }, valid_time: Time.utc(2026, 1, 1).to_f)
      second = write("t1", { n: 2 }, valid_time: Time.utc(2026, 3, 1).to_f)
      write("t1", { n: 3 }, valid_time: Time.utc(2026, 2, 1).to_f) # back-dated
      write("t2", { n: 9 }, valid_time: Time.utc(2026, 6, 1).to_f)
      _, data = api(app, "/api/history?store=tasks&key=t1&valid_at=2026-02-15T00:00:00Z")
      expect(data).to include(value_as_of: { n: 3 }, current_version: 3)
      expect(data[:time]).to include(valid_at: Time.utc(2026, 2, 15, 0, 0, 1).to_f.prev_float, valid_at_applied: true)
      _, data = api(app, "/api/history?store=tasks&key=t1&valid_at=2026-02-15T00:00:00Z&as_of=#{second.transaction_time}")
      expect(data).to include(value_as_of: { n: 1 }, current_version: 1)
      _, data = api(app, "/api/keys?store=tasks&valid_at=2026-02-15T00:00:00Z")
      expect(data[:rows].map { |r| [r[:key], r[:value], r[:versions]] }).to eq([["t1", { n: 3 }, 3]])
      page = get(app, "/key?store=tasks&key=t1&valid_at=2026-02-15T00:00:00Z").body
      expect(page).to include("Showing the values valid at")
      expect(page[/<input type="text" name="valid_at"[^>]*>/]).not_to include("disabled")
    end

    it "reports a valid_at it cannot apply, for a store whose reads take no valid time" do
      as_of_only = Class.new(Igniter::Store::IgniterStore) do
        def read(store:, key:, as_of: nil, ttl: nil)
          super
        end
      end
      narrow_store = as_of_only.new
      narrow_store.write(store: :tasks, key: "t1", value: { n: 1 })
      narrow = console_for(narrow_store)
      _, data = api(narrow, "/api/history?store=tasks&key=t1&valid_at=2026-01-01T00:00:00Z")
      expect(data[:time]).to include(valid_at: Time.utc(2026, 1, 1, 0, 0, 1).to_f.prev_float, valid_at_applied: false,
                                     valid_time_reads: false)
      page = get(narrow, "/key?store=tasks&key=t1&valid_at=2026-01-01T00:00:00Z").body
      expect(page).to include("is not applied: this ledger's reads do not take a valid time", "disabled")
    end
  end

  describe "a fact's causation chain" do
    it "follows causation back across stores and lists what the fact caused" do
      order = write("o1", { total: 5 }, store_name: :orders)
      task = write("t1", { n: 1 }, causation: order.id)
      later = write("t1", { n: 2 })
      _, data = api(app, "/api/fact?id=#{later.id}")
      expect(data[:causation_chain].map { |f| [f[:id], f[:store]] }).to eq([[task.id, "tasks"], [order.id, "orders"]])
      expect(data[:chain_end]).to eq("origin")
      _, middle = api(app, "/api/fact?id=#{task.id}")
      expect(middle[:caused].map { |f| f[:id] }).to eq([later.id])
      expect(get(app, "/fact?id=#{later.id}").body).to include(%(href="&#x2F;fact?id=#{order.id}"))
    end

    it "ends the chain at a cause the ledger no longer holds" do
      fact = write("t1", { n: 1 }, causation: "gone-elsewhere")
      _, data = api(app, "/api/fact?id=#{fact.id}")
      expect(data).to include(chain_end: "missing", causation_chain: [{ id: "gone-elsewhere", missing: true }])
    end

    it "answers an unknown id with found: false, and the page with 404" do
      expect(api(app, "/api/fact?id=nope")).to eq([200, { found: false, id: "nope" }])
      response = get(app, "/fact?id=nope")
      expect(response.status).to eq(404)
      expect(response.body).to include("No live fact has the id nope")
    end
  end

  describe "escaping" do
    let(:probe) { %(<script>alert("x")</script>'") }

    it "never lets a store name, key or value become markup, on any page" do
      write(probe, { probe => probe, note: "</pre><img src=x>" }, store_name: probe.to_sym)
      fact = store.history(store: probe.to_sym).last
      pages = ["/", "/store?#{Rack::Utils.build_query("store" => probe)}",
               "/key?#{Rack::Utils.build_query("store" => probe, "key" => probe)}", "/fact?id=#{fact.id}"]
      pages.each do |path|
        body = get(app, path).body
        expect(body).not_to include("<script>alert", "<img src=x", %("'))
        expect(body).to include("&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt;&#x27;&quot;")
      end
      _, data = api(app, "/api/keys?#{Rack::Utils.build_query("store" => probe)}")
      expect(data[:rows].first).to include(key: probe, value: { probe.to_sym => probe, note: "</pre><img src=x>" })
    end

    it "sends a Content-Security-Policy that allows no inline script" do
      headers = get(app, "/").headers
      expect(headers["Content-Security-Policy"]).to include("script-src 'self'", "default-src 'self'")
      expect(headers["X-Content-Type-Options"]).to eq("nosniff")
    end
  end

  describe "storage" do
    it "shows a backend's recovery report as it comes (a torn WAL tail)" do
      with_tmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        Igniter::Store.open(path).tap { |s| s.write(store: :t, key: "k", value: 1) }.close
        File.open(path, "ab") { |f| f.write("\x00\x00\x01torn") }
        opened = Igniter::Store.open(path)
        _, data = api(console_for(opened), "/api/storage")
        expect(data[:backend]).to eq("Igniter::Store::FileBackend")
        expect(data[:recovery]).to include(truncated_bytes: 7, tail: "torn")
        expect(get(console_for(opened), "/storage").body).to include("<th>truncated_bytes</th>")
        opened.close
      end
    end

    it "tables the quarantined spans of a recovery report, wherever the report lists them" do
      span = { file: "/data/seg-1.wal", offset: 4096, length: 17, reason: :bad_crc,
               quarantine_path: "/data/seg-1.wal.quarantine/00000000000000004096-17.bin" }
      backend_class = Struct.new(:recovery) do
        def capabilities = Igniter::Store::Capabilities.declare(:recovery)
        def write_fact(_fact) = nil
      end
      backend = backend_class.new({ files: { "seg-1.wal" => { mode: :salvage, quarantined: [span] } } })
      page = get(console_for(Igniter::Store::IgniterStore.new(backend: backend)), "/storage").body
      expect(page[/<table class="records quarantine">.*?<\/table>/m]).to include("4096", "17", "bad_crc", "00000000000000004096-17.bin")
    end

    it "shows a report that raises as its error, keeping the page" do
      backend = Class.new { def capabilities = Igniter::Store::Capabilities.declare(:recovery); def write_fact(_fact) = nil; def recovery = raise(IOError, "disk gone") }.new # rubocop:disable Style/SingleLineMethods
      status, data = api(console_for(Igniter::Store::IgniterStore.new(backend: backend)), "/api/storage")
      expect(status).to eq(200)
      expect(data[:recovery]).to eq(error: "IOError: disk gone")
    end

    it "lists compaction receipts" do
      write("t1", { n: 1 })
      write("t1", { n: 2 })
      store.set_retention(:tasks, strategy: :ephemeral)
      store.compact(:tasks)
      page = get(app, "/storage").body
      expect(page[/<table class="records receipts">.*?<\/table>/m]).to include("tasks", "ephemeral", %(<td class="count">1</td>))
    end
  end

  describe "status" do
    it "charts what the store knows when no server status is given" do
      write("t1", { n: 1 })
      _, data = api(app, "/api/status")
      expect(data).to include(source: "store", ledger: { fact_count: 1, store_count: 1, key_count: 1 })
      expect(data[:series]).to eq("facts in ledger": 1, keys: 1)
    end

    it "adds the server's metrics and the feed's counters when given them" do
      feed = Igniter::Store::ChangefeedBuffer.new
      status = -> { { status: :ready, uptime_ms: 5, metrics: { facts_written: 3, requests_total: { write: 2, read: 4 } } } }
      _, data = api(console_for(store, changefeed: feed, status: status), "/api/status")
      expect(data).to include(source: "server", status: "ready", uptime_ms: 5)
      expect(data[:series]).to include("facts written": 3, requests: 6, "feed events": 0)
    end
  end

  it "is read-only: anything but GET and HEAD gets 405" do
    response = Rack::MockRequest.new(app).post("/store?store=tasks")
    expect(response.status).to eq(405)
    expect(response.headers["Allow"]).to eq("GET, HEAD")
  end

  it "answers an unknown path with 404" do
    expect(get(app, "/nowhere").status).to eq(404)
    expect(api(app, "/api/nowhere")).to eq([404, { error: "Not found: /api/nowhere" }])
  end

  it "serves its own stylesheet and script with an ETag" do
    response = get(app, "/assets/console.js")
    expect(response.status).to eq(200)
    expect(response.headers["Content-Type"]).to eq("text/javascript; charset=utf-8")
    expect(get(app, "/assets/console.js", "HTTP_IF_NONE_MATCH" => response.headers["ETag"]).status).to eq(304)
    expect(get(app, "/assets/console.css").headers["Content-Type"]).to eq("text/css; charset=utf-8")
  end

  it "builds every link under its mount point" do
    write("t1", { n: 1 })
    mounted = Rack::URLMap.new("/ledger" => app)
    page = get(mounted, "/ledger/store?store=tasks").body
    expect(page).to include(%(href="&#x2F;ledger&#x2F;key?store=tasks&amp;key=t1"), %(src="&#x2F;ledger&#x2F;assets&#x2F;console.js"))
  end

  it "refuses what it cannot show" do
    expect { described_class.new(Object.new) }.to raise_error(ArgumentError, "Console expects an Igniter::Store::IgniterStore, got Object")
    expect { described_class.new(store, token: "") }.to raise_error(ArgumentError, "token must be a non-empty String (or an Array of them) or nil, got String")
    expect { described_class.new(store, changefeed: Object.new) }
      .to raise_error(ArgumentError, "changefeed must be an Igniter::Store::ChangefeedBuffer, got Object")
    expect { described_class.new(store, status: 1) }.to raise_error(ArgumentError, "status must respond to #call, got Integer")
  end
end
