# frozen_string_literal: true

# The PostgreSQL backend beside the file backend, on a throwaway cluster this
# script starts (unix socket, synchronous_commit and fsync on) and stops:
# single-fact commits/s from 1 and 4 writer processes, facts/s in batches of
# 100, open time and read / as_of latency at BENCH_PG_BIG facts (1M by
# default), and feed delivery latency. Each path (native, pure) runs in a
# child process; the big ledgers are loaded once and shared by both.
#
# BENCH_PG_BIG=200000 bundle exec ruby bench/postgres.rb for a quicker run.
require_relative "harness"
require_relative "postgres/sql_floor"
require "tmpdir"
require "fileutils"

module PgBench
  BIG = Integer(ENV.fetch("BENCH_PG_BIG", "1000000"))
  SINGLE = Integer(ENV.fetch("BENCH_PG_SINGLE", "2000"))
  BATCHES = Integer(ENV.fetch("BENCH_PG_BATCHES", "200"))
  SAMPLES = Integer(ENV.fetch("BENCH_PG_SAMPLES", "2000"))
  FEED_SAMPLES = Integer(ENV.fetch("BENCH_PG_FEED", "500"))
  KEYS = 100
  BIG_KEYS = 10_000
  TARGETS = {
    "single commits/s, 1 process" => [:min, 1_000], "single commits/s, 4 processes" => [:min, 2_000],
    "batched facts/s (100/batch)" => [:min, 40_000], "open ms at BIG" => [:max, 50],
    "as_of p50 ms at BIG" => [:max, 1.0], "feed p99 ms" => [:max, 50]
  }.freeze

  module_function

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def percentile(samples, pct)
    sorted = samples.sort
    sorted[[(sorted.size * pct / 100.0).ceil - 1, 0].max]
  end

  def rate(count)
    t = now
    yield
    count / (now - t)
  end

  def value(i) = Bench.value(i)

  def postgres(schema, **opts) = Igniter::Store.postgres(ENV.fetch("BENCH_PG_URL"), schema: schema, poll_interval: 0.05, **opts)

  # --- the SQL floor (bench/postgres/sql_floor.rb): the cluster's rate of that
  # moment for the counter design with no gem code, measured right before the
  # row it is the floor of, with the same count

  # The floor rows, each with the row it is the floor of.
  FLOORS = { "SQL floor: single commits/s, 1 process" => "single commits/s, 1 process",
             "SQL floor: single commits/s, 4 processes" => "single commits/s, 4 processes",
             "SQL floor: batched facts/s (100/batch)" => "batched facts/s (100/batch)" }.freeze

  def floor(name, processes: 1, size: 1, commits: SINGLE)
    url = ENV.fetch("BENCH_PG_URL")
    PgSqlFloor.prepare(url, name)
    per = commits / processes
    return PgSqlFloor.run(url, name, commits: per, size: size, keys: KEYS) if processes == 1

    t = now
    pids = Array.new(processes) { fork { PgSqlFloor.run(url, name, commits: per, size: size, keys: KEYS) && exit!(0) } }
    pids.each { |pid| Process.wait(pid) }
    per * processes * size / (now - t)
  end

  # --- workloads of one backend; +open+ makes a store, +fork_open+ one per process

  def single(open)
    store = open.call
    r = rate(SINGLE) { SINGLE.times { |i| store.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) } }
    store.close
    r
  end

  def single_parallel(open, processes)
    per = SINGLE / processes
    reader, writer = IO.pipe
    pids = Array.new(processes) do |w|
      fork do
        reader.close
        store = open.call(w)
        writer.puts # ready
        $stdin.reopen(File::NULL)
        sleep 0.01 until File.exist?(ENV.fetch("BENCH_PG_GO"))
        per.times { |i| store.write(store: :tasks, key: "k#{i % KEYS}", value: value(i)) }
        store.close
        exit!(0)
      end
    end
    writer.close
    processes.times { reader.gets }
    t = now
    File.write(ENV.fetch("BENCH_PG_GO"), "")
    pids.each { |pid| Process.wait(pid) }
    FileUtils.rm_f(ENV.fetch("BENCH_PG_GO"))
    per * processes / (now - t)
  end

  def batched(open)
    store = open.call
    batches = Array.new(BATCHES) { |b| Array.new(100) { |i| { store: :tasks, key: "k#{(b * 100 + i) % 1000}", value: value(i) } } }
    r = rate(BATCHES * 100) { batches.each { |batch| store.write_batch(batch) } }
    store.close
    r
  end

  # WAL written per fact by 100-fact batches (doc/postgres.md,
  # "Performance"): each batch's commit waits for its flush, so WAL volume is
  # part of a batch's time; unlike a rate, it does not move with the load.
  def wal_per_fact(schema)
    store = postgres(schema)
    admin = PG.connect(ENV.fetch("BENCH_PG_URL"))
    batches = Array.new(BATCHES) { |b| Array.new(100) { |i| { store: :tasks, key: "k#{(b * 100 + i) % 1000}", value: value(i) } } }
    store.write_batch(batches.pop)
    lsn = -> { admin.exec("SELECT pg_current_wal_lsn()").getvalue(0, 0) }
    from = lsn.call
    batches.each { |batch| store.write_batch(batch) }
    bytes = admin.exec_params("SELECT pg_wal_lsn_diff($1, $2)", [lsn.call, from]).getvalue(0, 0).to_f
    store.close
    admin.close
    bytes / (batches.size * 100)
  end

  # Opening a big ledger, then latest and as_of reads of random keys at random times.
  def big_reads(open, first_time, last_time)
    t = now
    store = open.call
    open_ms = (now - t) * 1000
    rng = Random.new(42)
    latest = Array.new(SAMPLES) do
      key = "k#{rng.rand(BIG_KEYS)}"
      t = now
      store.read(store: :tasks, key: key)
      (now - t) * 1000
    end
    as_of = Array.new(SAMPLES) do
      key = "k#{rng.rand(BIG_KEYS)}"
      at = first_time + rng.rand * (last_time - first_time)
      t = now
      store.read(store: :tasks, key: key, as_of: at)
      (now - t) * 1000
    end
    store.close
    { "open ms at BIG" => open_ms, "read p50 ms at BIG" => percentile(latest, 50),
      "as_of p50 ms at BIG" => percentile(as_of, 50), "as_of p99 ms at BIG" => percentile(as_of, 99) }
  end

  # A writer process commits facts stamped with the wall clock; a store with a
  # changefeed in this process measures when each one reaches a subscriber.
  def feed_latency(schema)
    feed = Igniter::Store::ChangefeedBuffer.new(subscriber_queue_size: FEED_SAMPLES + 10)
    store = Igniter::Store.postgres(ENV.fetch("BENCH_PG_URL"), schema: schema, changefeed: feed, poll_interval: 0.05)
    latencies = Queue.new
    feed.subscribe(stores: [:pings]) do |event|
      latencies << (Process.clock_gettime(Process::CLOCK_REALTIME) - event.fact.value[:sent]) * 1000
    end
    pid = fork do
      writer = postgres(schema)
      FEED_SAMPLES.times do |i|
        writer.write(store: :pings, key: "p#{i % 10}", value: { sent: Process.clock_gettime(Process::CLOCK_REALTIME) })
        sleep 0.002
      end
      writer.close
      exit!(0)
    end
    Process.wait(pid)
    deadline = now + 10
    sleep 0.01 while latencies.size < FEED_SAMPLES && now < deadline
    samples = Array.new(latencies.size) { latencies.pop }
    feed.close
    store.close
    { "feed p50 ms" => percentile(samples, 50), "feed p99 ms" => percentile(samples, 99),
      "feed delivered" => samples.size.to_f }
  end

  # --- big ledgers, loaded once (by the first child) and shared by both paths

  def big_batches
    (BIG / 1_000).times.lazy.map do |b|
      Array.new(1_000) { |i| { store: :tasks, key: "k#{(b * 1_000 + i) % BIG_KEYS}", value: value(i) } }
    end
  end

  def load_big_postgres
    store = postgres("bench_big")
    if store.fact_count < BIG
      big_batches.each { |batch| store.write_batch(batch) }
    end
    times = [store.history(store: :tasks, key: "k0").first.transaction_time,
             store.history(store: :tasks, key: "k#{BIG_KEYS - 1}").last.transaction_time]
    store.close
    times
  end

  def load_big_file(path)
    unless File.exist?(path)
      store = Igniter::Store.open(path)
      big_batches.each { |batch| store.write_batch(batch) }
      store.close
    end
    store = Igniter::Store.open(path)
    times = [store.history(store: :tasks, key: "k0").first.transaction_time,
             store.history(store: :tasks, key: "k#{BIG_KEYS - 1}").last.transaction_time]
    store.close
    times
  end

  def child
    $LOAD_PATH.unshift(File.join(Bench::ROOT, "lib"))
    require "igniter-ledger"
    Igniter::Store::PostgresBackend
    dir = ENV.fetch("BENCH_PG_DIR")
    tag = Igniter::Store::NATIVE ? "native" : "pure"
    fresh = ->(name) { "#{name}_#{tag}" }
    file = lambda do |durability|
      lambda do |_w = nil|
        path = File.join(dir, "#{tag}-#{rand(1 << 40)}.wal")
        Igniter::Store::IgniterStore.new(backend: Igniter::Store::FileBackend.new(path, durability: durability))
      end
    end
    pg = ->(name, **opts) { ->(_w = nil) { postgres(fresh.call(name), **opts) } }
    pg_times = load_big_postgres
    file_path = File.join(dir, "big.wal")
    file_times = load_big_file(file_path)
    results = {
      "postgres" => {
        "SQL floor: single commits/s, 1 process" => floor(fresh.call("floor_single")),
        "single commits/s, 1 process" => single(pg.call("single")),
        "SQL floor: single commits/s, 4 processes" => floor(fresh.call("floor_parallel"), processes: 4),
        "single commits/s, 4 processes" => single_parallel(pg.call("parallel"), 4),
        # Opt-in group commit (doc/postgres.md, "Group commit"): shared flushes.
        "4 processes, group_commit: true" => single_parallel(pg.call("parallel_gc", group_commit: true), 4),
        "SQL floor: batched facts/s (100/batch)" => floor(fresh.call("floor_batched"), size: 100, commits: BATCHES),
        "batched facts/s (100/batch)" => batched(pg.call("batched"))
      }.merge(big_reads(-> { postgres("bench_big") }, *pg_times)).merge(feed_latency(fresh.call("feed")))
        # Last: its 20,000 facts of WAL could start a checkpoint under the others.
        .merge("WAL bytes per fact (batched)" => wal_per_fact(fresh.call("wal"))),
      # The file backend has one writer and no transactions: single writes
      # fsync each frame; a "batch" is 100 writes with one group fsync.
      "file (fsync)" => {
        "single commits/s, 1 process" => single(file.call(:fsync)),
        "batched facts/s (100/batch)" => batched(file.call({ group: 100, interval: 1.0 }))
      }.merge(big_reads(-> { Igniter::Store.open(file_path) }, *file_times))
    }
    puts JSON.generate(results)
  end

  def report
    require_relative "../lib/igniter/store/core/errors"
    require_relative "../lib/igniter/store/storage/postgres/throwaway_cluster"
    cluster = Igniter::Store::Postgres::ThrowawayCluster.new.start
    dir = Dir.mktmpdir("igniter-ledger-pg-bench")
    env = { "BENCH_PG_URL" => cluster.url, "BENCH_PG_DIR" => dir, "BENCH_PG_GO" => File.join(dir, "go"),
            "BENCH_CHILD" => "1" }
    results = Bench::PATHS.to_h do |path, path_env|
      out = IO.popen(env.merge(path_env), [RbConfig.ruby, __FILE__], &:read)
      raise "postgres bench child failed on the #{path} path" unless $?.success?

      [path, JSON.parse(out.lines.last)]
    end
    print_table(results)
  ensure
    cluster&.stop
    FileUtils.rm_rf(dir) if dir
  end

  def print_table(results)
    big = BIG >= 1_000_000 ? "#{BIG / 1_000_000}M" : BIG.to_s
    names = results.values.first.values.flat_map(&:keys).uniq
    puts format("%-42s %12s %12s %12s %12s  %s", "postgres bench (BIG=#{big})", "pg native", "pg pure",
                "file native", "file pure", "target (pg native)")
    names.each do |name|
      cells = results.values_at("native", "pure").flat_map { |r| [r["postgres"][name], r["file (fsync)"][name]] }
      pg_native, file_native, pg_pure, file_pure = cells
      target = TARGETS[name]
      mark = if target && pg_native
               met = target[0] == :min ? pg_native >= target[1] : pg_native <= target[1]
               "#{target[0] == :min ? ">=" : "<="} #{target[1]} #{met ? "met" : "NOT met"}"
             end
      puts format("%-42s %12s %12s %12s %12s  %s", name.sub("BIG", big), *[pg_native, pg_pure, file_native, file_pure].map { |v| cell(v) }, mark)
    end
    print_floor_ratios(results)
  end

  # Each rate over the floor measured right before it, in the same child.
  def print_floor_ratios(results)
    FLOORS.each do |floor_name, row|
      ratios = results.values_at("native", "pure").map do |r|
        r && r["postgres"][floor_name] ? format("%.2f", r["postgres"][row] / r["postgres"][floor_name]) : "-"
      end
      puts format("%-42s %12s %12s", "#{row} / floor", *ratios)
    end
  end

  def cell(value)
    return "-" if value.nil?

    value >= 100 ? format("%.0f", value) : format("%.2f", value)
  end
end

ENV["BENCH_CHILD"] ? PgBench.child : PgBench.report
