# frozen_string_literal: true

# Profile row "read latest": a store of PROFILE_OPS writes over 2,000 keys,
# then PROFILE_OPS current reads (the setup is in the baseline).
require_relative "common"

store = Igniter::Store.memory
Profile::OPS.times { |i| store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i)) }
Profile.run("read latest") { |i| store.read(store: :tasks, key: "k#{i % Profile::KEYS}") }
