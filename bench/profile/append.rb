# frozen_string_literal: true

# Profile row "append (memory)": PROFILE_OPS history appends.
require_relative "common"

store = Igniter::Store.memory
Profile.run("append") { |i| store.append(history: :events, event: Profile.value(i)) }
