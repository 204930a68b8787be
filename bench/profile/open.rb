# frozen_string_literal: true

# Profile row "open + replay (file)": opens a WAL of PROFILE_OPS facts written
# over 2,000 keys with the bench's value (bench/harness.rb, a Symbol among its
# members, so every body carries a `symbols` member). The WAL is written by a
# first run into PROFILE_WAL (default tmp/profile/open-<ops>.wal) and kept, so
# under callgrind only the open is counted (PROFILE_BASELINE=1: load the
# library, skip the open).
require_relative "common"
require "fileutils"

wal = ENV.fetch("PROFILE_WAL") { File.expand_path("../../tmp/profile/open-#{Profile::OPS}.wal", __dir__) }
unless File.exist?(wal)
  FileUtils.mkdir_p(File.dirname(wal))
  store = Igniter::Store.open(wal)
  Profile::OPS.times do |i|
    store.write(store: :tasks, key: "k#{i % Profile::KEYS}",
                value: { n: i, title: "task #{i}", status: i.even? ? :open : :done,
                         tags: ["ops", "q#{i % 4}", "t#{i % 7}"], nested: { x: i, y: i * 2 } })
  end
  store.close
  warn "wrote #{wal}"
  exit
end
unless ENV["PROFILE_BASELINE"]
  store = Igniter::Store.open(wal)
  raise "opened #{store.fact_count} facts, expected #{Profile::OPS}" unless store.fact_count == Profile::OPS

  store.close
end
warn "open + replay (file): #{Profile::OPS} facts, #{Igniter::Store::NATIVE ? "native" : "pure"}"
