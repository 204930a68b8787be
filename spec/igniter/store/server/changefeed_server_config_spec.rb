# frozen_string_literal: true

require "igniter/store/server/cli"

RSpec.describe "Changefeed settings of StoreServer", :servers do
  let(:buffer_class) { Igniter::Store::ChangefeedBuffer }

  describe "ServerConfig#changefeed" do
    it "defaults to an empty Hash, stores the given Hash as is and shows it in to_h" do
      cf = { max_size: 10, subscriber_queue_size: 5, overflow: :drop_newest, close_policy: :discard,
             diagnostic_ring_size: 7, alert_thresholds: { total_queued: 3, failed_total: 1 } }
      config = Igniter::Store::ServerConfig.new(changefeed: cf)

      expect(Igniter::Store::ServerConfig.new.changefeed).to eq({})
      expect(config.changefeed).to equal(cf)
      expect(config.to_h[:changefeed]).to eq(cf)
    end
  end

  describe "the server's buffer" do
    it "is built from config.changefeed" do
      config = Igniter::Store::ServerConfig.new(port: 0, log_io: nil, changefeed: {
                                                  max_size: 50, subscriber_queue_size: 7, overflow: :drop_newest,
                                                  close_policy: :discard, alert_thresholds: { total_queued: 9 }
                                                })
      feed = build_server(config: config).changefeed

      expect([feed.max_size, feed.subscriber_queue_size, feed.overflow, feed.close_policy])
        .to eq([50, 7, :drop_newest, :discard])
      expect(feed.alert_thresholds).to eq(total_queued: 9)
    end

    it "merges the changefeed kwarg over the config key by key" do
      config = Igniter::Store::ServerConfig.new(port: 0, log_io: nil,
                                                changefeed: { max_size: 1000, subscriber_queue_size: 100 })
      feed = build_server(config: config, changefeed: { max_size: 42 }).changefeed

      expect([feed.max_size, feed.subscriber_queue_size]).to eq([42, 100])
    end

    it "takes the kwarg alone, and defaults without either" do
      expect(build_server(changefeed: { max_size: 5 }).changefeed.max_size).to eq(5)
      feed = build_server.changefeed
      expect([feed.max_size, feed.subscriber_queue_size])
        .to eq([buffer_class::DEFAULT_MAX_SIZE, buffer_class::DEFAULT_SUBSCRIBER_QUEUE_SIZE])
    end

    it "accepts String keys from a parsed config file" do
      expect(build_server(changefeed: { "max_size" => 6 }).changefeed.max_size).to eq(6)
    end

    {
      { max_size: 0 } => /max_size/,
      { subscriber_queue_size: -1 } => /subscriber_queue_size/,
      { overflow: :explode } => /overflow/,
      { close_policy: :maybe } => /close_policy/,
      { alert_thresholds: { bogus: 1 } } => /bogus/,
      { no_such: 1 } => /no_such/
    }.each do |settings, message|
      it "refuses #{settings.inspect} before binding the port" do
        port = TCPServer.new("127.0.0.1", 0).then { |s| s.addr[1].tap { s.close } }

        expect { Igniter::Store::StoreServer.new(port: port, logger: silent_logger, changefeed: settings) }
          .to raise_error(ArgumentError, message)
        expect { TCPSocket.new("127.0.0.1", port).close }.to raise_error(Errno::ECONNREFUSED)
      end
    end

    it "shows its settings, alerts and diagnostics in the observability snapshot" do
      server = build_server(changefeed: { max_size: 77, subscriber_queue_size: 8, overflow: :drop_newest,
                                          close_policy: :discard })
      feed = server.observability_snapshot[:changefeed]

      expect(feed).to include(max_size: 77, subscriber_queue_size: 8, overflow: :drop_newest, close_policy: :discard)
      expect(feed[:alerts]).to be_an(Array)
      expect(feed[:diagnostics]).to include(:recent, :recent_count, :dropped_diagnostics_total)
      expect(server.observability_snapshot[:alerts]).to be_an(Array)
    end

    it "emits legacy writes and envelope writes to the same feed, in commit order" do
      server = start_server
      client_for(server).write_fact(Igniter::Store::Fact.build(store: :tasks, key: "legacy", value: {}))
      server.protocol.wire.dispatch(protocol: "igniter_store", schema_version: 1, request_id: 1, op: "write",
                                    packet: { store: "tasks", key: "envelope", value: { a: 1 } })

      events = server.changefeed.replay[:events]
      expect(events.map(&:key)).to eq(%w[legacy envelope])
      expect(events.map(&:sequence)).to eq([1, 2])
    end
  end

  describe "CLI changefeed flags" do
    def parse(argv)
      Igniter::Store::Server::Configuration.new(argv, env: {}, out: StringIO.new).server_options
    end

    it "adds no changefeed key without changefeed flags" do
      expect(parse([])).not_to have_key(:changefeed)
    end

    it "maps the nine flags onto the ChangefeedBuffer settings" do
      opts = parse(%w[--changefeed-max-size 500 --changefeed-subscriber-queue-size 50
                      --changefeed-overflow drop_newest --changefeed-close-policy discard
                      --changefeed-diagnostic-ring-size 20 --changefeed-alert-total-queued 100
                      --changefeed-alert-overflow-dropped-total 10 --changefeed-alert-failed-total 5
                      --changefeed-alert-queue-pressure-ratio 0.8])

      expect(opts[:changefeed]).to eq(
        max_size: 500, subscriber_queue_size: 50, overflow: :drop_newest, close_policy: :discard,
        diagnostic_ring_size: 20,
        alert_thresholds: { total_queued: 100, overflow_dropped_total: 10, failed_total: 5, queue_pressure_ratio: 0.8 }
      )
    end

    it "adds alert_thresholds only when an alert flag is given" do
      expect(parse(%w[--changefeed-max-size 9])[:changefeed]).to eq(max_size: 9)
    end

    it "produces options that build a valid ServerConfig and buffer" do
      opts = parse(%w[--changefeed-max-size 12 --changefeed-overflow drop_newest --backend memory --no-http])
      config = Igniter::Store::ServerConfig.new(**opts, port: 0, log_io: nil)

      expect(build_server(config: config).changefeed.max_size).to eq(12)
    end
  end
end
