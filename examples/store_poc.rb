# frozen_string_literal: true

# Proof of concept: write facts to a file-backed ledger, reopen it, and print
# what came back. Run with `bundle exec ruby examples/store_poc.rb [path]`.
require_relative "../lib/igniter-ledger"
require "tmpdir"

dir = ARGV[0] || Dir.mktmpdir("igniter-ledger-poc")
path = File.join(dir, "poc.wal")
puts "igniter-ledger #{Igniter::Store::VERSION} (#{Igniter::Store::NATIVE ? "native Rust core" : "pure Ruby"})"
puts "ledger file: #{path}"

store = Igniter::Store.open(path)
first = store.write(store: :tasks, key: "t1", value: { title: "Write the POC", status: :open })
checkpoint = Process.clock_gettime(Process::CLOCK_REALTIME)
sleep 0.01
store.write(store: :tasks, key: "t1", value: { title: "Write the POC", status: :done })
store.write(store: :tasks, key: "t2", value: { title: "Reopen the ledger", status: :open, tags: ["wal", "replay"] })
store.append(history: :audit, event: { action: "closed", task: "t1" })
written = store.fact_count
store.close

reopened = Igniter::Store.open(path)
puts "wrote #{written} facts; reopened with #{reopened.fact_count}"
puts "t1 now:          #{reopened.read(store: :tasks, key: "t1").inspect}"
puts "t1 before close: #{reopened.read(store: :tasks, key: "t1", as_of: checkpoint).inspect}"
puts "t2:              #{reopened.read(store: :tasks, key: "t2").inspect}"
history = reopened.history(store: :tasks, key: "t1")
puts "t1 history:      #{history.map { |f| f.value[:status] }.inspect}"
chain_ok = history.last.causation == first.id
puts "causation chain: #{chain_ok ? "intact" : "BROKEN"} (#{history.last.causation} -> #{first.id})"
reopened.close
exit(chain_ok && reopened.fact_count == written ? 0 : 1)
