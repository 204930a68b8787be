# frozen_string_literal: true

# Runs a benchmark script once per path (native, pure) in child processes of
# the same invocation, then prints ops/s per workload with the native/pure
# ratio and the plain-Ruby Hash floors measured in the same run.
#
# A script defines its workloads with `Bench.workload(name, ops) { ... }`
# and ends with `Bench.run!`. Each workload is timed REPEAT times; the median
# is reported.
require "json"
require "rbconfig"

module Bench
  REPEAT = Integer(ENV.fetch("BENCH_REPEAT", "3"))
  FACTS = Integer(ENV.fetch("BENCH_FACTS", "50000"))
  KEYS = Integer(ENV.fetch("BENCH_KEYS", "2000"))
  ROOT = File.expand_path("..", __dir__)
  PATHS = { "native" => { "IGNITER_LEDGER_REQUIRE_NATIVE" => "1" }, "pure" => { "IGNITER_LEDGER_PURE" => "1" } }.freeze

  @workloads = []
  @metrics = []

  class << self
    attr_reader :workloads, :metrics

    # A realistic nested value: a task with tags, numbers and an owner.
    def value(i)
      { title: "task #{i}", status: i.even? ? :open : :done, n: i, score: i * 1.5,
        tags: ["ops", "q#{i % 4}"], meta: { owner: "user-#{i % 50}", priority: i % 5, due: 1_800_000_000.0 + i } }
    end

    def keys
      @keys ||= Array.new(FACTS) { |i| "key-#{i % KEYS}" }
    end

    def values
      @values ||= Array.new(FACTS) { |i| value(i) }
    end

    # @param setup [Proc, nil] runs untimed before each repetition; its result is passed to the block
    def workload(name, ops, setup: nil, &block)
      @workloads << [name, ops, setup, block]
    end

    # A measured quantity that is not a rate (e.g. bytes/fact); reported as
    # the block returns it, with no floor.
    def metric(name, &block)
      @metrics << [name, block]
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end

    def measure(ops, setup, block)
      samples = Array.new(REPEAT) do
        state = setup&.call
        GC.start
        t0 = monotonic
        block.call(state)
        ops / (monotonic - t0)
      end
      samples.sort[samples.size / 2]
    end

    def floors
      insert = measure(FACTS, -> { {} }, ->(hash) { FACTS.times { |i| hash[keys[i]] = values[i] } })
      filled = keys.zip(values).to_h
      lookup = measure(FACTS, nil, ->(_) { FACTS.times { |i| filled[keys[i]] } })
      { "floor insert" => insert, "floor lookup" => lookup }
    end

    def child
      $LOAD_PATH.unshift(File.join(ROOT, "lib"))
      require "igniter-ledger"
      results = floors
      @workloads.each { |name, ops, setup, block| results[name] = measure(ops, setup, block) }
      @metrics.each { |name, block| results[name] = block.call.to_f }
      puts JSON.generate(results)
    end

    def spawn(script, env)
      out = IO.popen(env.merge("BENCH_CHILD" => "1"), [RbConfig.ruby, script], &:read)
      raise "benchmark child failed: #{script}" unless $?.success?

      JSON.parse(out.lines.last)
    end

    def report(script)
      results = PATHS.transform_values { |env| spawn(script, env) }
      native, pure = results.values_at("native", "pure")
      puts format("%-28s %14s %14s %8s %10s", File.basename(script, ".rb"), "native ops/s", "pure ops/s", "n/p", "n/floor")
      native.each_key do |name|
        metric = @metrics.any? { |m, _| m == name }
        floor = name.start_with?("floor") || metric ? nil : floor_for(name, native)
        cell = metric ? "%14.1f" : "%14.0f"
        puts format("%-28s #{cell} #{cell} %8.2f %10s", name, native[name], pure[name], native[name] / pure[name],
                    floor ? format("%.3f", native[name] / floor) : "")
      end
      puts
    end

    # Writes compare with inserting into a Hash, reads with looking one up.
    def floor_for(name, results)
      name.match?(/write|append|replay|build/) ? results["floor insert"] : results["floor lookup"]
    end

    def run!(script)
      ENV["BENCH_CHILD"] ? child : report(script)
    end
  end
end
