# frozen_string_literal: true

# A Rust panic never reaches Ruby as `fatal`: every native method runs under
# the guard of ext/igniter_store_native/src/guard.rs, which raises
# Igniter::Store::InternalError instead; the process and its data live on.
# The panics are triggered by test hooks that exist only when the extension is
# loaded with IGNITER_LEDGER_NATIVE_TEST_HOOKS=1, in a native child process
# (so both runs of the suite check the native path).
RSpec.describe "Native panic guard" do
  it "turns a panic into InternalError carrying the panic message" do
    result = run_native_child(<<~RUBY, hooks: true)
      begin
        Igniter::Store::NativeTestHooks.panic("boom at the boundary")
      rescue Igniter::Store::InternalError => e
        puts JSON.generate([e.class.name, e.message, e.is_a?(Igniter::Store::Error)])
      end
    RUBY
    expect(result).to eq(["Igniter::Store::InternalError",
                          "igniter-ledger: internal error in native code: boom at the boundary", true])
  end

  it "keeps every fact and a usable store after a panic inside the log's index" do
    result = run_native_child(<<~RUBY, hooks: true)
      Dir.mktmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        store = Igniter::Store::IgniterStore.open(path)
        store.write(store: :s, key: "a", value: 1)
        store.write(store: :s, key: "b", value: 2)
        log = store.instance_variable_get(:@log)
        stray = Igniter::Store::Fact.build(store: :s, key: "c", value: 3)
        raised = begin
          Igniter::Store::NativeTestHooks.panic_while_indexing(log, stray)
          nil
        rescue Igniter::Store::InternalError => e
          e.message
        end
        store.write(store: :s, key: "a", value: 10)
        seen = [store.read(store: :s, key: "a"), store.read(store: :s, key: "b"), log.size,
                log.latest_for(store: :s, key: "c")&.value, store.history(store: :s).map(&:key)]
        store.close
        reopened = Igniter::Store::IgniterStore.open(path)
        after = [reopened.read(store: :s, key: "a"), reopened.read(store: :s, key: "b"), reopened.history(store: :s).size]
        reopened.close
        puts JSON.generate([raised, seen, after])
      end
    RUBY
    raised, seen, after = result
    expect(raised).to eq("igniter-ledger: internal error in native code: test hook: panic while indexing")
    # The stray fact had reached the log's Array before the panic: the rebuilt
    # index finds it, and nothing written before is gone.
    expect(seen).to eq([10, 2, 4, 3, %w[a b c a]])
    expect(after).to eq([10, 2, 3])
  end

  it "keeps every fact and a writable backend after a panic inside a FileBackend write" do
    result = run_native_child(<<~RUBY, hooks: true)
      Dir.mktmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        build = ->(key, n) { Igniter::Store::Fact.build(store: :s, key: key, value: { n: n }) }
        backend = Igniter::Store::FileBackend.new(path, durability: :fsync)
        backend.write_fact(build.call("a", 1))
        raised = begin
          # The frame reaches the file, then the panic poisons the WAL's lock.
          Igniter::Store::NativeTestHooks.panic_while_writing(backend, build.call("b", 2))
          nil
        rescue Igniter::Store::InternalError => e
          e.message
        end
        backend.write_fact(build.call("c", 3))
        seen = [backend.closed?, backend.replay.map(&:key)]
        backend.close
        reopened = Igniter::Store::FileBackend.new(path)
        after = [reopened.replay.map(&:key), reopened.recovery[:damaged_spans]]
        reopened.close
        puts JSON.generate([raised, seen, after])
      end
    RUBY
    raised, seen, after = result
    expect(raised).to eq("igniter-ledger: internal error in native code: test hook: panic while writing")
    # The lock the panic poisoned is repaired from the file: the frame written
    # before the panic stays, and the backend takes the next write.
    expect(seen).to eq([false, %w[a b c]])
    expect(after).to eq([%w[a b c], 0])
  end

  it "defines no test hooks without the environment variable" do
    result = run_native_child(<<~RUBY)
      puts JSON.generate([Igniter::Store::NATIVE, defined?(Igniter::Store::NativeTestHooks).nil?])
    RUBY
    expect(result).to eq([true, true])
  end
end
