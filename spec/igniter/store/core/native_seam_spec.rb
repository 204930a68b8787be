# frozen_string_literal: true

# core/native.rb is the one place the two paths part: it decides once and
# binds the halves of Fact, FactLog, FileBackend and TravelCache and the codecs'
# accelerator. Everything else is written once, for both paths.
RSpec.describe "the native seam" do
  lib = File.join(LedgerSpec::LIB_DIR, "igniter", "store")
  seam = File.join(lib, "core", "native.rb")
  # The accelerator is the only Ruby code that calls the Rust codec halves.
  rust_caller = File.join(lib, "storage", "codecs", "native_accelerator.rb")

  it "is the only library file that reads NATIVE" do
    files = Dir[File.join(lib, "**", "*.rb")] - [seam]
    readers = files.select { |file| File.read(file).match?(/\bNATIVE\b/) }
    expect(readers.map { |file| file.delete_prefix("#{lib}/") }).to eq([])
  end

  it "leaves the Rust codec halves to the native accelerator" do
    files = Dir[File.join(lib, "**", "*.rb")] - [seam, rust_caller]
    callers = files.select { |file| File.read(file).match?(/\bNative\.|NativeCompactEncoder/) }
    expect(callers.map { |file| file.delete_prefix("#{lib}/") }).to eq([])
  end

  it "binds the accelerator of the path this process runs on" do
    codecs = Igniter::Store::Codecs
    expected = Igniter::Store::NATIVE ? codecs::NativeAccelerator : codecs::RubyAccelerator
    expect(codecs::Accelerator).to equal(expected)
    expect(Igniter::Store::CORE).to eq(Igniter::Store::NATIVE ? "native" : "pure")
  end

  it "loads one half of each split class" do
    halves = $LOADED_FEATURES.grep(%r{igniter/store/(core|storage)/(native|pure)/}).map { |f| f[%r{(core|storage)/(native|pure)/\w+}] }
    side = Igniter::Store::NATIVE ? "native" : "pure"
    expected = %W[core/#{side}/fact core/#{side}/fact_log storage/#{side}/file_backend]
    # TravelCache's native half is all Rust (no Ruby protocol to add to it).
    expected << "core/pure/travel_cache" unless Igniter::Store::NATIVE
    expect(halves.sort).to eq(expected.sort)
  end

  it "gives both paths the same codec output through the accelerator" do
    fact = Igniter::Store::Fact.build(store: :seam, key: "k", value: { n: 1 })
    frame = Igniter::Store::Codecs::JsonCrc32.new.frame(fact)
    expect(frame).to eq(Igniter::Store::WireProtocol.encode_frame(Igniter::Store::JsonCanon.fact_body(fact)))
  end
end
