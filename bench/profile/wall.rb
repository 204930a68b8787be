# frozen_string_literal: true

# Wall (or, with BENCH_CLOCK=cpu, process CPU) rates of the profile rows on
# the path this process loaded, each divided by issue 20's value-building
# Hash floor measured in the same process: `h["k#{i % 2000}"] = value(i)` for
# the writes, `h["k#{j}"]` for the reads. Best of PROFILE_REPEAT (5) samples.
#   IGNITER_LEDGER_REQUIRE_NATIVE=1 BENCH_CLOCK=cpu ruby bench/profile/wall.rb
require_relative "common"
require "tmpdir"

module Wall
  CLOCK = ENV["BENCH_CLOCK"] == "cpu" ? Process::CLOCK_PROCESS_CPUTIME_ID : Process::CLOCK_MONOTONIC
  REPEAT = Integer(ENV.fetch("PROFILE_REPEAT", "5"))
  N = Profile::OPS
  K = Profile::KEYS

  module_function

  def rate(setup = -> {})
    Array.new(REPEAT) do
      state = setup.call
      GC.start
      t0 = Process.clock_gettime(CLOCK)
      yield state
      N / (Process.clock_gettime(CLOCK) - t0)
    end.max
  end

  def filled
    store = Igniter::Store.memory
    facts = Array.new(N) { |i| store.write(store: :tasks, key: "k#{i % K}", value: Profile.value(i)) }
    [store, facts[N / 2].transaction_time]
  end
end

dir = Dir.mktmpdir("igniter-wall")
floor_write = Wall.rate(-> { {} }) { |h| Wall::N.times { |i| h["k#{i % Wall::K}"] = Profile.value(i) } }
lookup = {}.tap { |h| Wall::K.times { |j| h["k#{j}"] = Profile.value(j) } }
floor_read = Wall.rate { Wall::N.times { |i| lookup["k#{i % Wall::K}"] } }
shared = Wall.filled
rows = {
  "write (memory)" => [floor_write, Wall.rate(-> { Igniter::Store.memory }) do |s|
    Wall::N.times { |i| s.write(store: :tasks, key: "k#{i % Wall::K}", value: Profile.value(i)) }
  end],
  "append (memory)" => [floor_write, Wall.rate(-> { Igniter::Store.memory }) do |s|
    Wall::N.times { |i| s.append(history: :events, event: Profile.value(i)) }
  end],
  "read latest" => [floor_read, Wall.rate { Wall::N.times { |i| shared[0].read(store: :tasks, key: "k#{i % Wall::K}") } }],
  "read as_of" => [floor_read, Wall.rate do
    Wall::N.times { |i| shared[0].read(store: :tasks, key: "k#{i % Wall::K}", as_of: shared[1]) }
  end],
  "history(key)" => [floor_read, Wall.rate { Wall::N.times { |i| shared[0].history(store: :tasks, key: "k#{i % Wall::K}") } }],
  "write (file, flush)" => [floor_write, Wall.rate(lambda {
    path = File.join(dir, "w#{rand(1 << 40)}.wal")
    Igniter::Store::IgniterStore.new(backend: Igniter::Store::FileBackend.new(path, durability: :flush))
  }) do |s|
    Wall::N.times { |i| s.write(store: :tasks, key: "k#{i % Wall::K}", value: Profile.value(i)) }
    s.close
  end]
}
puts format("%-22s %12s %12s %7s  (%s, %s clock)", "row", "ops/s", "floor/s", "ratio",
            Igniter::Store::NATIVE ? "native" : "pure", ENV["BENCH_CLOCK"] == "cpu" ? "cpu" : "wall")
rows.each { |name, (floor, ops)| puts format("%-22s %12.0f %12.0f %7.3f", name, ops, floor, ops / floor) }
FileUtils.rm_rf(dir)
