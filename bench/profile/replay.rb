# frozen_string_literal: true

# Profile row "open + replay (file)": a WAL of PROFILE_OPS writes over 2,000
# keys is written (the setup, in the baseline), then opened and replayed once,
# so run.sh's instructions per op are per replayed fact.
require_relative "common"
require "tmpdir"

Dir.mktmpdir("igniter-profile") do |dir|
  path = File.join(dir, "r.wal")
  store = Igniter::Store.open(path)
  Profile::OPS.times { |i| store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i)) }
  store.close
  ran = false
  Profile.run("open + replay (file)") do
    next if ran

    ran = true
    Igniter::Store.open(path).close
  end
end
