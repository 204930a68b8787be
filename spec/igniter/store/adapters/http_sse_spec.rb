# frozen_string_literal: true

RSpec.describe "HTTPAdapter GET /v1/events (SSE)" do
  let(:interpreter) { Igniter::Store::Protocol.new }
  let(:buffer) { Igniter::Store::ChangefeedBuffer.new }
  let(:heartbeat) { Igniter::Store::HTTPAdapter::SseBody::DEFAULT_HEARTBEAT_INTERVAL }
  let(:app) do
    Igniter::Store::HTTPAdapter.new(interpreter: interpreter, changefeed_provider: -> { buffer },
                                    events_provider: -> { [{ type: :server_start }] },
                                    sse_heartbeat_interval: heartbeat).rack_app
  end

  def events(query: nil, headers: {})
    app.call(rack_env("GET", "/v1/events", query: query, headers: headers))
  end

  # Ring sequences streamed by +response+; waits for +frames+ of them when given.
  def ids_of(response, frames: nil, &block)
    sse_frames(stream_sse(response[2], frames: frames, &block)).map { |f| f[:sequence] }
  end

  after { buffer.close }

  it "answers POST with 405" do
    expect(app.call(rack_env("POST", "/v1/events"))[0]).to eq(405)
  end

  it "answers 503 when no changefeed is configured" do
    bare = Igniter::Store::HTTPAdapter.new(interpreter: interpreter).rack_app
    response = bare.call(rack_env("GET", "/v1/events"))
    expect([response[0], json_body(response)]).to eq([503, { "error" => "SSE events endpoint not configured" }])
  end

  it "answers 503 once the changefeed is closed" do
    buffer.close
    response = events
    expect([response[0], json_body(response)])
      .to eq([503, { "error" => "SSE events endpoint unavailable: changefeed is closed" }])
  end

  it "streams with event-stream headers and a body that can be closed before each" do
    status, headers, body = events
    expect(status).to eq(200)
    expect(headers).to eq("Content-Type" => "text/event-stream; charset=utf-8", "Cache-Control" => "no-cache",
                          "X-Accel-Buffering" => "no")
    expect { body.close }.not_to raise_error
  end

  it "replays retained events with positions as ids, in sequence order, and the fact_committed event name" do
    emit_facts(buffer, 3)
    frames = sse_frames(stream_sse(events[2], frames: 3))
    expect(frames.map { |f| f[:sequence] }).to eq([1, 2, 3])
    expect(frames.map { |f| f[:id] }).to eq(frames.map { |f| "#{f[:data]["transaction_time"]}:#{f[:data]["fact_id"]}" })
    expect(frames.map { |f| f[:data]["position"] }).to eq(frames.map { |f| f[:id] })
    expect(frames.map { |f| f[:event] }.uniq).to eq(["fact_committed"])
  end

  it "sends ChangeEvent data as single-line JSON without the fact" do
    emit_facts(buffer, 1)
    text = stream_sse(events[2], frames: 1)
    data = sse_frames(text).first[:data]
    expect(text.lines.grep(/\Adata: /).size).to eq(1)
    expect(data).to include("schema_version" => 1, "type" => "fact_committed", "store" => "tasks", "key" => "k0",
                            "cursor" => { "sequence" => 1 })
    expect(data["fact_id"]).to be_a(String)
    expect(data).not_to have_key("fact")
  end

  it "adds the whole fact as fact_document, the body the envelope read ops send, Symbols included" do
    fact = Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { status: :open, tags: [:a, "b"] }, valid_time: 100.0)
    buffer.emit(fact)
    data = sse_frames(stream_sse(events[2], frames: 1)).first[:data]
    expect(data["fact_document"]).to eq(Igniter::Store::Protocol::FactDocument.from(fact))
    expect(data["fact_document"]).to include("symbols" => [%w[value status], ["value", "tags", 0]],
                                             "valid_time_iso" => "1970-01-01T00:01:40.000000000Z")
    expect(Igniter::Store::Fact.from_h(data["fact_document"])).to eq(fact)
    expect(data["fact_id"]).to eq(fact.id)
  end

  describe "cursor" do
    before { emit_facts(buffer, 5) }

    it "resumes after Last-Event-ID" do
      expect(ids_of(events(headers: { "HTTP_LAST_EVENT_ID" => "3" }), frames: 2)).to eq([4, 5])
    end

    it "resumes after ?cursor=" do
      expect(ids_of(events(query: "cursor=2"), frames: 3)).to eq([3, 4, 5])
    end

    it "prefers Last-Event-ID over ?cursor=" do
      expect(ids_of(events(query: "cursor=1", headers: { "HTTP_LAST_EVENT_ID" => "4" }), frames: 1)).to eq([5])
    end

    it "replays everything retained without a cursor" do
      expect(ids_of(events, frames: 5)).to eq([1, 2, 3, 4, 5])
    end

    it "answers a negative cursor with 400 (0.5.2 gave a bogus 409)" do
      [events(query: "cursor=-1"), events(headers: { "HTTP_LAST_EVENT_ID" => "-5" })].each do |response|
        expect(response[0]).to eq(400)
        expect(json_body(response)["error"]).to match(/\AInvalid cursor: -\d+ \(must be >= 0\)\z/)
      end
      expect(buffer.subscriber_count).to eq(0)
    end
  end

  describe "with a small ring" do
    let(:buffer) { Igniter::Store::ChangefeedBuffer.new(max_size: 2) }

    it "answers a cursor older than the ring with 409 cursor_too_old" do
      emit_facts(buffer, 5)
      status, headers, body = events(query: "cursor=1")
      expect([status, headers["Content-Type"]]).to eq([409, "application/json"])
      payload = JSON.parse(body.join)
      expect(payload).to include("status" => "cursor_too_old", "oldest_cursor" => { "sequence" => 4 },
                                 "newest_cursor" => { "sequence" => 5 })
      expect(payload["dropped_total"]).to be > 0
      expect(buffer.subscriber_count).to eq(0)
    end
  end

  describe "with a ring of three" do
    let(:buffer) { Igniter::Store::ChangefeedBuffer.new(max_size: 3) }

    it "treats a cursor just before the oldest retained event as no gap" do
      emit_facts(buffer, 5)
      expect(ids_of(events(query: "cursor=2"), frames: 3)).to eq([3, 4, 5])
    end
  end

  describe "store filters" do
    before do
      emit_facts(buffer, 2, store: :a, prefix: "a")
      emit_facts(buffer, 1, store: :b, prefix: "b")
      emit_facts(buffer, 1, store: :c, prefix: "c")
    end

    def stores_of(response, frames)
      sse_frames(stream_sse(response[2], frames: frames)).map { |f| f[:data]["store"] }
    end

    it "keeps one store with ?store=" do
      expect(stores_of(events(query: "store=a"), 2)).to eq(%w[a a])
    end

    it "keeps several with ?stores=a,b" do
      expect(stores_of(events(query: "stores=a,%20b"), 3)).to eq(%w[a a b])
    end

    it "accepts a repeated store= parameter (0.5.2 crashed)" do
      expect(stores_of(events(query: "store=b&store=c"), 2)).to eq(%w[b c])
    end

    it "keeps every store without a filter" do
      expect(stores_of(events, 4)).to eq(%w[a a b c])
    end
  end

  describe "live delivery" do
    it "streams a live event after the replay, exactly once" do
      emit_facts(buffer, 1)
      response = events
      frames = sse_frames(stream_sse(response[2], frames: 2) do
        sleep 0.03
        buffer.emit(Igniter::Store::Fact.build(store: :tasks, key: "live1", value: {}))
      end)
      expect(frames.size).to eq(2)
      expect(frames.last[:data]["key"]).to eq("live1")
    end

    it "applies the store filter to live events" do
      response = events(query: "store=tasks")
      frames = sse_frames(stream_sse(response[2], frames: 1) do
        sleep 0.03
        buffer.emit(Igniter::Store::Fact.build(store: :other, key: "x", value: {}))
        buffer.emit(Igniter::Store::Fact.build(store: :tasks, key: "y", value: {}))
      end)
      expect(frames.map { |f| f[:data]["key"] }).to eq(["y"])
    end

    it "loses nothing emitted between the response and the first each (no catch-up/live gap)" do
      emit_facts(buffer, 2, prefix: "old")
      response = events
      emit_facts(buffer, 3, prefix: "gap") # after call, before each: 0.5.2 lost these
      expect(ids_of(response, frames: 5)).to eq([1, 2, 3, 4, 5])
    end

    it "delivers a burst larger than the subscriber queue completely and in order" do
      buffer = Igniter::Store::ChangefeedBuffer.new(subscriber_queue_size: 2)
      app = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, changefeed_provider: -> { buffer }).rack_app
      body = app.call(rack_env("GET", "/v1/events"))[2]
      frames = sse_frames(stream_sse(body, frames: 60) { emit_facts(buffer, 60) })
      expect(frames.map { |f| f[:sequence] }).to eq((1..60).to_a)
    ensure
      buffer.close
    end

    it "holds one subscription while streaming and releases it on close" do
      body = events[2]
      reader = Thread.new { body.each { |_| nil } }
      sleep 0.04
      expect(buffer.subscriber_count).to eq(1)
      body.close
      expect(reader.join(1)).not_to be_nil
      expect(buffer.subscriber_count).to eq(0)
    end

    it "returns at once from each when closed before it ran" do
      body = events[2]
      body.close
      expect(buffer.subscriber_count).to eq(0)
      reader = Thread.new { body.each { |_| nil } }
      expect(reader.join(1)).not_to be_nil
    end

    it "ends the stream when eviction overtakes a stalled reader" do
      buffer = Igniter::Store::ChangefeedBuffer.new(max_size: 3)
      app = Igniter::Store::HTTPAdapter.new(interpreter: interpreter, changefeed_provider: -> { buffer }).rack_app
      body = app.call(rack_env("GET", "/v1/events"))[2]
      stalled = Queue.new
      release = Queue.new
      reader = Thread.new do
        body.each do |_chunk|
          stalled << true
          release.pop
        end
      end
      emit_facts(buffer, 1)
      stalled.pop
      emit_facts(buffer, 10, prefix: "burst") # the ring now starts far past the reader's cursor
      release << true
      10.times { release << true }
      expect(reader.join(2)).not_to be_nil
      expect(buffer.subscriber_count).to eq(0)
    ensure
      buffer.close
    end
  end

  describe "heartbeat" do
    let(:heartbeat) { 0.05 }

    it "sends a keepalive comment after a quiet interval" do
      body = events[2]
      chunks = Queue.new
      reader = Thread.new { body.each { |chunk| chunks << chunk } }
      text = +""
      expect(wait_until { (text << drain_queue(chunks)).include?(": keepalive\n\n") }).to be(true)
      body.close
      reader.join(1)
      expect(sse_frames(text)).to eq([])
    end
  end

  it "sends no heartbeat before the default interval" do
    emit_facts(buffer, 1)
    expect(stream_sse(events[2])).not_to include("keepalive")
  end

  it "does not shadow /v1/events/recent" do
    response = app.call(rack_env("GET", "/v1/events/recent"))
    expect(json_body(response)).to eq("events" => [{ "type" => "server_start" }], "count" => 1)
  end
end
