# frozen_string_literal: true

# File-backed workloads: write under each durability policy, and open + replay.
require_relative "harness"
require "tmpdir"
require "fileutils"

N = Bench::FACTS
FSYNC_N = [N / 25, 500].max
DIR = Dir.mktmpdir("igniter-ledger-bench")
at_exit { FileUtils.rm_rf(DIR) }

def fresh(name, durability)
  path = File.join(DIR, "#{name}-#{Process.clock_gettime(Process::CLOCK_MONOTONIC_RAW, :nanosecond)}.wal")
  store = Igniter::Store::IgniterStore.new(backend: Igniter::Store::FileBackend.new(path, durability: durability))
  store
end

Bench.workload("write (file, flush)", N, setup: -> { fresh("flush", :flush) }) do |store|
  N.times { |i| store.write(store: :tasks, key: Bench.keys[i], value: Bench.values[i]) }
  store.close
end

Bench.workload("write (file, group 64)", N, setup: -> { fresh("group", { group: 64, interval: 0.05 }) }) do |store|
  N.times { |i| store.write(store: :tasks, key: Bench.keys[i], value: Bench.values[i]) }
  store.close
end

Bench.workload("write (file, fsync)", FSYNC_N, setup: -> { fresh("fsync", :fsync) }) do |store|
  FSYNC_N.times { |i| store.write(store: :tasks, key: Bench.keys[i], value: Bench.values[i]) }
  store.close
end

REPLAY_PATH = File.join(DIR, "replay.wal")
Bench.workload("open + replay", N, setup: lambda {
  unless File.exist?(REPLAY_PATH)
    store = Igniter::Store.open(REPLAY_PATH)
    N.times { |i| store.write(store: :tasks, key: Bench.keys[i], value: Bench.values[i]) }
    store.close
  end
}) do
  Igniter::Store.open(REPLAY_PATH).close
end

Bench.run!(__FILE__)
