# frozen_string_literal: true

# Resident memory per fact: one child per path opens a WAL of
# BENCH_MEMORY_FACTS facts (default 1M, written once by a native child) and
# reports its RSS growth divided by the fact count. The issue 9 target: the
# native path uses no more memory per fact than the pure path.
require_relative "harness"
require "tmpdir"
require "fileutils"

module MemoryBench
  FACTS = Integer(ENV.fetch("BENCH_MEMORY_FACTS", "1000000"))

  module_function

  def rss_bytes = Bench.rss_bytes

  def load_library = Bench.load_library

  # Child: writes the WAL (native path, the quicker one; the bytes are the same).
  def create(path)
    load_library
    store = Igniter::Store.open(path)
    FACTS.times { |i| store.write(store: :tasks, key: "key-#{i % Bench::KEYS}", value: Bench.value(i)) }
    store.close
  end

  # Child: opens the WAL and prints the RSS growth and the time it took.
  def measure(path)
    load_library
    GC.start
    before = rss_bytes
    t0 = Bench.monotonic
    store = Igniter::Store.open(path)
    seconds = Bench.monotonic - t0
    GC.start
    raise "loaded #{store.fact_count} facts, expected #{FACTS}" unless store.fact_count == FACTS

    puts JSON.generate("bytes_per_fact" => (rss_bytes - before).fdiv(FACTS), "seconds" => seconds)
  end

  def child(path, env)
    Bench.child_json(__FILE__, env.merge("BENCH_MEMORY_CHILD" => "1", "BENCH_MEMORY_PATH" => path), "memory benchmark")
  end

  def report
    Dir.mktmpdir("igniter-ledger-memory") do |dir|
      path = File.join(dir, "memory.wal")
      child(path, Bench::PATHS["native"].merge("BENCH_MEMORY_CREATE" => "1"))
      native, pure = Bench::PATHS.map { |_, env| child(path, env) }
      ratio = native["bytes_per_fact"] / pure["bytes_per_fact"]
      puts format("%-24s %12s %12s %7s", "memory (#{FACTS} facts)", "native", "pure", "n/p")
      puts format("%-24s %12.0f %12.0f %7.2f  target <= 1.00 %s", "RSS bytes per fact", native["bytes_per_fact"],
                  pure["bytes_per_fact"], ratio, ratio <= 1.0 ? "met" : "NOT met")
      puts format("%-24s %12.1f %12.1f", "load seconds", native["seconds"], pure["seconds"])
      puts
    end
  end
end

if ENV["BENCH_MEMORY_CHILD"]
  path = ENV.fetch("BENCH_MEMORY_PATH")
  ENV["BENCH_MEMORY_CREATE"] ? MemoryBench.create(path) : MemoryBench.measure(path)
else
  MemoryBench.report
end
