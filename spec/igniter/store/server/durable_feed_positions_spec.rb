# frozen_string_literal: true

require "net/http"

# Durable feed positions (doc/feed_positions.md) across a real restart of
# a file-backed server: an SSE client (Net::HTTP reading the stream) and a
# NetworkBackend push subscriber resume from a position the first server
# process sent, and get exactly the facts after it, then live ones.
RSpec.describe "Durable feed positions across a server restart", :servers do
  include LedgerSpec::AdapterHelpers

  around { |example| with_tmpdir { |dir| @path = File.join(dir, "ledger.wal"); example.run } }

  def serve
    build_server(backend: :file, path: @path).tap do |server|
      server.start_adapters(http_port: 0)
      server.start_async
    end
  end

  def http_port(server)
    port_of(server.http_adapter.bind_address)
  end

  def write(server, key)
    response = http_post_json(http_port(server), "/v1/dispatch",
                              envelope(:write, { store: "tasks", key: key, value: { key: key } }))
    expect(response.code).to eq("200")
  end

  def read_sse(server, count, headers = {}, &block)
    sse_read(http_port(server), count, headers, &block)
  end

  def sse_status(server, headers)
    sse_refusal(http_port(server), headers)
  end

  def position(fact)
    "#{fact.transaction_time}:#{fact.id}"
  end

  it "resumes an SSE stream from a Last-Event-ID of the previous server process" do
    first = serve
    %w[k1 k2 k3].each { |key| write(first, key) }
    before = read_sse(first, 3)
    expect(before.map { |f| f[:data]["key"] }).to eq(%w[k1 k2 k3])
    expect(before.map { |f| f[:id] }).to eq(first.store.history(store: :tasks).map { |f| position(f) })
    first.stop

    second = serve
    write(second, "k4") # committed after the restart, before the client is back
    frames = read_sse(second, 3, "Last-Event-ID" => before[1][:id]) do
      sleep 0.1
      write(second, "k5") # live
    end
    expect(frames.map { |f| f[:data]["key"] }).to eq(%w[k3 k4 k5])
    expect(frames.map { |f| f[:id] }).to eq(second.store.history(store: :tasks).drop(2).map { |f| position(f) })

    # From the newest position: only what comes next.
    live = read_sse(second, 1, "Last-Event-ID" => frames.last[:id]) do
      sleep 0.1
      write(second, "k6")
    end
    expect(live.map { |f| f[:data]["key"] }).to eq(%w[k6])
  end

  it "answers a position it cannot serve with 409, a malformed one with 400, a stale sequence with 409" do
    first = serve
    write(first, "k1")
    first.stop
    second = serve

    code, body = sse_status(second, "Last-Event-ID" => "1764000000.5:no-such-fact")
    expect(code).to eq("409")
    expect(body).to include("status" => "cursor_too_old")
    expect(body["error"]).to start_with("No fact no-such-fact in this ledger")

    code, body = sse_status(second, "Last-Event-ID" => "yesterday")
    expect(code).to eq("400")
    expect(body["error"]).to start_with('Invalid cursor: "yesterday" (expected a position')

    # A 0.5.2 sequence id from before the restart: past this run's newest event.
    code, body = sse_status(second, "Last-Event-ID" => "5")
    expect(code).to eq("409")
    expect(body).to include("status" => "cursor_unknown")
    expect(body["error"]).to include("sequence numbers restart with the server")
  end

  it "resumes a NetworkBackend subscription from a position of the previous server process" do
    first = serve
    received = Queue.new
    subscription = client_for(first).subscribe(stores: [:tasks]) { |fact| received << fact.key }
    %w[k1 k2 k3].each { |key| write(first, key) }
    expect(Array.new(3) { pop_within(received, 5) }).to eq(%w[k1 k2 k3])
    poll_until(message: "position of k3") { subscription.position == position(first.store.history(store: :tasks).last) }
    second_position = position(first.store.history(store: :tasks)[1])
    subscription.close
    first.stop

    second = serve
    write(second, "k4")
    resumed = Queue.new
    client_for(second).subscribe(stores: [:tasks], after: second_position) { |fact| resumed << fact.key }
    write(second, "k5")
    expect(Array.new(3) { pop_within(resumed, 5) }).to eq(%w[k3 k4 k5])
    sleep 0.3
    expect(resumed).to be_empty # exactly once: nothing pushed twice

    expect { client_for(second).subscribe(stores: [:tasks], after: "1.0:gone") { nil } }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /No fact gone in this ledger/)
    expect { client_for(second).subscribe(stores: [:tasks], after: "k3") { nil } }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /\AInvalid cursor: "k3" \(expected a position/)
    expect { client_for(second).subscribe(stores: [:tasks], after: "5") { nil } }
      .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /subscribe after must be a position/)
  end
end
