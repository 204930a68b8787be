# frozen_string_literal: true

# File-backed workloads: write under each durability policy, open + replay,
# WAL bytes per fact, and commits from 1, 4 and 16 threads sharing one
# `:fsync` or group-commit ledger (issue 20 item 4). Writes build their value
# and key in the loop, like the floor they are divided by (bench/harness.rb).
require_relative "harness"
require "tmpdir"
require "fileutils"

N = Bench::FACTS
K = Bench::KEYS
FSYNC_N = [N / 25, 500].max
# Commits per threaded row, split over its threads: each one waits for the disk.
COMMITS = Integer(ENV.fetch("BENCH_COMMITS", "400"))
THREADS = [1, 4, 16].freeze
GROUP = { group: 64, interval: 0.05 }.freeze
DIR = Dir.mktmpdir("igniter-ledger-bench")
at_exit { FileUtils.rm_rf(DIR) }

def fresh(name, durability)
  path = File.join(DIR, "#{name}-#{Process.clock_gettime(Process::CLOCK_MONOTONIC_RAW, :nanosecond)}.wal")
  Igniter::Store::IgniterStore.new(backend: Igniter::Store::FileBackend.new(path, durability: durability))
end

def write_all(store, count)
  count.times { |i| store.write(store: :tasks, key: "k#{i % K}", value: Bench.value(i)) }
end

Bench.workload("write (file, flush)", N, setup: -> { fresh("flush", :flush) }) do |store|
  write_all(store, N)
  store.close
end

Bench.workload("write (file, fsync)", FSYNC_N, setup: -> { fresh("fsync", :fsync) }) do |store|
  write_all(store, FSYNC_N)
  store.close
end

REPLAY_PATH = File.join(DIR, "replay.wal")
def replay_wal
  unless File.exist?(REPLAY_PATH)
    store = Igniter::Store.open(REPLAY_PATH)
    write_all(store, N)
    store.close
  end
  REPLAY_PATH
end

Bench.workload("open + replay", N, setup: -> { replay_wal }) do |path|
  Igniter::Store.open(path).close
end

Bench.metric("WAL bytes/fact") { File.size(replay_wal).fdiv(N) }

# Average latency of one commit (seconds) per threaded row, from the sample
# with the best throughput (the one the row's commits/s come from).
LATENCY = {}

# Each of `threads` threads commits its share of COMMITS writes, one at a
# time, timing each; returns [commits/s, mean seconds per commit].
def commit_from_threads(store, threads)
  per_thread = COMMITS / threads
  started = Bench.monotonic
  waits = Array.new(threads) do |t|
    Thread.new do
      Array.new(per_thread) do |i|
        t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        store.write(store: :tasks, key: "t#{t}-#{i % K}", value: Bench.value(i))
        Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
      end
    end
  end.flat_map(&:value)
  rate = waits.size / (Bench.monotonic - started)
  [rate, waits.sum / waits.size]
end

{ "fsync" => :fsync, "group" => GROUP }.each do |label, policy|
  THREADS.each do |threads|
    name = "commit #{label} x#{threads}"
    best = 0.0
    Bench.workload(name, (COMMITS / threads) * threads, setup: -> { fresh(label, policy) }) do |store|
      rate, latency = commit_from_threads(store, threads)
      LATENCY[name] = latency if rate > best
      best = [best, rate].max
      store.close
    end
    Bench.metric("#{name} ms/commit") { LATENCY.fetch(name) * 1000 }
  end
end

Bench.run!(__FILE__)
