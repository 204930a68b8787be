# frozen_string_literal: true

# Profile row "read as_of": a store of PROFILE_OPS writes over 2,000 keys,
# then PROFILE_OPS reads as of the middle fact's transaction time (the bench's
# workload; the setup is in the baseline).
require_relative "common"

store = Igniter::Store.memory
facts = Array.new(Profile::OPS) { |i| store.write(store: :tasks, key: "k#{i % Profile::KEYS}", value: Profile.value(i)) }
at = facts[Profile::OPS / 2].transaction_time
Profile.run("read as_of") { |i| store.read(store: :tasks, key: "k#{i % Profile::KEYS}", as_of: at) }
