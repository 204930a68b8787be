# frozen_string_literal: true

# Profile row "write (file, flush)": PROFILE_OPS writes over 2,000 keys to a
# FileBackend WAL in a temporary directory, durability :flush.
require_relative "common"
require "tmpdir"

Dir.mktmpdir("igniter-profile") do |dir|
  backend = Igniter::Store::FileBackend.new(File.join(dir, "p.wal"), durability: :flush)
  store = Igniter::Store::IgniterStore.new(backend: backend)
  Profile.run("write (file, flush)") do |i|
    store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i))
  end
  store.close
end
