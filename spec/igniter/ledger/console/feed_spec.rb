# frozen_string_literal: true

require_relative "console_helpers"

RSpec.describe Igniter::Ledger::Console::Feed, :console do
  def events_body(app, headers = {})
    status, response_headers, body = app.call(Rack::MockRequest.env_for("/api/events", headers))
    expect(status).to eq(200)
    expect(response_headers["Content-Type"]).to eq("text/event-stream; charset=utf-8")
    body
  end

  context "over a store's ChangefeedBuffer" do
    let(:feed) { Igniter::Store::ChangefeedBuffer.new }
    let(:store) { Igniter::Store::IgniterStore.new(changefeed: feed) }
    let(:app) { console_for(store, heartbeat_interval: 0.2) }

    after { feed.close }

    it "streams the retained events, then live writes, with the fact's position as id" do
      first = store.write(store: :tasks, key: "t1", value: { n: 1 })
      body = events_body(app)
      Thread.new { sleep 0.1; store.write(store: :tasks, key: "t2", value: { n: 2 }) }
      frames = read_frames(body, 2)
      expect(frames.map { |f| [f[:event], f[:data][:key], f[:data][:cursor][:sequence]] })
        .to eq([["fact_committed", "t1", 1], ["fact_committed", "t2", 2]])
      expect(frames.first[:id]).to eq("#{first.transaction_time}:#{first.id}")
    end

    it "sends each fact whole as fact_document, Symbols restorable" do
      fact = store.write(store: :tasks, key: "t1", value: { status: :open })
      data = read_frames(events_body(app), 1).first[:data]
      expect(Igniter::Store::Fact.from_h(data[:fact_document])).to eq(fact)
    end

    it "resumes after Last-Event-ID and filters by store" do
      store.write(store: :tasks, key: "t1", value: 1)
      store.write(store: :notes, key: "n1", value: 2)
      store.write(store: :tasks, key: "t2", value: 3)
      frames = read_frames(events_body(app, "HTTP_LAST_EVENT_ID" => "1", "QUERY_STRING" => "stores=tasks"), 1)
      expect(frames.map { |f| f[:data][:key] }).to eq(["t2"])
    end

    it "closes its open streams on #close" do
      body = events_body(app)
      reader = Thread.new { body.each { |_chunk| nil } }
      sleep 0.05
      expect(app.open_streams).to eq(1)
      app.close
      expect(reader.join(2)).to be_truthy
      expect(app.open_streams).to eq(0)
    end
  end

  context "over a store without a changefeed buffer (log polling)" do
    let(:store) { Igniter::Store.memory }
    let(:app) { console_for(store, poll_interval: 0.02, heartbeat_interval: 0.1) }

    it "sends the most recent facts, then each new write, ids being transaction_time:fact_id" do
      first = store.write(store: :tasks, key: "t1", value: { n: 1 })
      body = events_body(app)
      Thread.new { sleep 0.1; store.write(store: :tasks, key: "t2", value: { n: 2 }) }
      frames = read_frames(body, 2)
      expect(frames.map { |f| f[:data][:key] }).to eq(%w[t1 t2])
      expect(frames.first[:id]).to eq("#{first.transaction_time}:#{first.id}")
      expect(frames.first[:data]).to include(store: "tasks", fact_id: first.id, type: "fact_committed")
      # The same fact body as the server's own stream (a ChangefeedBuffer) sends.
      expect(Igniter::Store::Fact.from_h(frames.first[:data][:fact_document])).to eq(first)
    end

    it "catches up on a fresh stream with at most the last #{Igniter::Ledger::Console::LogSource::CATCH_UP} facts" do
      60.times { |i| store.write(store: :tasks, key: "k#{i}", value: i) }
      frames = read_frames(events_body(app), 50)
      expect(frames.first[:data][:key]).to eq("k10")
      expect(frames.last[:data][:key]).to eq("k59")
    end

    it "resumes right after the fact named by Last-Event-ID, and follows only the stores asked for" do
      first = store.write(store: :tasks, key: "t1", value: 1)
      store.write(store: :notes, key: "n1", value: 2)
      store.write(store: :tasks, key: "t2", value: 3)
      frames = read_frames(events_body(app, "HTTP_LAST_EVENT_ID" => "#{first.transaction_time}:#{first.id}",
                                            "QUERY_STRING" => "store=tasks"), 1)
      expect(frames.map { |f| f[:data][:key] }).to eq(["t2"])
    end

    it "keeps the connection alive with comments while nothing is written" do
      body = events_body(app)
      chunks = []
      reader = Thread.new { body.each { |chunk| chunks << chunk; break if chunks.size == 1 } }
      expect(reader.join(2)).to be_truthy
      expect(chunks).to eq([": keepalive\n\n"])
    end

    it "treats a malformed Last-Event-ID as none" do
      source = Igniter::Ledger::Console::LogSource
      expect(source.cursor_from("nonsense")).to be_nil
      expect(source.cursor_from("x:abc")).to be_nil
      expect(source.cursor_from(" 12.5:abc ")).to eq(sequence: "12.5:abc")
    end

    it "streams everything from the start after a stream that began empty" do
      body = events_body(app)
      Thread.new { sleep 0.1; 3.times { |i| store.write(store: :tasks, key: "k#{i}", value: i) } }
      expect(read_frames(body, 3).map { |f| f[:data][:key] }).to eq(%w[k0 k1 k2])
    end

    it "stops polling when the stream closes" do
      body = events_body(app)
      reader = Thread.new { body.each { |_chunk| nil } }
      sleep 0.05
      expect { app.close }.to change(app, :open_streams).from(1).to(0)
      expect(reader.join(2)).to be_truthy
      expect(Thread.list.count { |t| t.alive? && t.backtrace.to_a.any? { |line| line.include?("log_source.rb") } }).to eq(0)
    end
  end
end
