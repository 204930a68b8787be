# frozen_string_literal: true

# The envelope ops added for remote reads and the HTTP API — history,
# fact_by_id, stats, scope queries — and what every op now takes for a time
# (seconds or ISO-8601) and how it refuses a packet field of the wrong type.
# Through the real router (Interpreter#wire), over JSON where the wire form
# matters.
RSpec.describe "Open protocol read ops: history, fact_by_id, stats, scope queries" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:proto) { Igniter::Store::Protocol.new(store) }
  let(:iso) { Igniter::Store::Protocol::TimeParam.method(:iso8601) }

  # [response, failure kind or nil], after a JSON round trip of the envelope (as a transport sends it)
  def call(op, packet = {})
    envelope = JSON.parse(JSON.generate({ protocol: "igniter_store", op: op, packet: packet }), symbolize_names: true)
    response, failure = proto.wire.dispatch_classified(envelope)
    [JSON.parse(JSON.generate(response), symbolize_names: true), failure&.kind]
  end

  def result(op, packet = {})
    response, kind = call(op, packet)
    raise "#{op} failed (#{kind}): #{response[:error]}" unless kind.nil?

    response[:result]
  end

  let!(:first) { store.write(store: :tasks, key: "t1", value: { title: "Ship", status: :open }, valid_time: 100.0) }
  let!(:second) { store.write(store: :tasks, key: "t1", value: { title: "Ship", status: :done }) }
  let!(:other) { store.write(store: :tasks, key: "t2", value: { title: "Test", status: :open }) }

  describe "history" do
    it "answers every fact of the key whole, in append order, with ISO-8601 times beside the seconds" do
      facts = result(:history, { store: "tasks", key: "t1" })[:facts]
      expect(facts.map { |f| f[:id] }).to eq([first.id, second.id])
      expect(facts.map { |f| Igniter::Store::Fact.from_h(f) }).to eq([first, second])
      expect(facts.first).to include(transaction_time: first.transaction_time, valid_time: 100.0,
                                     transaction_time_iso: iso.call(first.transaction_time),
                                     valid_time_iso: "1970-01-01T00:01:40.000000000Z", symbols: [%w[value status]])
      expect(facts.last).to include(causation: first.id, valid_time: nil, valid_time_iso: nil)
    end

    it "answers a whole store without a key, and bounds by since and as_of given in either form" do
      expect(result(:history, { store: "tasks" })[:count]).to eq(3)
      expect(result(:history, { store: "tasks", as_of: iso.call(first.transaction_time) })[:facts].map { |f| f[:id] })
        .to eq([first.id])
      expect(result(:history, { store: "tasks", key: "t1", since: second.transaction_time })[:facts].map { |f| f[:id] })
        .to eq([second.id])
      expect(result(:history, { store: "nope", key: "x" })).to eq(facts: [], count: 0)
    end

    it "refuses a missing store and a time that is neither seconds nor ISO-8601, naming them" do
      expect(call(:history, { key: "t1" })).to eq(
        [{ protocol: "igniter_store", schema_version: 1, request_id: nil, status: "error",
           error: "Internal error: key not found: :store" }, :invalid_packet]
      )
      response, kind = call(:history, { store: "tasks", as_of: "last tuesday" })
      expect([kind, response[:error]]).to eq(
        [:invalid_packet, "Internal error: as_of must be seconds since the epoch or an ISO-8601 time with a zone " \
                          "(2026-11-26T10:30:21Z), got \"last tuesday\""]
      )
    end
  end

  describe "fact_by_id" do
    it "answers the live fact whole, or found: false" do
      found = result(:fact_by_id, { fact_id: second.id })
      expect(found[:found]).to be(true)
      expect(Igniter::Store::Fact.from_h(found[:fact])).to eq(second)
      expect(result(:fact_by_id, { fact_id: "no-such-id" })).to eq(found: false, fact: nil)
    end

    it "refuses an id that is not a string" do
      response, kind = call(:fact_by_id, { fact_id: 7 })
      expect([kind, response[:error]]).to eq([:invalid_packet, "Internal error: fact_id must be a string, got a number: 7"])
    end
  end

  describe "stats" do
    it "counts facts and keys per store, with the first and last transaction time in both forms" do
      stats = result(:stats)
      expect(stats).to include(fact_count: 3, store_count: 1, key_count: 2)
      expect(stats[:stores]).to eq(
        [{ store: "tasks", facts: 3, keys: 2, first_transaction_time: first.transaction_time,
           last_transaction_time: other.transaction_time, internal: false,
           first_transaction_time_iso: iso.call(first.transaction_time),
           last_transaction_time_iso: iso.call(other.transaction_time) }]
      )
    end
  end

  describe "query by scope" do
    it "answers the registered path's facts whole, beside the usual listing" do
      store.register_path(Igniter::Store.access_path(store: :tasks, scope: :open, filters: { status: :open }))
      listing = result(:query, { store: "tasks", scope: "open" })
      expect(listing.slice(:items, :count)).to eq(items: [{ key: "t2", value: { title: "Test", status: "open" } }], count: 1)
      expect(listing[:facts].map { |f| Igniter::Store::Fact.from_h(f) }).to eq([other])
    end

    it "refuses a scope no path has, naming it" do
      response, kind = call(:query, { store: "tasks", scope: "late" })
      expect([kind, response[:error]]).to eq([:invalid_packet, "Internal error: No registered path for store=:tasks scope=:late"])
    end
  end

  describe "query by where" do
    it "sends the matching facts whole beside 0.5.2's listing, so Symbol values can be restored" do
      listing = result(:query, { store: "tasks", where: { title: "Ship" }, order: "title", limit: 5 })
      expect(listing.slice(:items, :results, :count))
        .to eq(items: [{ key: "t1", value: { title: "Ship", status: "done" } }], results: [{ title: "Ship", status: "done" }], count: 1)
      expect(listing[:facts].map { |f| f.slice(:id, :symbols) }).to eq([{ id: second.id, symbols: [%w[value status]] }])
      expect(listing[:facts].map { |f| Igniter::Store::Fact.from_h(f) }).to eq([second])
      expect(result(:query, { store: "tasks", where: { title: "None" } })).to eq(items: [], results: [], count: 0, facts: [])
    end
  end

  describe "times in packets" do
    it "reads as_of as seconds, as ISO-8601 with any zone, and as a date" do
      t = first.transaction_time
      expect(result(:read, { store: "tasks", key: "t1", as_of: t })[:value]).to eq(title: "Ship", status: "open")
      expect(result(:read, { store: "tasks", key: "t1", as_of: iso.call(t) })[:value]).to eq(title: "Ship", status: "open")
      plus_two = Time.at(t.to_r).getlocal("+02:00").iso8601(9)
      expect(result(:read, { store: "tasks", key: "t1", as_of: plus_two })[:value]).to eq(title: "Ship", status: "open")
      expect(result(:read, { store: "tasks", key: "t1", as_of: "1970-01-02" })).to eq(value: nil, found: false)
      expect(result(:query, { store: "tasks", as_of: iso.call(t) })[:items].map { |i| i[:key] }).to eq(["t1"])
    end

    it "writes times in ISO-8601 that read back as the very same seconds (nanoseconds, UTC)" do
      param = Igniter::Store::Protocol::TimeParam
      random = Random.new(19)
      times = Array.new(5_000) { 1_700_000_000 + (random.rand * 200_000_000) } + [first.transaction_time]
      expect(times.reject { |t| param.seconds(param.iso8601(t), :as_of) == t }).to eq([])
      expect(param.iso8601(1_796_235_847.5)).to eq("2026-12-02T18:24:07.500000000Z")
      expect([param.seconds(nil, :as_of), param.seconds(12, :as_of), param.seconds(" 12.5 ", :as_of)]).to eq([nil, 12, 12.5])
      expect(param.seconds(Time.at(5), :as_of)).to eq(5.0)
      [Float::NAN, Float::INFINITY, "1e999", "", Object.new, true].each do |bad|
        expect { param.seconds(bad, :as_of) }.to raise_error(ArgumentError, /\Aas_of must be seconds since the epoch or an ISO-8601 time/)
      end
    end

    it "stores an ISO-8601 valid_time of a write as seconds" do
      receipt = result(:write, { store: "tasks", key: "t3", value: 1, valid_time: "2026-11-26T10:30:21Z" })
      expect(store.fact_by_id(receipt[:fact_id]).valid_time).to eq(Time.utc(2026, 11, 26, 10, 30, 21).to_f)
    end

    it "refuses a time without a zone and a time of the wrong JSON type" do
      response, kind = call(:read, { store: "tasks", key: "t1", as_of: "2026-11-26T10:30:21" })
      expect([kind, response[:error]]).to eq(
        [:invalid_packet, "Internal error: as_of must be seconds since the epoch or an ISO-8601 time with a zone " \
                          "(2026-11-26T10:30:21Z), got \"2026-11-26T10:30:21\""]
      )
      response, kind = call(:replay, { from: true })
      expect([kind, response[:error]]).to eq(
        [:invalid_packet, "Internal error: from must be seconds since the epoch or an ISO-8601 time, got a boolean: true"]
      )
    end
  end

  describe "packet field types" do
    it "refuses a field of the wrong type before the op runs, naming the field (no internal error)" do
      cases = {
        [:compaction_activity, { limit: {} }] => "limit must be an integer, got an object: {}",
        [:query, { store: "tasks", where: [] }] => "where must be an object, got an array: []",
        [:sync_hub_profile, { stores: [1] }] => "stores must be a store name or an array of them, got an array: [1]",
        [:write, { store: "tasks", key: "k", value: 1, causation: 5 }] => "causation must be a string, got a number: 5",
        [:read, { store: 5, key: "k" }] => "store: must be a Symbol or String, got 5"
      }
      cases.each do |(op, packet), message|
        response, kind = call(op, packet)
        expect([op, kind, response[:error]]).to eq([op, :invalid_packet, "Internal error: #{message}"])
      end
      expect(store.fact_count).to eq(3)
    end

    it "refuses an Integer too big for the op as the client's mistake" do
      response, kind = call(:compaction_activity, { limit: 2**70 })
      expect([kind, response[:error]]).to eq([:invalid_packet, "Internal error: bignum too big to convert into `long'"])
    end
  end

  describe "write with symbols" do
    it "writes Symbols where the packet's symbols paths say, as a local write would" do
      packet = { store: "tasks", key: "t4", value: { status: "open", tags: %w[a b] }, symbols: [["value", "status"], ["value", "tags", 1]] }
      receipt = result(:write, packet)
      expect(store.fact_by_id(receipt[:fact_id]).value).to eq(status: :open, tags: ["a", :b])
      local = store.write(store: :tasks, key: "t5", value: { status: :open, tags: ["a", :b] })
      expect(store.fact_by_id(receipt[:fact_id]).value_hash).to eq(local.value_hash)
    end
  end
end
