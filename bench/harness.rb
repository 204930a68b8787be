# frozen_string_literal: true

# Runs a benchmark script once per path (native, pure) in child processes of
# the same invocation, then prints ops/s per workload with the native/pure
# ratio and the plain-Ruby Hash floors measured in the same run.
#
# A script defines its workloads with `Bench.workload(name, ops) { ... }`
# and ends with `Bench.run!`. Each workload (and each floor) is timed REPEAT
# times and the best sample is reported: on a shared machine the slower
# samples measure the neighbours, not the code.
require "json"
require "rbconfig"

module Bench
  REPEAT = Integer(ENV.fetch("BENCH_REPEAT", "5"))
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

    # BENCH_CLOCK=cpu times with the process CPU clock (all threads, so
    # replay's decode threads count too) instead of the wall clock: steadier
    # when other processes share the cores.
    CLOCK = ENV["BENCH_CLOCK"] == "cpu" ? Process::CLOCK_PROCESS_CPUTIME_ID : Process::CLOCK_MONOTONIC

    def monotonic
      Process.clock_gettime(CLOCK)
    end

    def measure(ops, setup, block)
      samples = Array.new(REPEAT) do
        state = setup&.call
        GC.start
        t0 = monotonic
        block.call(state)
        ops / (monotonic - t0)
      end
      samples.max
    end

    def floors
      insert = measure(FACTS, -> { {} }, ->(hash) { FACTS.times { |i| hash[keys[i]] = values[i] } })
      filled = keys.zip(values).to_h
      lookup = measure(FACTS, nil, ->(_) { FACTS.times { |i| filled[keys[i]] } })
      { "floor insert" => insert, "floor lookup" => lookup }
    end

    # Floors are sampled before and after the workloads and the best kept, so
    # a burst of load from elsewhere cannot make the floor (and the ratios)
    # look better than the machine is.
    def child
      $LOAD_PATH.unshift(File.join(ROOT, "lib"))
      require "igniter-ledger"
      before = floors
      results = {}
      @workloads.each { |name, ops, setup, block| results[name] = measure(ops, setup, block) }
      @metrics.each { |name, block| results[name] = block.call.to_f }
      best = floors.merge(before) { |_, after, first| [after, first].max }
      puts JSON.generate(best.merge(results))
    end

    def spawn(script, env)
      out = IO.popen(env.merge("BENCH_CHILD" => "1"), [RbConfig.ruby, script], &:read)
      raise "benchmark child failed: #{script}" unless $?.success?

      JSON.parse(out.lines.last)
    end

    # Issue 9's targets for the native path: minimum ratio of a workload's
    # ops/s to the floor measured in the same child.
    TARGETS = {
      "write (memory)" => 0.30, "append (memory)" => 0.30,
      "read latest" => 0.15, "history(key)" => 0.15, "read as_of" => 0.10,
      "write (file, flush)" => 0.20, "open + replay" => 0.70
    }.freeze

    def report(script)
      results = PATHS.transform_values { |env| spawn(script, env) }
      native, pure = results.values_at("native", "pure")
      puts format("%-24s %12s %12s %7s %8s %8s %7s %s", File.basename(script, ".rb"), "native ops/s", "pure ops/s",
                  "n/p", "n/floor", "p/floor", "target", "")
      native.each_key do |name|
        puts row(name, native, pure)
      end
      puts
    end

    def row(name, native, pure)
      n, p = native[name], pure[name]
      return format("%-24s %12.0f %12.0f %7.2f", name, n, p, n / p) if name.start_with?("floor")
      return format("%-24s %12.1f %12.1f %7.2f", name, n, p, n / p) if @metrics.any? { |m, _| m == name }

      n_ratio = n / floor_for(name, native)
      target = TARGETS[name]
      mark = target && (n_ratio >= target ? "met" : "NOT met")
      format("%-24s %12.0f %12.0f %7.2f %8.3f %8.3f %7s %s", name, n, p, n / p, n_ratio, p / floor_for(name, pure),
             target ? format("%.2f", target) : "", mark)
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
