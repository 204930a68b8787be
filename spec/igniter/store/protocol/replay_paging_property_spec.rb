# frozen_string_literal: true

# Property: paging a replay with the (transaction_time, fact id) cursor
# visits every fact exactly once, however many facts share a timestamp and
# whatever the page size. The log is built from a WAL of facts with chosen
# times (no clock involved), then reopened, as a hub would see it.
RSpec.describe "Replay paging with the tie-break cursor" do
  let(:dir) { Dir.mktmpdir("protocol-paging") }
  after { FileUtils.rm_rf(dir) }

  def store_with(times)
    path = File.join(dir, "log-#{SecureRandom.hex(4)}.wal")
    backend = Igniter::Store::FileBackend.new(path)
    times.each_with_index { |t, i| backend.write_fact(fact_at(t, store: i.even? ? :a : :b, key: "k#{i % 7}")) }
    backend.close
    Igniter::Store::IgniterStore.open(path)
  end

  def page_through(proto, limit, **opts)
    seen = []
    cursor = nil
    loop do
      page = proto.replay(after: cursor, limit: limit, **opts)
      break if page.empty?

      seen.concat(page.map { |p| p[:id] })
      cursor = Igniter::Store::Protocol::ReplayCursor.after(page.last)
    end
    seen
  end

  it "returns every fact exactly once for random tie-heavy logs and page sizes" do
    rng = Random.new(RSpec.configuration.seed)
    8.times do
      times = Array.new(rng.rand(20..120)) { 1_700_000_000.0 + rng.rand(0..4) } # many equal timestamps
      store = store_with(times)
      proto = Igniter::Store::Protocol.new(store)
      all_ids = store.fact_log_all.map(&:id)
      [1, 3, rng.rand(2..17), times.size].each do |limit|
        seen = page_through(proto, limit)
        expect(seen.size).to eq(all_ids.size)
        expect(seen.sort).to eq(all_ids.sort)
      end
    end
  end

  it "pages a single timestamp shared by every fact" do
    proto = Igniter::Store::Protocol.new(store_with([42.0] * 25))
    expect(page_through(proto, 4).uniq.size).to eq(25)
  end

  it "combines with a store filter" do
    store = store_with([5.0] * 10)
    proto = Igniter::Store::Protocol.new(store)
    expect(page_through(proto, 2, filter: { store: :a }).sort).to eq(store.history(store: :a).map(&:id).sort)
  end

  it "pages over the wire, resuming from next_cursor after a JSON round trip" do
    proto = Igniter::Store::Protocol.new(store_with([7.0] * 9))
    cursor = nil
    seen = []
    loop do
      env = { protocol: "igniter_store", op: "replay", packet: { after: cursor, limit: 4 } }
      result = JSON.parse(JSON.generate(proto.dispatch(env)), symbolize_names: true)[:result]
      seen.concat(result[:facts].map { |f| f[:id] })
      cursor = result[:next_cursor]
      break unless result[:truncated]
    end
    expect([seen.size, seen.uniq.size]).to eq([9, 9])
  end

  it "continues a sync profile page by page with resume_cursor" do
    store = store_with([3.0] * 6 + [4.0] * 5)
    proto = Igniter::Store::Protocol.new(store)
    first = proto.sync_hub_profile(limit: 4)
    second = proto.sync_hub_profile(cursor: first.resume_cursor, limit: 4)
    third = proto.sync_hub_profile(cursor: second.resume_cursor, limit: 4)
    ids = [first, second, third].flat_map { |p| p.facts.map { |f| f[:id] } }
    expect([third.fact_count, ids.uniq.size, ids.size]).to eq([3, 11, 11])
  end
end
