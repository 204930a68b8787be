# frozen_string_literal: true

# File-backed workloads: write under each durability policy, open + replay,
# WAL bytes per fact, and commits from 1, 4 and 16 threads sharing one
# `:fsync` or group-commit FileBackend (issue 20 item 4), then 4 threads
# writing through one IgniterStore. Writes build their value
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

# Average latency of one commit (seconds) and fdatasyncs per commit per
# threaded row, from the sample with the best throughput (the one the row's
# commits/s come from). Syncs per commit shows the sharing without a clock.
LATENCY = {}
SYNCS = {}

# Each of `threads` threads commits its share of COMMITS writes through
# +commit+ (called with the thread and write number), one at a time, timing
# each; returns [commits/s, mean seconds per commit].
def commit_from_threads(threads, &commit)
  per_thread = COMMITS / threads
  started = Bench.monotonic
  waits = Array.new(threads) do |t|
    Thread.new do
      Array.new(per_thread) do |i|
        t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        commit.call(t, i)
        Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
      end
    end
  end.flat_map(&:value)
  [waits.size / (Bench.monotonic - started), waits.sum / waits.size]
end

# One threaded row and its latency metric. +open+ returns [target, commit
# lambda(thread, i)] for a fresh ledger.
def threaded_row(name, threads, open)
  best = 0.0
  commits = (COMMITS / threads) * threads
  Bench.workload(name, commits, setup: open) do |(target, commit)|
    rate, latency = commit_from_threads(threads, &commit)
    syncs = (target.respond_to?(:backend) ? target.backend : target).sync_stats[:count]
    LATENCY[name], SYNCS[name] = latency, syncs.fdiv(commits) if rate > best
    best = [best, rate].max
    target.close
  end
  Bench.metric("#{name} ms/commit") { LATENCY.fetch(name) * 1000 }
  Bench.metric("#{name} syncs/commit") { SYNCS.fetch(name) }
end

# The backend shared by the threads: what group commit itself does. Facts are
# built before timing, so a row measures the commit (append + fdatasync wait).
COMMIT_FACTS = lambda do
  @commit_facts ||= Array.new(COMMITS) { |i| Igniter::Store::Fact.build(store: :tasks, key: "k#{i % K}", value: Bench.value(i)) }
end
{ "fsync" => :fsync, "group" => GROUP }.each do |label, policy|
  THREADS.each do |threads|
    threaded_row("commit #{label} x#{threads}", threads, lambda {
      facts = COMMIT_FACTS.call
      per_thread = COMMITS / threads
      backend = fresh(label, policy).backend
      [backend, ->(t, i) { backend.write_fact(facts[(t * per_thread) + i]) }]
    })
  end
end

# Through IgniterStore#write: on an `:fsync` ledger the writers take turns at
# the store's write lock, one fdatasync each; on a group-commit ledger they
# form write groups (Engine::WriteGroup), one write and one fdatasync per group.
{ "fsync" => :fsync, "group" => GROUP }.each do |label, policy|
  [4, 16].each do |threads|
    threaded_row("store #{label} x#{threads}", threads, lambda {
      store = fresh(label, policy)
      [store, ->(t, i) { store.write(store: :tasks, key: "t#{t}-#{i % K}", value: Bench.value(i)) }]
    })
  end
end

Bench.run!(__FILE__)
