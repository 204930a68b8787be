# frozen_string_literal: true

# Segmented backend, per codec: write facts/s (write + close, which seals),
# open + replay facts/s, and bytes/fact on disk, on both paths. Facts are
# built before timing, so only the backend's work is measured.
require_relative "harness"
require "tmpdir"
require "fileutils"

N = Bench::FACTS
DIR = Dir.mktmpdir("igniter-ledger-bench-seg")
at_exit { FileUtils.rm_rf(DIR) }
CODECS = %i[json_crc32 compact_delta_zlib].freeze
short = { json_crc32: "json", compact_delta_zlib: "compact" }.freeze

def facts
  @facts ||= Array.new(N) { |i| Igniter::Store::Fact.build(store: :tasks, key: Bench.keys[i], value: Bench.values[i]) }
end

def fresh_dir(codec)
  File.join(DIR, "#{codec}-#{Process.clock_gettime(Process::CLOCK_MONOTONIC_RAW, :nanosecond)}")
end

def write_all(root, codec)
  backend = Igniter::Store::SegmentedFileBackend.new(root, codec: codec, time_bucket: :none)
  facts.each { |f| backend.write_fact(f) }
  backend.close
  root
end

# One written directory per codec, shared by the replay and bytes/fact rows.
def replay_dir(codec)
  (@replay_dirs ||= {})[codec] ||= write_all(fresh_dir(codec), codec)
end

CODECS.each do |codec|
  Bench.workload("seg #{short[codec]} write", N, setup: lambda {
    facts
    fresh_dir(codec)
  }) { |root| write_all(root, codec) }

  Bench.workload("seg #{short[codec]} open+replay", N, setup: -> { replay_dir(codec) }) do |root|
    backend = Igniter::Store::SegmentedFileBackend.new(root)
    replayed = backend.replay.size
    backend.close # the next iteration opens the ledger again: one writer at a time
    raise "replayed #{replayed} of #{N}" unless replayed == N
  end

  Bench.metric("seg #{short[codec]} bytes/fact") do
    Dir.glob(File.join(replay_dir(codec), "wal", "**", "segment-*.wal")).sum { |p| File.size(p) }.fdiv(N)
  end
end

Bench.run!(__FILE__)
