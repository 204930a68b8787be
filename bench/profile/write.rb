# frozen_string_literal: true

# Profile row "write (memory)": PROFILE_OPS writes over 2,000 keys.
require_relative "common"

store = Igniter::Store.memory
Profile.run("write") { |i| store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i)) }
