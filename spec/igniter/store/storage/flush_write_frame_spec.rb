# frozen_string_literal: true

require "json"

# What a `:flush` write through IgniterStore puts in the WAL (doc/format.md
# "WAL", doc/contracts.md): the frame is in the file when `write` returns, its
# `value_hash` is the hash of the value's canonical JSON whatever the order of
# the value's members, and the fact answers the same hash afterwards. The
# native write computes the hash from the walk that writes the value's text
# (doc/performance.md "File writes"); these values make it reorder members,
# keep the last of repeated names and copy sorted subtrees whole.
RSpec.describe "A :flush write's frame" do
  let(:values) do
    [
      { n: 1, title: "task 1", status: :open, tags: ["ops", "q1"], nested: { y: 2, x: 1 } },
      { a: 1, b: { c: [1, 2.5, nil], d: "x" }, e: true },
      { "b" => 1, a: 2, "a" => 3 },
      { z: [{ "k\"" => 1, "k\n" => 2, "é" => :sym }, { b: 1, a: 2 }], "": 0 },
      { big: 2**70, f: 1.0e20, s: 1.0e-05, neg: -0.0, list: [] },
      [3, { y: 1, x: [{ q: 1, p: 2 }] }],
      "plain text",
      nil
    ]
  end

  def frames(path)
    data = File.binread(path)
    out = []
    at = 0
    while at < data.bytesize
      len = data.byteslice(at, 4).unpack1("N")
      out << JSON.parse(data.byteslice(at + 4, len))
      at += 4 + len + 4
    end
    out
  end

  it "is in the file when write returns, with the hash of the canonical value" do
    with_tmpdir do |dir|
      path = File.join(dir, "flush.wal")
      store = Igniter::Store::IgniterStore.new(backend: Igniter::Store::FileBackend.new(path, durability: :flush))
      values.each_with_index do |value, i|
        fact = store.write(store: :tasks, key: "k#{i}", value: value)
        frame = frames(path).last
        expect(frame["id"]).to eq(fact.id)
        expect(frame["value_hash"]).to eq(Igniter::Store::JsonCanon.value_hash(fact.value))
        expect(fact.value_hash).to eq(frame["value_hash"])
      end
      expect(frames(path).size).to eq(values.size)
      store.close
    end
  end

  it "is read back with the same hashes" do
    with_tmpdir do |dir|
      path = File.join(dir, "flush.wal")
      store = Igniter::Store.open(path)
      written = values.each_with_index.map { |value, i| store.write(store: :tasks, key: "k#{i}", value: value) }
      store.close
      reopened = Igniter::Store.open(path)
      replayed = written.map { |fact| reopened.history(store: :tasks, key: fact.key).last }
      expect(replayed.map(&:value_hash)).to eq(written.map(&:value_hash))
      reopened.close
    end
  end

  it "is not written, and memory keeps no fact, when the value cannot be encoded" do
    with_tmpdir do |dir|
      path = File.join(dir, "flush.wal")
      store = Igniter::Store.open(path)
      store.write(store: :tasks, key: "k", value: { ok: 1 })
      size = File.size(path)
      expect { store.write(store: :tasks, key: "k", value: { bad: Float::NAN }) }
        .to raise_error(Igniter::Store::NonFiniteNumberError, /NaN/)
      expect(File.size(path)).to eq(size)
      expect(store.fact_count).to eq(1)
      expect(store.read(store: :tasks, key: "k")).to eq(ok: 1)
      store.close
    end
  end
end
