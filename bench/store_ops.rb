# frozen_string_literal: true

# In-memory workloads: write, append, reads, history and scope queries over
# BENCH_FACTS facts spread over BENCH_KEYS keys. Writes build their value and
# key in the loop, reads their key, like the floors they are divided by
# (bench/harness.rb).
require_relative "harness"

N = Bench::FACTS
K = Bench::KEYS
filled = lambda do
  store = Igniter::Store.memory
  N.times { |i| store.write(store: :tasks, key: "k#{i % K}", value: Bench.value(i)) }
  store
end

Bench.workload("write (memory)", N, setup: -> { Igniter::Store.memory }) do |store|
  N.times { |i| store.write(store: :tasks, key: "k#{i % K}", value: Bench.value(i)) }
end

Bench.workload("append (memory)", N, setup: -> { Igniter::Store.memory }) do |store|
  N.times { |i| store.append(history: :events, event: Bench.value(i)) }
end

shared = nil
warm = -> { shared ||= filled.call }

Bench.workload("read latest", N, setup: warm) do |store|
  N.times { |i| store.read(store: :tasks, key: "k#{i % K}") }
end

Bench.workload("read as_of", N, setup: -> { [warm.call, warm.call.instance_variable_get(:@log).all_facts[N / 2].transaction_time] }) do |(store, at)|
  N.times { |i| store.read(store: :tasks, key: "k#{i % K}", as_of: at) }
end

Bench.workload("history(key)", N, setup: warm) do |store|
  N.times { |i| store.history(store: :tasks, key: "k#{i % K}") }
end

QUERIES = 200
path = lambda do |store|
  store.register_path(Igniter::Store::AccessPath.new(store: :tasks, lookup: :scope, scope: :open, filters: { status: :open }))
  store
end

Bench.workload("query scope (cold)", QUERIES, setup: -> { path.call(filled.call) }) do |store|
  QUERIES.times { store.query(store: :tasks, scope: :open, as_of: Process.clock_gettime(Process::CLOCK_REALTIME)) }
end

Bench.workload("query scope (warm)", QUERIES * 100, setup: -> { path.call(filled.call).tap { |s| s.query(store: :tasks, scope: :open) } }) do |store|
  (QUERIES * 100).times { store.query(store: :tasks, scope: :open) }
end

Bench.run!(__FILE__)
