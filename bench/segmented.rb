# frozen_string_literal: true

# Segmented backend throughput on the current path (native unless
# IGNITER_LEDGER_PURE=1): bytes/fact on disk, write facts/s and
# reopen+replay facts/s per codec and flush policy, for a GPS-like stream
# (200 keys, 5 numeric fields). Usage: ruby -Ilib bench/segmented.rb [facts]

require "igniter-ledger"
require "tmpdir"

FACTS = Integer(ARGV.fetch(0, 20_000))
CONFIGS = [
  ["json_crc32", { codec: :json_crc32 }],
  ["compact_delta batch", { codec: :compact_delta }],
  ["compact_delta every_n:10", { codec: :compact_delta, flush: { every_n: 10 } }],
  ["compact_delta on_write", { codec: :compact_delta, flush: :on_write }],
  ["json_crc32 fsync", { codec: :json_crc32, durability: :fsync }]
].freeze

def monotonic
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

facts = Array.new(FACTS) do |i|
  Igniter::Store::Fact.build(
    store: :gps, key: "tech_#{i % 200}",
    value: { lat: 34.05 + (i % 97) / 1000.0, lng: -118.24, accuracy_m: 10.0, battery_pct: 85 - (i % 50), seq: i }
  )
end

puts "path: #{Igniter::Store::NATIVE ? "native" : "pure"}, facts: #{FACTS}"
puts format("%-26s %12s %14s %16s", "config", "bytes/fact", "write facts/s", "replay facts/s")
CONFIGS.each do |name, opts|
  Dir.mktmpdir do |dir|
    count = opts[:durability] == :fsync ? [FACTS, 2_000].min : FACTS
    backend = Igniter::Store::SegmentedFileBackend.new(dir, **opts)
    t0 = monotonic
    facts.first(count).each { |f| backend.write_fact(f) }
    backend.close
    write_s = monotonic - t0
    bytes = Dir.glob(File.join(dir, "wal", "**", "segment-*.wal")).sum { |p| File.size(p) }
    t1 = monotonic
    replayed = Igniter::Store::SegmentedFileBackend.new(dir).replay.size
    replay_s = monotonic - t1
    raise "replayed #{replayed} of #{count}" unless replayed == count

    puts format("%-26s %12.1f %14.0f %16.0f", name, bytes.fdiv(count), count / write_s, count / replay_s)
  end
end
