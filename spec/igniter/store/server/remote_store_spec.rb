# frozen_string_literal: true

# Igniter::Store.remote against a real StoreServer: reads are answered by
# the server (nothing replayed into the client), return what a local store
# returns, and writes go through the server's own write path.
RSpec.describe "Igniter::Store.remote", :servers do
  let(:server) { start_server }
  let(:local) { server.store }
  let(:remote) { Igniter::Store.remote(server.bind_address).tap { |r| remotes << r } }
  let(:remotes) { [] }

  after { remotes.each(&:close) }

  def replayed
    server.metrics.snapshot[:facts_replayed].to_i
  end

  describe "reads" do
    let!(:open) { local.write(store: :tasks, key: "t1", value: { title: "Ship", status: :open, tags: [:a, "b"] }, valid_time: 10) }
    let!(:done) { local.write(store: :tasks, key: "t1", value: { title: "Ship", status: :done }) }
    let!(:other) { local.write(store: :tasks, key: "t2", value: { title: "Test", status: :open }) }

    it "answers read, as_of (seconds, Time, ISO-8601) and time_travel as the server's store does" do
      expect(remote.read(store: :tasks, key: "t1")).to eq(local.read(store: :tasks, key: "t1"))
      expect(remote.read(store: :tasks, key: "t1")).to eq(title: "Ship", status: :done)
      at = open.transaction_time
      iso = Igniter::Store::Protocol::TimeParam.iso8601(at)
      [at, Time.at(at.to_r), iso].each do |as_of|
        expect(remote.read(store: :tasks, key: "t1", as_of: as_of)).to eq(title: "Ship", status: :open, tags: [:a, "b"])
      end
      expect(remote.time_travel(store: :tasks, key: "t1", at: at - 1)).to be_nil
      # The envelope time_travel op, Symbols restored as for read.
      expect(remote.time_travel(store: :tasks, key: "t1", at: iso)).to eq(local.time_travel(store: :tasks, key: "t1", at: at))
      expect(remote.time_travel(store: :tasks, key: "t1", at: at)).to eq(title: "Ship", status: :open, tags: [:a, "b"])
      expect { remote.time_travel(store: :tasks, key: "t1", at: "soon") }
        .to raise_error(ArgumentError, /\Atime_travel: at must be seconds since the epoch or an ISO-8601 time/)
      expect(remote.read(store: "tasks", key: "nope")).to be_nil
    end

    it "answers history, fact_by_id and fact_ref with facts equal to the server's" do
      expect(remote.history(store: :tasks, key: "t1")).to eq(local.history(store: :tasks, key: "t1"))
      expect(remote.history(store: :tasks, key: "t1").map(&:causation)).to eq([nil, open.id])
      expect(remote.history(store: :tasks)).to eq([open, done, other])
      expect(remote.history(store: :tasks, key: "t1", since: done.transaction_time)).to eq([done])
      expect(remote.history(store: :tasks, key: "t1", as_of: Time.at(open.transaction_time.to_r))).to eq([open])
      expect(remote.fact_by_id(done.id)).to eq(done)
      expect([remote.fact_by_id("missing"), remote.fact_by_id(nil), remote.fact_by_id("")]).to eq([nil, nil, nil])
      expect(remote.fact_ref(open.id)).to eq(local.fact_ref(open.id))
    end

    it "answers causation_chain, lineage, stats and fact_count" do
      expect(remote.causation_chain(store: :tasks, key: "t1")).to eq(local.causation_chain(store: :tasks, key: "t1"))
      expect(remote.lineage(store: :tasks, key: "t1")).to include(depth: 2, proof_hash: local.lineage(store: :tasks, key: "t1")[:proof_hash])
      expect(remote.fact_count).to eq(3)
      expect(remote.stats[:stores].map { |s| s.slice(:store, :facts, :keys) }).to eq([{ store: "tasks", facts: 3, keys: 2 }])
    end

    it "queries a registered scope (facts, as a local query) and by where/order/limit (items)" do
      local.register_path(Igniter::Store.access_path(store: :tasks, scope: :open, filters: { status: :open }))
      expect(remote.query(store: :tasks, scope: :open)).to eq(local.query(store: :tasks, scope: :open).to_a)
      expect(remote.query(store: :tasks, scope: :open)).to eq([other])
      expect(remote.query(store: :tasks, where: { title: "Ship" })).to eq([{ key: "t1", value: { title: "Ship", status: :done } }])
      expect(remote.query(store: :tasks, where: { title: "Ship" })).to eq(local.protocol.query(store: :tasks, where: { title: "Ship" }))
      expect(remote.query(store: :tasks, where: {}, order: :title, limit: 1).map { |i| i[:key] }).to eq(["t1"])
    end

    it "replays nothing into the client" do
      before = replayed
      remote.read(store: :tasks, key: "t1")
      remote.history(store: :tasks)
      remote.fact_by_id(done.id)
      expect(replayed).to eq(before)
    end

    it "raises ArgumentError with the server's message for a refused argument" do
      expect { remote.read(store: :tasks, key: "t1", as_of: "yesterday") }
        .to raise_error(ArgumentError, /\Aread: as_of must be seconds since the epoch or an ISO-8601 time with a zone/)
      expect { remote.query(store: :tasks, scope: :late) }
        .to raise_error(ArgumentError, "query: No registered path for store=:tasks scope=:late")
      expect { remote.query(store: :tasks) }.to raise_error(ArgumentError, "query needs scope: or where:, not both")
    end
  end

  describe "writes" do
    it "writes through the server: causation from the key's previous fact, Symbols kept, pushed to subscribers" do
      pushed = Queue.new
      subscription = remote.subscribe(stores: [:tasks]) { |fact| pushed << fact }
      first = remote.write(store: :tasks, key: "t1", value: { status: :open, n: 1 })
      second = remote.write(store: :tasks, key: "t1", value: { status: :done, n: 2 }, valid_time: "2026-11-26T10:30:21Z")
      expect(local.history(store: :tasks, key: "t1")).to eq([first, second])
      expect(second.causation).to eq(first.id)
      expect(second.value).to eq(status: :done, n: 2)
      expect(second.valid_time).to eq(Time.utc(2026, 11, 26, 10, 30, 21).to_f)
      expect(second.value_hash).to eq(Igniter::Store::Fact.build(store: :x, key: "y", value: { status: :done, n: 2 }).value_hash)
      # Pushes carry the fact body (`symbols` included): the subscriber gets the facts the server holds.
      expect([pop_within(pushed), pop_within(pushed)]).to eq([first, second])
      expect(first.value).to eq(status: :open, n: 1)
      event = remote.append(history: :audit, event: { what: :shipped })
      expect(local.fact_by_id(event.id)).to eq(event)
      expect(event.value).to eq(what: :shipped)
    ensure
      subscription&.close
    end
  end

  describe "tokens" do
    let(:server) { start_server(auth_token: "write-secret", read_token: "read-secret") }

    it "reads with the read token, is refused a write with it, and refused everything without a token" do
      local.write(store: :tasks, key: "t1", value: { n: 1 })
      reader = Igniter::Store.remote(server.bind_address, token: "read-secret").tap { |r| remotes << r }
      expect(reader.read(store: :tasks, key: "t1")).to eq(n: 1)
      expect { reader.write(store: :tasks, key: "t1", value: { n: 2 }) }.to raise_error(
        Igniter::Store::NetworkBackend::NetworkError, "envelope write requires the write token; a read token cannot write"
      ) { |e| expect(e.code).to eq("forbidden") }
      expect { remote.read(store: :tasks, key: "t1") }.to raise_error(
        Igniter::Store::NetworkBackend::NetworkError, "envelope read requires a valid token (a read or write token)"
      ) { |e| expect(e.code).to eq("unauthorized") }
      writer = Igniter::Store.remote(server.bind_address, token: "write-secret").tap { |r| remotes << r }
      expect(writer.write(store: :tasks, key: "t1", value: { n: 2 }).causation).to eq(local.history(store: :tasks, key: "t1").first.id)
      expect(local.read(store: :tasks, key: "t1")).to eq(n: 2)
    end
  end

  describe "the envelope op of the op protocol" do
    it "answers an envelope, refuses a missing one, an unknown op and a bad packet with their codes" do
      socket = op_socket(server)
      ok = op_call(socket, op: "envelope", envelope: { op: "stats", packet: {} })
      expect(ok).to include(ok: true, envelope: include(status: "ok", result: include(fact_count: 0)))
      expect(op_call(socket, op: "envelope")).to eq(ok: false, error_code: "invalid_request",
                                                     error: "envelope requires an \"envelope\" object")
      expect(op_call(socket, op: "envelope", envelope: { op: "drop_everything" }))
        .to eq(ok: false, error_code: "unknown_op", error: "Unknown or missing op: :drop_everything")
      expect(op_call(socket, op: "envelope", envelope: { op: "read", packet: { store: "t" } }))
        .to eq(ok: false, error_code: "invalid_packet", error: "read: the packet lacks the required field \"key\"")
      expect(op_call(socket, op: "envelope", envelope: { protocol: "other", op: "read" }))
        .to eq(ok: false, error_code: "bad_envelope", error: "Unknown protocol: :other")
    end
  end

  describe "the README's remote store example" do
    it "runs as written against a real server, after the README's curl write" do
      server.start_adapters(http_port: 0)
      readme = File.read(File.join(LedgerSpec::ROOT, "README.md"))
      snippet = readme[/<!-- remote-store-example[^>]*-->\n```ruby\n(.*?)```/m, 1]
      expect(snippet).to include('Igniter::Store.remote("127.0.0.1:7400"')
      curl = readme[/curl -s http:\/\/127\.0\.0\.1:7300\/v1\/dispatch .*?\n\s+-d '(\{"protocol":"igniter_store","op":"write".*?)'\n/m, 1]
      http = Net::HTTP.start("127.0.0.1", Integer(server.http_adapter.bind_address.split(":").last)) do |h|
        h.post("/v1/dispatch", curl, "Content-Type" => "application/json")
      end
      expect(http.code).to eq("200")
      script = "#{snippet.sub("127.0.0.1:7400", server.bind_address)}\n" \
               "p [done.causation, ledger.class]\n"
      child = spawn_ruby_script(script)
      child.input.close
      expect(await_exit(child, timeout: 20).success?).to be(true), child.lines.join
      expect(child.lines.join).to include("[#{local.history(store: :tasks, key: "t1").first.id.inspect}, Igniter::Store::RemoteStore]")
      expect(local.read(store: :tasks, key: "t1")).to eq(title: "Ship", status: :done)
      expect(local.fact_count).to eq(2)
    end
  end
end
