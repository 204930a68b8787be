# frozen_string_literal: true

# Shared by the single-workload profile scripts of this folder: each loads the
# library from this checkout and runs one workload PROFILE_OPS times (default
# 20,000) over 2,000 keys with the value of issue 20's bench
# (`{ n:, title:, status:, tags: [3 strings], nested: { x:, y: } }`), so that
# `valgrind --tool=callgrind ruby bench/profile/<row>.rb` counts the
# instructions of that one row. PROFILE_BASELINE=1 runs the setup but not the
# workload: subtract its count to get the row's own instructions.
# PROFILE_NO_GC=1 disables the GC during the workload: the count then leaves
# out the collections that a fresh process's growing heap triggers (they move
# a row's count by a few thousand instructions from run to run).
#
# The value is built inside the loop, as the issue's Hash floor does, so the
# floor (`h["k#{i % 2000}"] = value(i)`) is measured by `floor.rb` the same way.
$LOAD_PATH.unshift(File.expand_path("../../lib", __dir__))
require "igniter-ledger"

module Profile
  OPS = Integer(ENV.fetch("PROFILE_OPS", "20000"))
  KEYS = 2_000

  module_function

  def value(i)
    { n: i, title: "task #{i}", status: i.even? ? "open" : "done", tags: ["ops", "q#{i % 4}", "team-#{i % 7}"],
      nested: { x: i * 2, y: "y#{i}" } }
  end

  # Runs the block OPS times unless PROFILE_BASELINE is set; prints the path.
  def run(label)
    unless ENV["PROFILE_BASELINE"]
      GC.disable if ENV["PROFILE_NO_GC"]
      OPS.times { |i| yield i }
      GC.enable
    end
    warn "#{label}: #{OPS} ops, #{Igniter::Store::NATIVE ? "native" : "pure"}"
  end
end
