# frozen_string_literal: true

RSpec.describe Igniter::Store::NetworkBackend, :servers do
  let(:server) { start_server }

  def fact(store: :tasks, key: "t1", value: { title: "Hello" })
    Igniter::Store::Fact.build(store: store, key: key, value: value)
  end

  it "writes a fact that a second client replays with identity preserved" do
    written = fact
    client_for(server).write_fact(written)
    replayed = client_for(server).replay

    expect(replayed.size).to eq(1)
    expect(replayed.first.value).to include(title: "Hello")
    expect(replayed.first.id).to eq(written.id)
    expect(replayed.first.transaction_time).to eq(written.transaction_time)
    expect(replayed.first.value_hash).to eq(written.value_hash)
  end

  it "replays in commit order with non-decreasing transaction times for one writer" do
    client = client_for(server)
    5.times { |i| client.write_fact(fact(key: "k#{i}")) }
    times = client.replay.map(&:transaction_time)

    expect(times).to eq(times.sort)
    expect(times.size).to eq(5)
  end

  it "backs an IgniterStore whose local scoped query works" do
    store = Igniter::Store::IgniterStore.new(backend: client_for(server))
    store.register_path(Igniter::Store::AccessPath.new(store: :tasks, scope: :open, filters: { status: :open }))
    store.write(store: :tasks, key: "a", value: { title: "Work", status: :open })
    store.write(store: :tasks, key: "b", value: { title: "Rest", status: :done })

    expect(store.query(store: :tasks, scope: :open).map { |f| f.value[:title] }).to eq(["Work"])
  end

  it "lets a second client rebuild the state, Symbol values coming back as Strings" do
    Igniter::Store::IgniterStore.new(backend: client_for(server)).tap do |store|
      store.write(store: :tasks, key: "a", value: { title: "Work", status: :open })
      store.write(store: :tasks, key: "b", value: { title: "Rest", status: :done })
    end
    rebuilt = Igniter::Store::IgniterStore.new
    client_for(server).replay.each { |f| rebuilt.__send__(:replay, f) }

    expect(rebuilt.fact_count).to eq(2)
    expect(rebuilt.read(store: :tasks, key: "a")).to include(status: "open")
  end

  it "pings" do
    expect(client_for(server).send(:rpc, "ping")).to eq(ok: true, pong: true)
  end

  it "accepts write_snapshot on a memory server" do
    expect(client_for(server).write_snapshot([fact])).to be_nil
  end

  it "keeps facts of a file-backed server across a restart" do
    with_tmpdir do |dir|
      path = File.join(dir, "l.wal")
      first = start_server(backend: :file, path: path)
      client = client_for(first)
      3.times { |i| client.write_fact(fact(key: "k#{i}")) }
      first.stop

      expect(client_for(start_server(backend: :file, path: path)).replay.map(&:key)).to eq(%w[k0 k1 k2])
    end
  end

  it "takes concurrent writers on separate connections" do
    4.times.map do |t|
      Thread.new do
        client = client_for(server)
        5.times { |i| client.write_fact(fact(key: "t#{t}-#{i}")) }
      end
    end.each(&:join)

    expect(client_for(server).replay.size).to eq(20)
  end

  it "is thread-safe on one instance (one request in flight)" do
    client = client_for(server)
    4.times.map { |t| Thread.new { 5.times { |i| client.write_fact(fact(key: "s#{t}-#{i}")) } } }.each(&:join)

    expect(client.send(:rpc, "stats")[:facts_written]).to eq(20)
  end

  it "raises NetworkError when the server answers ok: false" do
    expect { client_for(server).send(:rpc, "bogus") }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /Unknown op/)
  end

  it "raises NetworkError once the server is gone, and a new instance reconnects" do
    with_tmpdir do |dir|
      path = File.join(dir, "l.wal")
      first = start_server(backend: :file, path: path)
      port = port_number(first)
      client = client_for(first)
      client.write_fact(fact)
      first.stop

      expect { client.send(:rpc, "ping") }.to raise_error(StandardError)
      second = start_server(backend: :file, path: path, port: port)
      expect(client_for(second).replay.map(&:key)).to eq(["t1"])
    end
  end

  it "refuses an unknown transport and surfaces connection errors raw" do
    expect { described_class.new(address: "x", transport: :udp) }
      .to raise_error(ArgumentError, "Unknown transport: :udp. Use :tcp or :unix")
    port = TCPServer.new("127.0.0.1", 0).then { |s| s.addr[1].tap { s.close } }
    expect { described_class.new(address: "127.0.0.1:#{port}") }.to raise_error(Errno::ECONNREFUSED)
  end

  it "gives up on a silent server after timeout: and closes the connection" do
    silent = TCPServer.new("127.0.0.1", 0)
    client = described_class.new(address: "127.0.0.1:#{silent.addr[1]}", timeout: 0.1)

    expect { client.send(:rpc, "ping") }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /no reply from .* within 0.1s/)
    expect { client.close }.not_to raise_error
  ensure
    silent&.close
  end

  it "parses bracketed IPv6 addresses and defaults a missing port to 7400" do
    expect(Igniter::Store::Server::Address.parse("[::1]:7401")).to eq(["::1", 7401])
    expect(Igniter::Store::Server::Address.parse("example.org")).to eq(["example.org", 7400])
    expect { Igniter::Store::Server::Address.parse("h:port") }.to raise_error(ArgumentError, /invalid port/)
  end

  it "closes idempotently" do
    client = client_for(server)
    client.close

    expect { client.close }.not_to raise_error
    poll_until(timeout: 0.5, message: "connection not released") { server.active_connections.zero? }
  end

  it "is reachable as LedgerNetworkBackend" do
    expect(Igniter::Store::LedgerNetworkBackend).to equal(described_class)
    expect(Igniter::Ledger::LedgerNetworkBackend).to equal(described_class)
  end

  describe "#subscribe" do
    it "requires a block" do
      expect { client_for(server).subscribe(stores: [:tasks]) }
        .to raise_error(ArgumentError, "subscribe requires a block")
    end

    it "delivers Facts of the subscribed store" do
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) { |f| received << f }
      client_for(server).write_fact(fact)

      delivered = pop_within(received)
      expect(delivered).to be_a(Igniter::Store::Fact)
      expect(delivered.store).to eq(:tasks)
      handle.close
    end

    it "filters by store" do
      received = Queue.new
      handle = client_for(server).subscribe(stores: ["reminders"]) { |f| received << f.key }
      writer = client_for(server)
      writer.write_fact(fact(key: "x"))
      writer.write_fact(fact(store: :reminders, key: "r1"))

      expect(pop_within(received)).to eq("r1")
      expect(received).to be_empty
      handle.close
    end

    it "subscribes to several stores at once" do
      received = Queue.new
      handle = client_for(server).subscribe(stores: %i[tasks reminders]) { |f| received << f.store }
      writer = client_for(server)
      writer.write_fact(fact(store: :reminders, key: "r"))
      writer.write_fact(fact(store: :notes, key: "n"))
      writer.write_fact(fact(store: :tasks, key: "t"))

      expect([pop_within(received), pop_within(received)].sort).to eq(%i[reminders tasks])
      handle.close
    end

    it "serves three subscribers, and the count drops to zero after they close" do
      handles = Array.new(3) { client_for(server).subscribe(stores: [:tasks]) { |_f| nil } }

      expect(server.subscription_count(:tasks)).to eq(3)
      handles.each(&:close)
      poll_until(timeout: 0.5, message: "subscriptions not released") { server.subscription_count(:tasks).zero? }
    end

    it "keeps the subscription alive when the block raises" do
      received = Queue.new
      handle = client_for(server).subscribe(stores: [:tasks]) do |f|
        raise "boom" if f.key == "bad"

        received << f.key
      end
      writer = client_for(server)
      writer.write_fact(fact(key: "bad"))
      writer.write_fact(fact(key: "good"))

      expect(pop_within(received)).to eq("good")
      handle.close
    end
  end
end
