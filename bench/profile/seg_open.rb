# frozen_string_literal: true

# Profile row "open + replay (segmented compact_delta_zlib)": opens a
# segmented ledger of PROFILE_OPS facts written over 2,000 keys with the
# bench's value, as bench/segmented.rb's big row writes it. The ledger is
# written by a first run into PROFILE_SEG (default
# tmp/profile/seg-open-<ops>) and kept, so under callgrind only the open is
# counted (PROFILE_BASELINE=1: load the library, skip the open).
# PROFILE_READS=n also times n `read(as_of:)` reads after the open (wall).
require_relative "common"
require "fileutils"
require "json"

root = ENV.fetch("PROFILE_SEG") { File.expand_path("../../tmp/profile/seg-open-#{Profile::OPS}", __dir__) }
unless File.exist?(File.join(root, "bench.json"))
  FileUtils.rm_rf(root)
  store = Igniter::Store.segmented(root, codec: :compact_delta_zlib)
  middle = nil
  Profile::OPS.times do |i|
    fact = store.write(store: :tasks, key: "k#{i % Profile::KEYS}",
                       value: { n: i, title: "task #{i}", status: i.even? ? :open : :done,
                                tags: ["ops", "q#{i % 4}", "t#{i % 7}"], nested: { x: i, y: i * 2 } })
    middle = fact.transaction_time if i == Profile::OPS / 2
  end
  store.close
  File.write(File.join(root, "bench.json"), JSON.generate("as_of" => middle))
  warn "wrote #{root}"
  exit
end
unless ENV["PROFILE_BASELINE"]
  t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  store = Igniter::Store.segmented(root)
  t1 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  raise "opened #{store.fact_count} facts, expected #{Profile::OPS}" unless store.fact_count == Profile::OPS

  reads = Integer(ENV.fetch("PROFILE_READS", "0"))
  if reads.positive?
    as_of = JSON.parse(File.read(File.join(root, "bench.json"))).fetch("as_of")
    r0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    reads.times { |j| store.read(store: :tasks, key: "k#{j % Profile::KEYS}", as_of: as_of) || raise("no value") }
    warn format("as_of read: %.2f us mean", (Process.clock_gettime(Process::CLOCK_MONOTONIC) - r0) / reads * 1e6)
  end
  warn format("open: %.2f s", t1 - t0)
  store.close
end
warn "open + replay (segmented compact): #{Profile::OPS} facts, #{Igniter::Store::NATIVE ? "native" : "pure"}"
