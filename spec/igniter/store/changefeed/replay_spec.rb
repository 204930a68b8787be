# frozen_string_literal: true

require_relative "changefeed_helpers"

RSpec.describe Igniter::Store::ChangefeedBuffer, "#replay", changefeed: true do
  subject(:buffer) { described_class.new(max_size: 5) }

  def emit_stores(*stores)
    stores.map { |store| buffer.emit(build_fact(store: store)) }
  end

  def sequences(result)
    result[:events].map(&:sequence)
  end

  it "answers an empty ring with nil cursors whatever cursor is given" do
    expected = { status: :ok, events: [], cursor: nil, oldest_cursor: nil, newest_cursor: nil, dropped_total: 0 }
    expect(buffer.replay).to eq(expected)
    expect(buffer.replay(cursor: { sequence: 9 })).to eq(expected)
  end

  it "returns every retained event for a nil cursor, with keys in order" do
    emitted = emit_stores(:a, :b, :a)
    result = buffer.replay
    expect(result.keys).to eq(%i[status events cursor oldest_cursor newest_cursor dropped_total])
    expect(result[:events]).to eq(emitted)
    expect(result[:events].first).to be(emitted.first)
    expect(result.values_at(:status, :cursor, :oldest_cursor, :newest_cursor))
      .to eq([:ok, { sequence: 3 }, { sequence: 1 }, { sequence: 3 }])
  end

  it "returns the events after a cursor" do
    emit_stores(:a, :a, :a, :a)
    result = buffer.replay(cursor: { sequence: 2 })
    expect(sequences(result)).to eq([3, 4])
    expect(result[:cursor]).to eq({ sequence: 4 })
  end

  it "returns nothing, with the newest cursor, at or beyond the newest event" do
    emit_stores(:a, :a)
    [2, 10].each do |n|
      result = buffer.replay(cursor: { sequence: n })
      expect(result.values_at(:status, :events, :cursor)).to eq([:ok, [], { sequence: 2 }])
    end
  end

  it "treats oldest - 1 as no gap and anything older as cursor_too_old" do
    emit_stores(*Array.new(8, :a)) # ring keeps 4..8, dropped 3
    edge = buffer.replay(cursor: { sequence: 3 })
    expect(edge[:status]).to eq(:ok)
    expect(sequences(edge)).to eq([4, 5, 6, 7, 8])
    too_old = buffer.replay(cursor: { sequence: 2 })
    expect(too_old).to eq(status: :cursor_too_old, events: [], cursor: { sequence: 8 },
                          oldest_cursor: { sequence: 4 }, newest_cursor: { sequence: 8 }, dropped_total: 3)
  end

  it "accepts the cursor of an event and of a String-keyed Hash" do
    first, = emit_stores(:a, :a)
    expect(sequences(buffer.replay(cursor: first.cursor))).to eq([2])
    expect(sequences(buffer.replay(cursor: { "sequence" => 1 }))).to eq([2])
  end

  it "rejects a malformed cursor or limit with ArgumentError" do
    emit_stores(:a)
    expect { buffer.replay(cursor: { seq: 1 }) }.to raise_error(ArgumentError, /cursor must be a Hash/)
    expect { buffer.replay(cursor: 3) }.to raise_error(ArgumentError, /cursor/)
    expect { buffer.replay(limit: -1) }.to raise_error(ArgumentError, /limit must be a non-negative integer/)
  end

  it "filters by store names given as Symbols or Strings" do
    emit_stores(:a, :b, :a, :c)
    expect(sequences(buffer.replay(stores: [:a]))).to eq([1, 3])
    expect(sequences(buffer.replay(stores: %w[b c]))).to eq([2, 4])
    filtered_out = buffer.replay(stores: [:z])
    expect(filtered_out.values_at(:events, :cursor)).to eq([[], { sequence: 4 }])
  end

  it "pages with limit by feeding the cursor back" do
    big = described_class.new(max_size: 10)
    6.times { big.emit(build_fact) }
    page1 = big.replay(limit: 3)
    page2 = big.replay(cursor: page1[:cursor], limit: 3)
    page3 = big.replay(cursor: page2[:cursor], limit: 3)
    expect([sequences(page1), sequences(page2), sequences(page3)]).to eq([[1, 2, 3], [4, 5, 6], []])
  end

  it "does not advance the cursor past unread events for limit 0" do
    emit_stores(:a, :a, :a)
    expect(buffer.replay(limit: 0).values_at(:events, :cursor)).to eq([[], { sequence: 0 }])
    expect(buffer.replay(cursor: { sequence: 1 }, limit: 0)[:cursor]).to eq({ sequence: 1 })
  end

  it "reports the ring's dropped_total" do
    emit_stores(*Array.new(7, :a))
    expect(buffer.replay[:dropped_total]).to eq(2)
  end

  it "resumes after a closed subscription from the last delivered cursor" do
    got = collector
    sub = buffer.subscribe(stores: nil) { |event| got << event }
    emit_stores(:a, :a)
    sub.close
    emit_stores(:a, :a)
    expect(sequences(buffer.replay(cursor: got.items.last.cursor))).to eq([3, 4])
  end
end
