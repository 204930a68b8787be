# frozen_string_literal: true

# GC cost of a store in the heap (doc/performance.md "GC marking of the
# native store"): builds a memory store of PROBE_FACTS facts (50,000 over
# 2,000 keys, issue 20's value), then measures, with the store alive,
#   * the time of one minor GC (`GC.start(full_mark: false)`), of one right
#     after a single write into the (old) store, and of a full one,
#   * the Hash floor `h["k#{i % 2000}"] = value(i)` (ops/s) and the minor GCs
#     and GC time it took (`GC.stat`),
#   * the same floor after a few writes into the store (write barriers into
#     an old log), to see whether a written store costs more than a quiet one.
# Times are on the process CPU clock. Run it as
# `ruby bench/profile/gc_probe.rb` (native) and with
# IGNITER_LEDGER_PURE=1 (pure); PROBE_FACTS=0 gives the floor with no store,
# PROBE_SOURCE=file a store replayed from a WAL (PROBE_BUILD_ALL=1: every
# fact read once, so built).
$LOAD_PATH.unshift(File.expand_path("../../lib", __dir__))
require "igniter-ledger"

FACTS = Integer(ENV.fetch("PROBE_FACTS", "50000"))
KEYS = 2_000
OPS = Integer(ENV.fetch("PROBE_OPS", "50000"))
REPEAT = Integer(ENV.fetch("PROBE_REPEAT", "5"))
GC.measure_total_time = true if GC.respond_to?(:measure_total_time=)

def value(i)
  { n: i, title: "task #{i}", status: i.even? ? :open : :done, tags: ["ops", "q#{i % 4}", "t#{i % 7}"],
    nested: { x: i, y: i * 2 } }
end

def now = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)

def best_of(n)
  Array.new(n) { yield }.min
end

require "tmpdir"
if ENV["PROBE_SOURCE"] == "file"
  # A replayed store: its facts are records until read (doc/performance.md
  # "Native fact records"), then built Ruby objects.
  path = File.join(Dir.mktmpdir("gc-probe"), "probe.wal")
  writer = Igniter::Store::IgniterStore.open(path)
  FACTS.times { |i| writer.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
  writer.close
  writer = nil
  store = Igniter::Store::IgniterStore.open(path)
  store.history(store: :tasks, key: "k0") if ENV["PROBE_BUILD_ALL"]
  KEYS.times { |j| store.history(store: :tasks, key: "k#{j}") } if ENV["PROBE_BUILD_ALL"]
else
  store = Igniter::Store.memory
  FACTS.times { |i| store.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
end
# Touch reads so lazily built members exist, as in the bench rows.
KEYS.times { |j| store.read(store: :tasks, key: "k#{j}") }
3.times { GC.start }

minor = best_of(REPEAT) { t = now; GC.start(full_mark: false); now - t }
full = best_of(REPEAT) { t = now; GC.start; now - t }
# One write into the old store, then a minor GC: what the write barrier of
# that write makes the next minor GC mark again.
after_write = best_of(REPEAT) do
  store.write(store: :tasks, key: "k1", value: value(1))
  t = now
  GC.start(full_mark: false)
  now - t
end

def floor
  h = {}
  GC.start
  s0 = GC.stat
  t = now
  OPS.times { |i| h["k#{i % KEYS}"] = value(i) }
  dt = now - t
  s1 = GC.stat
  [OPS / dt, s1[:minor_gc_count] - s0[:minor_gc_count], s1[:major_gc_count] - s0[:major_gc_count],
   (s1[:time] || 0) - (s0[:time] || 0)]
end

quiet = Array.new(REPEAT) { floor }.max_by(&:first)
# A few writes between samples: the log takes write barriers for young facts.
written = Array.new(REPEAT) do
  100.times { |i| store.write(store: :tasks, key: "k#{i}", value: value(i)) }
  floor
end.max_by(&:first)

path = Igniter::Store::NATIVE ? "native" : "pure"
puts format("%-6s facts=%d heap slots %d (live %d), minor GC %.2f ms (%.2f ms after one write), full GC %.2f ms",
            path, FACTS, GC.stat(:heap_available_slots), GC.stat(:heap_live_slots), minor * 1e3, after_write * 1e3,
            full * 1e3)
[["quiet store", quiet], ["after writes", written]].each do |label, (rate, minors, majors, ms)|
  puts format("%-6s floor (%s): %8.0f ops/s, %d minor + %d major GCs, %d ms GC", path, label, rate, minors, majors, ms)
end
