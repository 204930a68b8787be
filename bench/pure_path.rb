# frozen_string_literal: true

# The pure-Ruby path against igniter-ledger 0.5.2's pure mode (issue 20):
# 50,000 facts over 2,000 keys of the value
# `{ n:, title:, status:, tags: [3], nested: { x:, y: } }`, each row as a
# ratio to a plain-Ruby floor measured in the same process — for writes and
# replay the floor *builds the value* and inserts it
# (`h["k#{i % 2000}"] = value(i)`), for reads it is `h["k#{j}"]`.
# Every figure is the median of BENCH_REPEAT (5) samples; BENCH_CLOCK=cpu
# times with the process CPU clock. Runs itself in a child with
# IGNITER_LEDGER_PURE=1. Results are in doc/performance.md, "Pure path".
require "json"
require "rbconfig"
require "tmpdir"
require "fileutils"

unless ENV["IGNITER_LEDGER_PURE"] == "1"
  exec({ "IGNITER_LEDGER_PURE" => "1" }, RbConfig.ruby, __FILE__, *ARGV)
end

# BENCH_LIB: another checkout's lib/ (a before/after pair in one session).
$LOAD_PATH.unshift(ENV.fetch("BENCH_LIB", File.expand_path("../lib", __dir__)))
require "igniter-ledger"

N = Integer(ENV.fetch("BENCH_FACTS", "50000"))
KEYS = 2000
REPEAT = Integer(ENV.fetch("BENCH_REPEAT", "5"))
CLOCK = ENV["BENCH_CLOCK"] == "cpu" ? Process::CLOCK_PROCESS_CPUTIME_ID : Process::CLOCK_MONOTONIC
# igniter-ledger 0.5.2 pure's ratios to the same floors, as issue 20 gives them.
V052 = { "write (memory)" => 0.032, "append (memory)" => 0.033, "read latest" => 0.142, "read as_of" => 0.011,
         "history(key)" => 0.153, "write (file, flush)" => 0.022, "open + replay (file)" => 0.031 }.freeze

def value(i)
  { n: i, title: "task #{i}", status: i.even? ? :open : :done, tags: %w[a b c], nested: { x: i, y: i * 2 } }
end

def median(samples)
  sorted = samples.sort
  sorted[sorted.size / 2]
end

DIR = Dir.mktmpdir("igniter-ledger-pure-bench")
at_exit { FileUtils.rm_rf(DIR) }
WALS = (1..).each
def wal_path
  File.join(DIR, "w#{WALS.next}.wal")
end

def filled
  store = Igniter::Store.memory
  N.times { |i| store.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
  store
end

# Each sample of a row is taken right after a sample of its floor, and the
# row's figure is the median of the REPEAT ratios: load from other processes
# drifts over a run, and a floor measured minutes away would absorb it.
LOOKUP = Array.new(KEYS) { |k| ["k#{k}", value(k)] }.to_h
FLOORS = {
  insert: [-> { {} }, ->(h) { N.times { |i| h["k#{i % KEYS}"] = value(i) } }],
  lookup: [nil, ->(_) { N.times { |j| LOOKUP["k#{j % KEYS}"] } }]
}.freeze
def sample(ops, setup, work)
  state = setup&.call
  GC.start
  t0 = Process.clock_gettime(CLOCK)
  work.call(state)
  ops / (Process.clock_gettime(CLOCK) - t0)
end

ROWS = {}
def row(name, floor, setup = nil, &work)
  fsetup, fwork = FLOORS.fetch(floor)
  pairs = Array.new(REPEAT) { [sample(N, fsetup, fwork), sample(N, setup, work)] }
  ROWS[name] = [median(pairs.map { |f, r| r / f }), median(pairs.map(&:last)), median(pairs.map(&:first))]
end

row("write (memory)", :insert, -> { Igniter::Store.memory }) do |store|
  N.times { |i| store.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
end
row("append (memory)", :insert, -> { Igniter::Store.memory }) do |store|
  N.times { |i| store.append(history: :events, event: value(i)) }
end
store = filled
at = store.instance_variable_get(:@log).all_facts[N / 2].transaction_time
row("read latest", :lookup) { N.times { |j| store.read(store: :tasks, key: "k#{j % KEYS}") } }
row("read as_of", :lookup) { N.times { |j| store.read(store: :tasks, key: "k#{j % KEYS}", as_of: at) } }
row("history(key)", :lookup) { N.times { |j| store.history(store: :tasks, key: "k#{j % KEYS}") } }
row("write (file, flush)", :insert, -> { Igniter::Store.open(wal_path) }) do |s|
  N.times { |i| s.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
  s.close
end
replay = wal_path
s = Igniter::Store.open(replay)
N.times { |i| s.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
s.close
row("open + replay (file)", :insert) { Igniter::Store.open(replay).close }

puts format("pure path, %d facts over %d keys, median of %d, clock %s", N, KEYS, REPEAT,
            CLOCK == Process::CLOCK_MONOTONIC ? "wall" : "cpu")
puts format("%-22s %10s %10s %8s %8s %7s", "row", "ops/s", "floor/s", "ratio", "0.5.2", "x0.5.2")
ROWS.each do |name, (ratio, ops, floor)|
  puts format("%-22s %10.0f %10.0f %8.3f %8.3f %7.2f", name, ops, floor, ratio, V052[name], ratio / V052[name])
end
puts format("WAL bytes per fact     %10.1f", File.size(replay).fdiv(N))
