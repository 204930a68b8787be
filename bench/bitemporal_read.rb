# frozen_string_literal: true

# Valid-time point reads on keys with a deep history: the store's indexed
# `read(valid_at:)` against a linear scan of the key's history applying the
# same rules (core/valid_time.rb), the way a caller without the index would.
# One run, median of SAMPLES timings of QUERIES reads each:
#
#   IGNITER_LEDGER_REQUIRE_NATIVE=1 bundle exec ruby bench/bitemporal_read.rb
#   IGNITER_LEDGER_PURE=1 bundle exec ruby bench/bitemporal_read.rb
$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "igniter/ledger"
require "igniter/store/core/valid_time" # the scan side; only the pure FactLog loads it

KEYS = Integer(ENV.fetch("BENCH_KEYS", "50"))
DEPTH = Integer(ENV.fetch("BENCH_DEPTH", "1000"))
QUERIES = Integer(ENV.fetch("BENCH_QUERIES", "5000"))
SAMPLES = 7
BASE = 1_767_225_600.0 # 2026-01-01

rng = Random.new(42)
store = Igniter::Store.memory
DEPTH.times do |i|
  KEYS.times do |k|
    # Mostly in valid-time order, one write in ten back-dated by up to 30 days.
    valid = BASE + (i * 86_400) - (rng.rand(10).zero? ? rng.rand(30) * 86_400 : 0)
    store.write(store: :prices, key: "p#{k}", value: { price: i, k: k }, valid_time: valid)
  end
end
queries = Array.new(QUERIES) { ["p#{rng.rand(KEYS)}", BASE + (rng.rand * DEPTH * 86_400)] }

scan = lambda do |key, valid_at|
  Igniter::Store::ValidTime.winner(store.history(store: :prices, key: key), valid_at)&.value
end
# Both answer every query alike before anything is timed.
mismatch = queries.find { |key, at| store.read(store: :prices, key: key, valid_at: at) != scan.call(key, at) }
raise "indexed and scanned reads differ for #{mismatch.inspect}" if mismatch

def median_us(queries)
  samples = Array.new(SAMPLES) do
    GC.start
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    queries.each { |key, at| yield key, at }
    (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) / queries.size * 1e6
  end
  samples.sort[SAMPLES / 2]
end

latest_tt = store.history(store: :prices, key: "p0").last.transaction_time
as_of = median_us(queries) { |key, _| store.read(store: :prices, key: key, as_of: latest_tt) }
indexed = median_us(queries) { |key, at| store.read(store: :prices, key: key, valid_at: at) }
scanned = median_us(queries.first(QUERIES / 10)) { |key, at| scan.call(key, at) }
path = Igniter::Store::NATIVE ? "native" : "pure"
puts format("%s: %d keys x %d facts; median of %d runs per read(valid_at:)", path, KEYS, DEPTH, SAMPLES)
puts format("  read(as_of:) (reference) %9.2f us", as_of)
puts format("  read(valid_at:)          %9.2f us", indexed)
puts format("  scan of history(key:)    %9.2f us  (%.0fx)", scanned, scanned / indexed)
