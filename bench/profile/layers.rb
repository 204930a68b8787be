# frozen_string_literal: true

# Decomposes the "write (memory)" / "append (memory)" rows by layer, for
# callgrind: `PROFILE_LAYER=<layer> bench/profile/run.sh layers` (subtract
# one layer's count from the next; doc/performance.md "Engine write path").
#   log          FactLog#write_new alone (the fact built, packed and appended)
#   settle       + the store's commit tail (scope indexes, cache eviction, changefeed)
#   lock         + the write lock around both
#   write        IgniterStore#write itself (keywords, normalization, hooks)
#   append_log, append_lock, append: the same for IgniterStore#append
#   evict        ReadCache#evict_key alone, on an idle cache (the key built outside)
require_relative "common"

store = Igniter::Store.memory
log = store.instance_variable_get(:@log)
lock = store.instance_variable_get(:@write_lock)
cache = store.instance_variable_get(:@cache)
k = Profile::KEYS
keys = Array.new(k) { |j| "k#{j}" }
none = {}.freeze
layer = ENV.fetch("PROFILE_LAYER", "write")
case layer
when "log"
  Profile.run(layer) { |i| log.write_new(:tasks, "k#{i % k}", Profile.value(i), nil, 1, nil, nil, nil, nil, nil) }
when "settle"
  Profile.run(layer) do |i|
    fact = log.write_new(:tasks, "k#{i % k}", Profile.value(i), nil, 1, nil, nil, nil, nil, nil)
    store.send(:settle, fact, :tasks, fact.key)
  end
when "lock"
  Profile.run(layer) do |i|
    lock.synchronize do
      fact = log.write_new(:tasks, "k#{i % k}", Profile.value(i), nil, 1, nil, nil, nil, nil, nil)
      store.send(:settle, fact, :tasks, fact.key)
    end
  end
when "append_log"
  Profile.run(layer) { |i| log.append_new(:events, Profile.value(i), 1, nil, nil, nil, nil, nil) }
when "append_lock"
  Profile.run(layer) do |i|
    lock.synchronize do
      fact = log.append_new(:events, Profile.value(i), 1, nil, nil, nil, nil, nil)
      store.send(:settle, fact, :events, fact.key)
    end
  end
when "append"
  Profile.run(layer) { |i| store.append(history: :events, event: Profile.value(i)) }
when "evict"
  Profile.run(layer) { |i| cache.evict_key(:tasks, keys[i % k], none) }
else
  Profile.run(layer) { |i| store.write(store: :tasks, key: "k#{i % k}", value: Profile.value(i)) }
end
