# frozen_string_literal: true

# Native/pure differences of FileBackend's constructor and snapshot arguments,
# pinned to one behaviour on both paths.
RSpec.describe "FileBackend arguments behave the same on both paths" do
  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:path) { File.join(@dir, "ledger.wal") }

  it "accepts a group-commit interval beyond any clock (1e30 s, Infinity) and persists writes" do
    [1e30, Float::INFINITY].each do |interval|
      backend = Igniter::Store::FileBackend.new(path, durability: { group: 4, interval: interval })
      fact = build_fact(key: "k#{interval}")
      backend.write_fact(fact)
      backend.close
      expect(Igniter::Store::FileBackend.new(path).tap(&:close).replay.map(&:id)).to include(fact.id)
    end
  end

  it "returns durability and recovery frozen" do
    policy = { group: 4, interval: 0.5 }
    backend = Igniter::Store::FileBackend.new(path, durability: policy)
    expect(backend.durability).to eq(policy).and be_frozen
    expect(policy).not_to be_frozen
    expect(backend.recovery).to be_frozen
    expect(backend.recovery[:quarantined]).to be_frozen
    expect(backend.path).to eq(path).and be_frozen
    backend.close
  end

  it "refuses a path with a NUL byte or bytes that are not UTF-8 with ArgumentError" do
    nul = "#{@dir}/a\0b.wal"
    expect { Igniter::Store::FileBackend.new(nul) }
      .to raise_error(ArgumentError, "path contains a null byte: #{nul.inspect}")
    latin1 = "#{@dir}/caf\xE9.wal".b
    expect { Igniter::Store::FileBackend.new(latin1) }
      .to raise_error(ArgumentError, "path is not valid UTF-8: #{latin1.inspect}")
    expect(Dir.children(@dir)).to be_empty
  end

  it "accepts UTF-8 paths given as binary Strings" do
    name = File.join(@dir, "café.wal").b
    backend = Igniter::Store::FileBackend.new(name)
    expect(backend.path).to eq(File.join(@dir, "café.wal"))
    expect(backend.path.encoding).to eq(Encoding::UTF_8)
    backend.close
  end

  it "snapshots any Enumerable of facts: a Set, an Enumerator, a lazy enumerator" do
    facts = Array.new(3) { |i| build_fact(key: "k#{i}") }
    backend = Igniter::Store::FileBackend.new(path)
    [Set.new(facts), facts.each, facts.lazy.map(&:itself)].each do |enum|
      backend.write_snapshot(enum)
      expect(frame_bodies(backend.snapshot_path).drop(1).map { |b| JSON.parse(b)["id"] }).to eq(facts.map(&:id))
    end
    backend.replace_with_snapshot!(Set.new(facts.first(2)))
    expect(backend.replay.map(&:id)).to eq(facts.first(2).map(&:id))
    backend.close
  end
end
