# frozen_string_literal: true

# Profile row "history(key)": a store of PROFILE_OPS writes over 2,000 keys,
# then PROFILE_OPS histories of one key (the setup is in the baseline).
require_relative "common"

store = Igniter::Store.memory
Profile::OPS.times { |i| store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i)) }
Profile.run("history(key)") { |i| store.history(store: :tasks, key: "k#{i % Profile::KEYS}") }
