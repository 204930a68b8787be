# frozen_string_literal: true

# Loopback load and misbehaving clients, bounded in size and time.
RSpec.describe "StoreServer under load and faults", :servers do
  it "keeps exactly 8000 facts from 16 concurrent clients x 500 writes across a restart, feed order = WAL order" do
    with_tmpdir do |dir|
      path = File.join(dir, "load.wal")
      server = start_server(backend: :file, path: path, changefeed: { max_size: 8000 })
      errors = Queue.new
      16.times.map do |c|
        Thread.new do
          client = Igniter::Store::NetworkBackend.new(address: server.bind_address)
          500.times do |i|
            client.write_fact(Igniter::Store::Fact.build(store: :load, key: "c#{c}-#{i}", value: { i: i }))
          end
          client.close
        rescue StandardError => e
          errors << e
        end
      end.each { |t| t.join(20) }
      expect(errors).to be_empty
      expect(server.changefeed.snapshot[:emitted_total]).to eq(8000)
      server.stop
      wal_ids = frame_bodies(path).map { |body| JSON.parse(body)["id"] }
      expect(server.changefeed.replay[:events].map(&:fact_id)).to eq(wal_ids)

      facts = client_for(start_server(backend: :file, path: path)).replay
      expect(facts.size).to eq(8000)
      expect(facts.map(&:id).uniq.size).to eq(8000)
      expect(facts.map(&:key).to_set).to eq(16.times.flat_map { |c| 500.times.map { |i| "c#{c}-#{i}" } }.to_set)
    end
  end

  describe "misbehaving clients" do
    let(:server) { start_server(max_frame_bytes: 4096, read_timeout: 0.2) }

    # A well-behaved client writing and reading throughout the example.
    def with_bystander(server)
      stop = false
      results = Queue.new
      thread = Thread.new do
        client = Igniter::Store::NetworkBackend.new(address: server.bind_address)
        n = 0
        until stop
          client.write_fact(Igniter::Store::Fact.build(store: :bystander, key: "b#{n += 1}", value: { n: n }))
          results << client.send(:rpc, "ping")
        end
        client.close
        n
      end
      yield
      poll_until(message: "bystander made no progress") { results.size >= 3 }
      stop = true
      written = thread.value
      expect(written).to be >= 3
      expect(client_for(server).replay.count { |f| f.store == :bystander }).to eq(written)
    end

    it "closes on a truncated frame while others carry on" do
      with_bystander(server) do
        socket = op_socket(server)
        socket.write(raw_frame(JSON.generate(op: "ping")).byteslice(0, 9))
        socket.close_write

        expect(op_read(socket)).to eq(:eof)
      end
    end

    it "answers a bad CRC with bad_frame and closes" do
      with_bystander(server) do
        socket = op_socket(server)
        frame = raw_frame(JSON.generate(op: "ping"))
        socket.write(frame.byteslice(0, frame.bytesize - 1) + (frame.getbyte(-1) ^ 0xFF).chr)

        expect(op_read(socket)).to include(ok: false, error_code: "bad_frame")
        expect(op_read(socket)).to eq(:eof)
      end
    end

    it "answers an oversized length with frame_too_large and closes" do
      with_bystander(server) do
        socket = op_socket(server)
        socket.write([4097].pack("N") + ("x" * 100))

        expect(op_read(socket)).to include(ok: false, error_code: "frame_too_large")
        expect(op_read(socket)).to eq(:eof)
      end
    end

    it "answers garbage JSON with invalid_request and keeps serving the connection" do
      with_bystander(server) do
        socket = op_socket(server)

        reply = op_call(socket, "{not json")
        expect(reply).to include(ok: false, error_code: "invalid_request")
        expect(reply[:error]).to start_with("invalid JSON:")
        expect(op_call(socket, op: "ping")).to eq(ok: true, pong: true)
      end
    end

    it "answers a non-object body with invalid_request" do
      with_bystander(server) do
        socket = op_socket(server)

        expect(op_call(socket, "[1,2]")).to eq(ok: false, error_code: "invalid_request",
                                               error: "request must be a JSON object, got an array")
        expect(op_call(socket, '"ping"')).to include(error: "request must be a JSON object, got a string")
        expect(op_call(socket, op: "ping")).to eq(ok: true, pong: true)
      end
    end

    it "answers deeply nested JSON with invalid_request" do
      with_bystander(server) do
        socket = op_socket(server)

        expect(op_call(socket, "#{"[" * 200}#{"]" * 200}")).to include(ok: false, error_code: "invalid_request")
      end
    end

    it "drops a client that stops reading its replies once read_timeout passes without progress" do
      big = start_server(read_timeout: 0.2)
      value = { text: "x" * 1000 }
      2000.times { |i| big.store.write(store: :bulk, key: "k#{i}", value: value) }
      socket = op_socket(big)
      # ~2 MB per reply; never read, so the server's writes stall.
      12.times { op_send(socket, op: "replay") }

      poll_until(timeout: 5, message: "stalled connection not dropped") { big.active_connections.zero? }
      expect(client_for(big).send(:rpc, "ping")).to eq(ok: true, pong: true)
    end

    it "counts the faults in the metrics" do
      socket = op_socket(server)
      op_call(socket, "{")
      op_socket(server).write([5000].pack("N"))

      poll_until(message: "fault not counted") do
        server.metrics_snapshot[:errors_total].key?("frame_too_large/connection")
      end
      expect(server.metrics_snapshot[:errors_total]).to include("RequestError/unknown" => 1)
    end
  end
end
