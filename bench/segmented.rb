# frozen_string_literal: true

# Segmented backend, per codec: write facts/s (write + close, which seals),
# open + replay facts/s, and bytes/fact on disk, on both paths. Facts are
# built before timing, so only the backend's work is measured.
#
# Then the big row (issue 20 item 5): a compact_delta_zlib store of
# BENCH_SEGMENTED_BIG facts (default 1,000,000; 0 skips it) over
# BENCH_SEGMENTED_BIG_KEYS keys, written once by a native child, opened once
# per path in BENCH_SEGMENTED_BIG_PATHS (default "native,pure") by a fresh
# child that reports the open's wall, CPU and GC time, its RSS growth and the
# median latency of a time-travel read (`read(as_of:)` at the middle of the
# ledger). The 10M-fact run (native only; about 11 GB of RAM for the writing
# child and 11 minutes on the 2-core VM, see doc/performance.md):
#
#   BENCH_SEGMENTED_BIG=10000000 BENCH_SEGMENTED_BIG_PATHS=native bundle exec ruby bench/segmented.rb
require_relative "harness"
require "tmpdir"
require "fileutils"

N = Bench::FACTS
DIR = Dir.mktmpdir("igniter-ledger-bench-seg")
at_exit { FileUtils.rm_rf(DIR) }
CODECS = %i[json_crc32 compact_delta_zlib].freeze
short = { json_crc32: "json", compact_delta_zlib: "compact" }.freeze

def facts
  @facts ||= Array.new(N) { |i| Igniter::Store::Fact.build(store: :tasks, key: Bench.key(i), value: Bench.value(i)) }
end

def fresh_dir(codec)
  File.join(DIR, "#{codec}-#{Process.clock_gettime(Process::CLOCK_MONOTONIC_RAW, :nanosecond)}")
end

def write_all(root, codec)
  backend = Igniter::Store::SegmentedFileBackend.new(root, codec: codec, time_bucket: :none)
  facts.each { |f| backend.write_fact(f) }
  backend.close
  root
end

# One written directory per codec, shared by the replay and bytes/fact rows.
def replay_dir(codec)
  (@replay_dirs ||= {})[codec] ||= write_all(fresh_dir(codec), codec)
end

CODECS.each do |codec|
  Bench.workload("seg #{short[codec]} write", N, setup: lambda {
    facts
    fresh_dir(codec)
  }) { |root| write_all(root, codec) }

  Bench.workload("seg #{short[codec]} open+replay", N, setup: -> { replay_dir(codec) }) do |root|
    backend = Igniter::Store::SegmentedFileBackend.new(root)
    replayed = backend.replay.size
    backend.close # the next iteration opens the ledger again: one writer at a time
    raise "replayed #{replayed} of #{N}" unless replayed == N
  end

  Bench.metric("seg #{short[codec]} bytes/fact") do
    Dir.glob(File.join(replay_dir(codec), "wal", "**", "segment-*.wal")).sum { |p| File.size(p) }.fdiv(N)
  end
end

# The big row's children (see the header). Not a Bench.workload: it runs
# once, in a process of its own, so its RSS growth is the open's alone.
module SegmentedBig
  FACTS = Integer(ENV.fetch("BENCH_SEGMENTED_BIG", "1000000"))
  KEYS = Integer(ENV.fetch("BENCH_SEGMENTED_BIG_KEYS", "2000"))
  PATHS = ENV.fetch("BENCH_SEGMENTED_BIG_PATHS", "native,pure").split(",")
  READS = 2_000
  CODEC = :compact_delta_zlib

  module_function

  def rss_bytes = Bench.rss_bytes

  def load_library = Bench.load_library

  # Child: writes the ledger through a store (values built in the loop) and
  # notes the transaction time of the middle fact for the time-travel reads.
  def create(root)
    load_library
    store = Igniter::Store.segmented(root, codec: CODEC)
    middle = nil
    t0 = Bench.monotonic
    FACTS.times do |i|
      fact = store.write(store: :tasks, key: "k#{i % KEYS}", value: Bench.value(i))
      middle = fact.transaction_time if i == FACTS / 2
    end
    store.close
    File.write(File.join(root, "bench.json"), JSON.generate("as_of" => middle, "write_seconds" => Bench.monotonic - t0))
  end

  # Child: opens the ledger, then times READS time-travel reads one by one.
  def measure(root)
    load_library
    as_of = JSON.parse(File.read(File.join(root, "bench.json"))).fetch("as_of")
    GC.start
    before = rss_bytes
    gc0 = GC.stat(:time)
    cpu0 = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
    t0 = Bench.monotonic
    store = Igniter::Store.segmented(root)
    seconds = Bench.monotonic - t0
    cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu0
    gc = (GC.stat(:time) - gc0) / 1000.0
    GC.start
    grown = rss_bytes - before
    raise "loaded #{store.fact_count} facts, expected #{FACTS}" unless store.fact_count == FACTS

    rng = Random.new(42)
    latencies = Array.new(READS) do
      key = "k#{rng.rand(KEYS)}"
      t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      found = store.read(store: :tasks, key: key, as_of: as_of)
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t
      raise "no value for #{key} as of the middle" unless found

      elapsed
    end.sort
    store.close
    puts JSON.generate("seconds" => seconds, "cpu" => cpu, "gc" => gc, "bytes_per_fact" => grown.fdiv(FACTS), "rss_growth" => grown,
                       "read_us" => latencies[READS / 2] * 1e6, "read_p99_us" => latencies[READS * 99 / 100] * 1e6)
  end

  def child(root, env)
    Bench.child_json(__FILE__, env.merge("BENCH_SEG_BIG_CHILD" => "1", "BENCH_SEG_BIG_ROOT" => root), "segmented big")
  end

  def report
    return if FACTS.zero?

    Dir.mktmpdir("igniter-ledger-seg-big") do |dir|
      root = File.join(dir, "ledger")
      child(root, Bench::PATHS["native"].merge("BENCH_SEG_BIG_CREATE" => "1"))
      written = JSON.parse(File.read(File.join(root, "bench.json")))
      disk = Dir.glob(File.join(root, "wal", "**", "*")).sum { |p| File.file?(p) ? File.size(p) : 0 }
      puts format("seg compact big: %d facts over %d keys, written natively in %.1f s, %.1f bytes/fact on disk",
                  FACTS, KEYS, written["write_seconds"], disk.fdiv(FACTS))
      puts format("%-10s %10s %10s %10s %14s %12s %14s %10s", "path", "open s", "open CPU s", "GC s", "RSS growth MB",
                  "RSS B/fact", "as_of read us", "p99 us")
      PATHS.each do |path|
        r = child(root, Bench::PATHS.fetch(path))
        puts format("%-10s %10.1f %10.1f %10.1f %14.0f %12.0f %14.1f %10.1f", path, r["seconds"], r["cpu"], r["gc"],
                    r["rss_growth"] / 1e6, r["bytes_per_fact"], r["read_us"], r["read_p99_us"])
      end
      puts
    end
  end
end

if ENV["BENCH_SEG_BIG_CHILD"]
  root = ENV.fetch("BENCH_SEG_BIG_ROOT")
  ENV["BENCH_SEG_BIG_CREATE"] ? SegmentedBig.create(root) : SegmentedBig.measure(root)
else
  Bench.run!(__FILE__)
  SegmentedBig.report unless ENV["BENCH_CHILD"]
end
