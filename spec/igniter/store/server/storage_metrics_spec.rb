# frozen_string_literal: true

require "net/http"

# The fdatasync histogram and the HTTP connection gauge of `GET /metrics`:
# the backend times every fdatasync its durability policy makes (both paths
# with the same buckets), and the HTTP listener counts the connections puma
# still holds.
RSpec.describe "Storage fsync and HTTP connection metrics", :servers do
  include LedgerSpec::AdapterHelpers

  FSYNC = "igniter_ledger_storage_fsync_duration_seconds"

  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  def fact(key)
    Igniter::Store::Fact.build(store: :tasks, key: key, value: { n: key })
  end

  def http_write(port, key)
    written = http_post_json(port, "/v1/dispatch", envelope(:write, { store: "tasks", key: key, value: {} }))
    expect(written.code).to eq("200")
  end

  def serve(**opts)
    build_server(**opts).tap { |s| s.start_adapters(http_port: 0) }.tap(&:start_async)
  end

  def scrape(server)
    http_get(port_of(server.http_adapter.bind_address), "/metrics").body
  end

  describe "FileBackend#sync_stats" do
    it "times every fdatasync of :fsync and of group commit, in the shared buckets" do
      fsync = Igniter::Store::FileBackend.new(File.join(@dir, "fsync.wal"), durability: :fsync)
      4.times { |i| fsync.write_fact(fact("f#{i}")) }
      stats = fsync.sync_stats
      fsync.close

      expect(stats[:bounds]).to eq(Igniter::Store::Storage::SyncTiming::BOUNDS)
      expect(stats[:counts].size).to eq(stats[:bounds].size + 1)
      expect(stats[:count]).to eq(4)
      expect(stats[:counts].sum).to eq(4)
      expect(stats[:sum]).to be > 0
      expect(stats).to be_frozen

      group = Igniter::Store::FileBackend.new(File.join(@dir, "group.wal"), durability: { group: 2, interval: 60 })
      5.times { |i| group.write_fact(fact("g#{i}")) }
      expect(group.sync_stats[:count]).to eq(5) # a lone writer syncs each write
      group.close # and close syncs once more, for writers that may still wait
      expect(group.sync_stats[:count]).to eq(6)

      flush = Igniter::Store::FileBackend.new(File.join(@dir, "flush.wal"))
      3.times { |i| flush.write_fact(fact("n#{i}")) }
      expect(flush.sync_stats).to include(count: 0, sum: 0.0, counts: Array.new(13, 0))
      flush.close
    end
  end

  it "shows the WAL's fdatasync durations of --durability fsync as a histogram that promtool accepts" do
    server = serve(backend: :file, path: File.join(@dir, "ledger.wal"), durability: :fsync)
    port = port_of(server.http_adapter.bind_address)
    3.times { |i| http_write(port, "h#{i}") }
    client_for(server).write_fact(fact("op1"))
    text = scrape(server)
    samples = prometheus_samples(text)

    expect(sample_value(samples, "#{FSYNC}_count")).to eq(4)
    expect(sample_value(samples, "#{FSYNC}_bucket", le: "+Inf")).to eq(4)
    buckets = samples.select { |s| s[:name] == "#{FSYNC}_bucket" }.map { |s| s[:value] }
    expect(buckets).to eq(buckets.sort)
    expect(sample_value(samples, "#{FSYNC}_sum")).to be > 0
    out, status = promtool_check(text)
    expect(status).to be_success, out
    expect(out).to be_empty
  end

  it "counts none under the default --durability flush, and times the segments' fdatasync under fsync" do
    flush = serve(backend: :file, path: File.join(@dir, "flush.wal"))
    http_write(port_of(flush.http_adapter.bind_address), "a")
    expect(sample_value(prometheus_samples(scrape(flush)), "#{FSYNC}_count")).to eq(0)
    flush.stop

    segmented = serve(backend: :segmented, path: File.join(@dir, "segments"), durability: :fsync)
    2.times { |i| http_write(port_of(segmented.http_adapter.bind_address), "s#{i}") }
    expect(sample_value(prometheus_samples(scrape(segmented)), "#{FSYNC}_count")).to be >= 2
  end

  it "refuses an unknown durability before opening anything" do
    expect { Igniter::Store::StoreServer.new(port: 0, backend: :file, path: File.join(@dir, "x.wal"), durability: :sometimes) }
      .to raise_error(ArgumentError, "StoreServer durability must be :flush or :fsync, got :sometimes")
    expect(Dir.children(@dir)).to be_empty
  end

  it "reports the HTTP connections puma holds open now" do
    server = serve
    port = port_of(server.http_adapter.bind_address)
    held = Array.new(2) { Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) }
    held.each { |http| expect(http.get("/v1/health").code).to eq("200") } # keep-alive: the sockets stay open

    expect(sample_value(prometheus_samples(scrape(server)), "igniter_ledger_connections", transport: :http)).to eq(3)
    held.each(&:finish)
    poll_until(message: "puma did not close the connections") { server.http_adapter.open_connections <= 1 }
    expect(sample_value(prometheus_samples(scrape(server)), "igniter_ledger_connections", transport: :http)).to eq(1)
  end
end
