# frozen_string_literal: true

# Many concurrent clients writing through the envelope transports into a
# file-backed store, then a reopen from disk: every acknowledged write is
# there exactly once. Misbehaving clients get an error or a closed
# connection and do not disturb the others. Loopback only, bounded sizes.
RSpec.describe "Envelope transports under load and faults" do
  let(:clients) { 16 }
  let(:adapters) { [] }

  around do |example|
    with_tmpdir do |dir|
      @wal = File.join(dir, "load.wal")
      example.run
    end
  end

  after { adapters.each(&:stop) }

  def open_store
    Igniter::Store.open(@wal)
  end

  # Writes through +writer+ (called with client index, write index) from
  # +clients+ threads; returns the acknowledged fact ids.
  def concurrent_writes(clients, per_client)
    threads = clients.times.map do |c|
      Thread.new { yield(c, per_client) }
    end
    threads.flat_map { |t| t.join(30) && t.value }
  end

  # Reopens the WAL and checks every acknowledged fact is there exactly once.
  def expect_exactly_once(acknowledged_ids, expected_keys)
    reopened = open_store
    facts = reopened.history(store: :load)
    expect(facts.map(&:key).sort).to eq(expected_keys.sort)
    expect(facts.map(&:id).tally.values.uniq).to eq([1])
    expect(facts.map(&:id).to_set).to eq(acknowledged_ids.to_set)
  ensure
    reopened&.close
  end

  def keys_for(clients, per_client)
    clients.times.flat_map { |c| per_client.times.map { |i| "c#{c}-#{i}" } }
  end

  describe "TCPAdapter" do
    let(:per_client) { 500 }

    it "persists 16 x 500 concurrent envelope writes exactly once across a reopen" do
      store = open_store
      adapter = Igniter::Store::TCPAdapter.new(interpreter: Igniter::Store::Protocol.new(store), port: 0)
      adapters << adapter.start_async
      ids = concurrent_writes(clients, per_client) do |c, n|
        socket = tcp_connect(adapter)
        n.times.map do |i|
          reply = tcp_call(socket, envelope(:write, { store: "load", key: "c#{c}-#{i}", value: { c: c, i: i } }))
          raise "write c#{c}-#{i} failed: #{reply.inspect}" unless reply && reply["status"] == "ok"

          reply["result"]["fact_id"]
        end
      ensure
        socket&.close
      end
      adapter.stop
      store.close
      expect(ids.size).to eq(clients * per_client)
      expect_exactly_once(ids, keys_for(clients, per_client))
    end

    it "answers truncated, corrupt, oversized and non-JSON frames without disturbing other clients" do
      store = open_store
      adapter = Igniter::Store::TCPAdapter.new(interpreter: Igniter::Store::Protocol.new(store), port: 0,
                                               max_frame_bytes: 64 * 1024, read_timeout: 0.3)
      adapters << adapter.start_async
      good = Thread.new do
        concurrent_writes(4, 100) do |c, n|
          socket = tcp_connect(adapter)
          n.times.map do |i|
            tcp_call(socket, envelope(:write, { store: "load", key: "c#{c}-#{i}", value: { i: i } }))["result"]["fact_id"]
          end
        ensure
          socket&.close
        end
      end
      faults = {}
      bad = Thread.new do
        frame = raw_frame(JSON.generate(envelope(:write, { store: "load", key: "bad", value: {} })))
        truncated = tcp_connect(adapter)
        truncated.write(frame[0, frame.bytesize - 3])
        faults[:truncated] = closed_by_peer?(truncated)
        corrupt = tcp_connect(adapter)
        corrupt.write(frame[0..-2] + (frame[-1].ord ^ 1).chr)
        faults[:bad_crc] = read_reply(corrupt)&.fetch("error")
        huge = tcp_connect(adapter)
        huge.write([10 * 1024 * 1024].pack("N"))
        faults[:oversized] = read_reply(huge)&.fetch("error")
        garbage = tcp_connect(adapter)
        garbage.write(raw_frame("\x00\xFFgarbage{"))
        faults[:garbage] = read_reply(garbage)&.fetch("error")
        [truncated, corrupt, huge, garbage].each(&:close)
      end
      expect(bad.join(10)).not_to be_nil
      ids = good.value
      expect(faults[:truncated]).to be(true)
      expect(faults[:bad_crc]).to eq("Corrupt frame: CRC mismatch")
      expect(faults[:oversized]).to eq("Frame of 10485760 bytes exceeds max_frame_bytes 65536")
      expect(faults[:garbage]).to start_with("Invalid JSON: ")
      expect(tcp_request(adapter, envelope(:metadata_snapshot))["status"]).to eq("ok")
      adapter.stop
      store.close
      expect_exactly_once(ids, keys_for(4, 100))
    end
  end

  describe "HTTPAdapter served by puma" do
    let(:per_client) { 150 }

    def start_http(store, **opts)
      adapter = Igniter::Store::HTTPAdapter.new(interpreter: Igniter::Store::Protocol.new(store), port: 0, **opts)
      adapters << adapter.start_async
      adapter
    end

    def http_writes(port, clients, per_client)
      concurrent_writes(clients, per_client) do |c, n|
        Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 10) do |http|
          n.times.map do |i|
            payload = JSON.generate(envelope(:write, { store: "load", key: "c#{c}-#{i}", value: { c: c, i: i } }))
            response = http.post("/v1/dispatch", payload, "Content-Type" => "application/json")
            raise "write c#{c}-#{i}: HTTP #{response.code}" unless response.code == "200"

            JSON.parse(response.body)["result"]["fact_id"]
          end
        end
      end
    end

    it "persists 16 x 150 concurrent dispatch writes exactly once across a reopen" do
      store = open_store
      adapter = start_http(store)
      ids = http_writes(port_of(adapter.bind_address), clients, per_client)
      adapter.stop
      store.close
      expect(ids.size).to eq(clients * per_client)
      expect_exactly_once(ids, keys_for(clients, per_client))
    end

    it "answers garbage JSON with 400 and oversized bodies with 413 while others write on" do
      store = open_store
      adapter = start_http(store, max_body_bytes: 4096)
      port = port_of(adapter.bind_address)
      faults = Thread.new do
        5.times.map do
          [http_post_json(port, "/v1/dispatch", "{garbage").code,
           http_post_json(port, "/v1/dispatch", JSON.generate(envelope(:write, { store: "load", key: "big",
                                                                                  value: "x" * 10_000 }))).code]
        end
      end
      ids = http_writes(port, 4, 50)
      expect(faults.value.uniq).to eq([%w[400 413]])
      adapter.stop
      store.close
      expect_exactly_once(ids, keys_for(4, 50))
    end
  end
end
