# frozen_string_literal: true

RSpec.describe "StoreServer observability", :servers do
  def write(client, key)
    client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: key, value: { n: 1 }))
  end

  describe "#health_snapshot" do
    it "reports status, backend, transport, address, uptime and counts" do
      server = start_server
      health = server.health_snapshot

      expect(health).to include(schema_version: 1, status: :ready, backend: "memory", transport: "tcp",
                                bind_address: server.bind_address, active_connections: 0, subscriptions: 0,
                                last_error: nil)
      expect(health[:uptime_ms]).to be_a(Integer).and be_positive
    end

    it "tracks the open connection" do
      server = start_server
      client_for(server).send(:rpc, "ping")

      expect(server.health_snapshot[:active_connections]).to eq(1)
    end
  end

  describe "#metrics_snapshot" do
    it "counts facts written and has no storage stats for memory or file backends" do
      server = start_server
      client = client_for(server)
      3.times { |i| write(client, "k#{i}") }

      snap = server.metrics_snapshot
      expect(snap[:facts_written]).to eq(3)
      expect(snap[:storage_stats]).to be_nil
      expect(snap.keys).to include(:requests_total, :errors_total, :bytes_in, :bytes_out, :alerts)
    end

    it "counts requests per op, unknown ops under one label, errors and bytes both ways" do
      server = start_server
      client = client_for(server)
      client.send(:rpc, "ping")
      client.send(:rpc, "ping")
      client.send(:rpc, "stats")
      expect { client.send(:rpc, "what") }.to raise_error(Igniter::Store::NetworkBackend::NetworkError)
      expect { client.send(:rpc, "who") }.to raise_error(Igniter::Store::NetworkBackend::NetworkError)

      # Whatever op names clients invent, they share the label "unknown".
      snap = server.metrics_snapshot
      expect(snap[:requests_total]).to eq("ping" => 2, "stats" => 1, "unknown" => 2)
      expect(snap[:errors_total]).to eq("RequestError/unknown" => 2)
      expect(snap[:bytes_in]).to be_positive
      expect(snap[:bytes_out]).to be > snap[:bytes_in]
    end

    it "counts bytes_in as the body and bytes_out as the whole reply frame" do
      server = start_server
      socket = op_socket(server)
      body = JSON.generate(op: "ping")
      reply = op_call(socket, body)

      snap = server.metrics_snapshot
      expect(snap[:bytes_in]).to eq(body.bytesize)
      expect(snap[:bytes_out]).to eq(JSON.generate(reply).bytesize + 8)
    end

    it "counts accepted and closed connections" do
      server = start_server
      2.times { client_for(server).tap { |c| c.send(:rpc, "ping") }.close }

      poll_until(message: "closes not counted") { server.metrics_snapshot[:closed_connections_total] >= 2 }
      expect(server.metrics_snapshot[:accepted_connections_total]).to be >= 2
    end

    it "counts a connection over max_connections as rejected and emits an alert event" do
      server = start_server(max_connections: 1)
      first = client_for(server)
      first.send(:rpc, "ping")
      second = client_for(server)

      expect { second.send(:rpc, "ping") }
        .to raise_error(Igniter::Store::NetworkBackend::NetworkError, /max_connections 1/)
      expect(server.metrics_snapshot[:rejected_connections_total]).to eq(1)
      alert = server.recent_events.find { |e| e[:type] == :alert }
      expect(alert).to include(alert_type: :max_connections, active: 2, max: 1)
      expect(first.send(:rpc, "ping")).to eq(ok: true, pong: true)
    end

    it "counts push subscriptions per store while open" do
      server = start_server
      handle = client_for(server).subscribe(stores: %i[tasks notes]) { |_f| nil }

      expect(server.metrics_snapshot[:subscription_count]).to eq(2)
      expect(server.health_snapshot[:subscriptions]).to eq(2)
      handle.close
      poll_until(message: "subscription metrics not released") { server.metrics_snapshot[:subscription_count].zero? }
    end
  end

  describe "#observability_snapshot" do
    it "has the observatory shape with the server, storage and changefeed sections" do
      server = start_server
      write(client_for(server), "a")
      obs = server.observability_snapshot

      expect(obs.keys).to eq(%i[schema_version generated_at status uptime_ms metrics alerts storage server changefeed
                                recovery])
      expect(obs[:status]).to eq(:ready)
      expect(obs[:metrics].keys).to eq(%i[requests_total errors_total slow_ops_total facts_written facts_replayed
                                          bytes_in bytes_out active_connections accepted_connections_total
                                          closed_connections_total rejected_connections_total subscription_count])
      expect(obs[:metrics][:slow_ops_total]).to eq({})
      expect(obs[:server]).to eq(backend: "memory", transport: "tcp", bind_address: server.bind_address,
                                 last_error: nil)
      expect(obs[:storage]).to be_nil
      expect(obs[:recovery]).to be_nil
      expect(obs[:alerts]).to eq([])
      expect(obs[:changefeed]).to include(emitted_total: 1, max_size: 1000)
    end

    it "answers server_status over the wire with ok first and the same keys" do
      server = start_server
      client = client_for(server)
      write(client, "a")
      status = client.send(:rpc, "server_status")

      expect(status.keys.first).to eq(:ok)
      expect(status.keys.drop(1)).to eq(%i[schema_version generated_at status uptime_ms metrics alerts storage server
                                           changefeed recovery])
      expect(status[:metrics][:facts_written]).to eq(1)
      expect(status[:status]).to eq("ready")
    end

    it "appends changefeed alerts after server alerts" do
      server = start_server(metrics_thresholds: { error_rate: 0.0 },
                            changefeed: { alert_thresholds: { total_queued: 0 } })
      expect { client_for(server).send(:rpc, "nope") }.to raise_error(Igniter::Store::NetworkBackend::NetworkError)

      alerts = server.observability_snapshot[:alerts]
      expect(alerts.first).to include(type: :error_rate)
      expect(alerts.drop(1)).to all(include(:code, :severity))
    end
  end

  describe "events" do
    it "logs server_start (component server), connection_open and connection_close (component op) lines" do
      io = StringIO.new
      server = start_server(logger: Igniter::Store::ServerLogger.new(io, :info, format: :json))
      client_for(server).tap { |c| c.send(:rpc, "ping") }.close
      poll_until(message: "connection_close not logged") { io.string.include?('"event":"connection_close"') }

      events = io.string.lines.map { |line| JSON.parse(line) }.select { |line| line["event"] }
      expect(events.map { |e| [e["event"], e["component"]] })
        .to include(%w[server_start server], %w[connection_open op], %w[connection_close op])
      expect(events.find { |e| e["event"] == "server_start" }).to include("bind_address" => server.bind_address)
    end

    it "logs one access line per op-protocol request at debug: op, status, duration, bytes, request_id" do
      io = StringIO.new
      server = start_server(logger: Igniter::Store::ServerLogger.new(io, :debug, format: :json))
      socket = op_socket(server)
      op_call(socket, op: "ping", request_id: 7)
      op_call(socket, op: "nope")
      poll_until(message: "request lines missing") { io.string.include?('"event":"request_error"') }

      lines = io.string.lines.map { |line| JSON.parse(line) }
      ping = lines.find { |line| line["event"] == "request" }
      expect(ping).to include("level" => "debug", "component" => "op", "op" => "ping", "status" => "ok",
                              "request_id" => 7, "bytes_in" => '{"op":"ping","request_id":7}'.bytesize)
      expect(ping["duration_ms"]).to be_a(Numeric)
      expect(ping["bytes_out"]).to be > 8
      expect(lines.find { |line| line["event"] == "request_error" })
        .to include("level" => "warn", "op" => "nope", "status" => "unknown_op", "error" => 'Unknown op: "nope"')
    end

    it "records every level in recent_events, bounded by max_recent_events" do
      server = start_server(max_recent_events: 3)
      client = client_for(server)
      5.times { client.send(:rpc, "ping") }

      events = server.recent_events
      expect(events.size).to eq(3)
      expect(events.last).to include(type: :request, level: :debug, op: "ping")
      expect(events.last[:ts]).to match(/\.\d{3}[+-]\d{2}:\d{2}\z/)
    end

    it "starts with server_start in recent_events and returns a copy" do
      server = start_server
      poll_until(message: "server_start missing") { server.recent_events.any? { |e| e[:type] == :server_start } }
      server.recent_events.clear

      expect(server.recent_events.first)
        .to include(type: :server_start, level: :info, transport: :tcp, backend: :memory)
    end

    it "records request_error with the message for a failed op" do
      server = start_server
      expect { client_for(server).send(:rpc, "nope") }.to raise_error(Igniter::Store::NetworkBackend::NetworkError)

      expect(server.recent_events).to include(include(type: :request_error, level: :warn, op: "nope",
                                                      error: 'Unknown op: "nope"'))
    end

    it "records slow ops before the reply when the threshold is exceeded" do
      server = start_server(slow_op_threshold_ms: -1)
      client_for(server).send(:rpc, "ping")

      expect(server.metrics_snapshot[:slow_ops_total]).to eq("ping" => 1)
      expect(server.recent_events).to include(include(type: :slow_op, op: "ping", threshold_ms: -1))
    end

    it "does not track slow ops by default" do
      server = start_server
      client_for(server).send(:rpc, "ping")

      expect(server.metrics_snapshot[:slow_ops_total]).to eq({})
    end

    it "fires a slow_op_count alert past its threshold" do
      server = start_server(slow_op_threshold_ms: -1, metrics_thresholds: { slow_op_count: 2 })
      client = client_for(server)
      3.times { client.send(:rpc, "ping") }

      expect(server.observability_snapshot[:alerts].map { |a| a[:type] }).to include(:slow_op_count)
    end
  end

  describe "a connection-level failure" do
    it "closes the connection and records last_error, a backend_error event and an error count" do
      server = start_server
      allow(server).to receive(:record_request).and_raise(RuntimeError, "bookkeeping broke\n  snippet")
      socket = op_socket(server)

      expect(op_call(socket, op: "ping")).to eq(:eof)
      poll_until(message: "connection not released") { server.active_connections.zero? }
      expect(server.health_snapshot[:last_error]).to eq("bookkeeping broke")
      expect(server.recent_events).to include(include(type: :backend_error, level: :error,
                                                      error_class: "RuntimeError", message: "bookkeeping broke"))
      expect(server.recent_events).to include(include(type: :connection_close, reason: :error))
      expect(server.metrics_snapshot[:errors_total]).to include("RuntimeError/connection" => 1)
    end
  end

  describe "draining" do
    it "turns not ready, reports :draining, refuses new connections and emits server_draining" do
      server = start_server
      server.drain(timeout: 0.05)

      expect(server).not_to be_ready
      expect(server).to be_draining
      expect(server.status).to eq(:draining)
      socket = op_socket(server)
      expect(op_read(socket, timeout: 2)).to eq(:eof)
      poll_until(message: "rejection not counted") { server.metrics_snapshot[:rejected_connections_total] == 1 }
      expect(server.recent_events.map { |e| e[:type] }).to include(:server_draining)
    end

    it "is chainable into stop, ending :stopped with draining? still true" do
      server = start_server

      expect(server.drain(timeout: 0.05).stop.status).to eq(:stopped)
      expect(server).to be_draining
      expect(server.drain).to equal(server)
    end
  end
end
