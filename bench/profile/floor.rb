# frozen_string_literal: true

# The issue 20 floors, counted like the rows: PROFILE_FLOOR=write runs
# `h["k#{i % 2000}"] = value(i)`, PROFILE_FLOOR=read `h["k#{j}"]` over a
# filled Hash.
require_relative "common"

h = {}
if ENV.fetch("PROFILE_FLOOR", "write") == "read"
  Profile::KEYS.times { |j| h["k#{j}"] = Profile.value(j) }
  Profile.run("floor read") { |i| h["k#{i % Profile::KEYS}"] }
else
  Profile.run("floor write") { |i| h["k#{i % Profile::KEYS}"] = Profile.value(i) }
end
