# frozen_string_literal: true

# Proof of concept of the store's core promises, one line per promise:
#
#   access_paths=1       an access path registered for :reminders is in the schema graph
#   chain_intact=true    the second fact of a key names the first as its causation
#   current_status=...   read returns the latest value
#   status_at_mid=...    time_travel returns the value as it was at an earlier instant
#   invalidations=...    the path's consumer is called once per write, with [store, key]
#   history_count=2      appends to a history are all kept
#   wal_replay_done=...  a file-backed store reopened from its WAL returns the latest value
#
# The output is identical on the native and the pure-Ruby path. Run it from
# anywhere: `ruby examples/store_poc.rb` (after bin/setup).
require_relative "../lib/igniter-ledger"
require "tmpdir"

store = Igniter::Store::IgniterStore.new

invalidations = []
store.register_path(
  Igniter::Store::AccessPath.new(store: :reminders, lookup: :primary_key, scope: nil, filters: nil, cache_ttl: 60,
                                 consumers: [->(store_name, key) { invalidations << [store_name, key] }])
)

first = store.write(store: :reminders, key: "r1", value: { title: "Call the plumber", status: :open })
sleep 0.01
t_mid = Time.now.to_f
second = store.write(store: :reminders, key: "r1", value: { title: "Call the plumber", status: :closed })

store.append(history: :reminder_logs, event: { reminder: "r1", action: "opened" })
store.append(history: :reminder_logs, event: { reminder: "r1", action: "closed" })

puts "access_paths=#{store.schema_graph.paths_for(:reminders).length}"
puts "chain_intact=#{second.causation == first.id}"
puts "current_status=#{store.read(store: :reminders, key: "r1").fetch(:status)}"
puts "status_at_mid=#{store.time_travel(store: :reminders, key: "r1", at: t_mid).fetch(:status)}"
puts "invalidations=#{invalidations.inspect}"
puts "history_count=#{store.history(store: :reminder_logs).length}"

Dir.mktmpdir("igniter-ledger-poc") do |dir|
  path = File.join(dir, "poc.jsonl")
  file_store = Igniter::Store.open(path)
  file_store.write(store: :tasks, key: "t1", value: { title: "Write the POC", status: "open" })
  file_store.write(store: :tasks, key: "t1", value: { title: "Write the POC", status: "done" })
  file_store.close

  reopened = Igniter::Store.open(path)
  puts "wal_replay_done=#{reopened.read(store: :tasks, key: "t1") == { title: "Write the POC", status: "done" }}"
  reopened.close
  File.delete(path) if File.exist?(path)
end
