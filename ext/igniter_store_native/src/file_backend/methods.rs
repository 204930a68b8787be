//! The Ruby methods of `Igniter::Store::FileBackend`. Each body runs under
//! [`guard::run`](crate::guard::run), so no panic can cross into Ruby.

use magnus::{prelude::*, typed_data::Obj, Error, RArray, RHash, RModule, RString, Ruby, Value};

use super::FileBackend;
use crate::fact::Fact;
use crate::guard::run;

fn new(ruby: &Ruby, args: &[Value]) -> Result<Obj<FileBackend>, Error> {
    run(ruby, || FileBackend::new(ruby, args))
}
fn write_fact(ruby: &Ruby, backend: &FileBackend, fact: Obj<Fact>) -> Result<(), Error> {
    run(ruby, || backend.write_fact(ruby, fact))
}
fn write_facts(ruby: &Ruby, backend: &FileBackend, facts: Value) -> Result<(), Error> {
    run(ruby, || backend.write_facts(ruby, facts))
}
fn replay(ruby: &Ruby, backend: &FileBackend) -> Result<RArray, Error> {
    run(ruby, || backend.replay(ruby))
}
fn write_snapshot(ruby: &Ruby, backend: &FileBackend, facts: Value) -> Result<(), Error> {
    run(ruby, || backend.write_snapshot(ruby, facts))
}
fn replace_with_snapshot(ruby: &Ruby, backend: &FileBackend, facts: Value) -> Result<(), Error> {
    run(ruby, || backend.replace_with_snapshot(ruby, facts))
}
fn close(ruby: &Ruby, backend: &FileBackend) -> Result<(), Error> {
    run(ruby, || backend.close(ruby))
}
fn is_closed(ruby: &Ruby, backend: &FileBackend) -> Result<bool, Error> {
    run(ruby, || backend.quick(ruby, |wal| wal.is_closed()))
}
fn is_read_only(ruby: &Ruby, backend: &FileBackend) -> Result<bool, Error> {
    run(ruby, || backend.quick(ruby, |wal| wal.is_read_only()))
}
fn path(ruby: &Ruby, backend: &FileBackend) -> Result<RString, Error> {
    run(ruby, || Ok(backend.path(ruby)))
}
fn snapshot_path(ruby: &Ruby, backend: &FileBackend) -> Result<RString, Error> {
    run(ruby, || Ok(backend.snapshot_path(ruby)))
}
fn durability(ruby: &Ruby, backend: &FileBackend) -> Result<Value, Error> {
    run(ruby, || Ok(ruby.get_inner(backend.policy)))
}
/// `{bounds:, counts:, sum:, count:}`: how long the WAL's fdatasync calls took
/// (the pure path's `Storage::SyncTiming#to_h`).
fn sync_stats(ruby: &Ruby, backend: &FileBackend) -> Result<RHash, Error> {
    run(ruby, || {
        let stats = backend.quick(ruby, |wal| wal.sync_stats().clone())?;
        let sym = |name: &str| ruby.to_symbol(name);
        let h = ruby.hash_new();
        let bounds = ruby.ary_from_iter(ledger_core::wal::sync_stats::BOUNDS.iter().copied());
        bounds.freeze();
        let counts = ruby.ary_from_iter(stats.counts.iter().copied());
        counts.freeze();
        h.aset(sym("bounds"), bounds)?;
        h.aset(sym("counts"), counts)?;
        h.aset(sym("sum"), stats.sum_seconds)?;
        h.aset(sym("count"), stats.count)?;
        h.freeze();
        Ok(h)
    })
}
fn recovery(ruby: &Ruby, backend: &FileBackend) -> Result<RHash, Error> {
    run(ruby, || {
        // Copied out first: the Hash is built after the lock is released.
        let recovery = backend.quick(ruby, |wal| wal.recovery().clone())?;
        super::report::hash(ruby, &recovery)
    })
}

/// Test hook: appends the fact's frame, then panics while still holding the
/// WAL's lock (so the lock is poisoned and the next call must repair it).
fn panic_while_writing(
    ruby: &Ruby,
    backend: Obj<FileBackend>,
    fact: Obj<Fact>,
) -> Result<(), Error> {
    run(ruby, || {
        let body = super::body(ruby, fact)?;
        backend.quick(ruby, |wal| {
            let _ = wal.append_body(&body);
            panic!("test hook: panic while writing");
        })
    })
}

/// Test hook: holds the WAL's lock for `seconds` without the GVL, as a long
/// fsync would, so a spec can watch other threads run and wait meanwhile.
fn hold_wal_lock(ruby: &Ruby, backend: Obj<FileBackend>, seconds: f64) -> Result<(), Error> {
    let pause = std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default();
    run(ruby, || {
        backend.released(ruby, |_| {
            std::thread::sleep(pause);
            Ok(())
        })
    })
}

/// Test hook: whether another thread holds the WAL's lock right now.
fn wal_lock_busy(ruby: &Ruby, backend: Obj<FileBackend>) -> Result<bool, Error> {
    run(ruby, || Ok(backend.wal.is_busy()))
}

/// `NativeTestHooks.panic_while_writing(backend, fact)`,
/// `NativeTestHooks.hold_wal_lock(backend, seconds)` and
/// `NativeTestHooks.wal_lock_busy?(backend)` (see guard.rs).
pub fn define_test_hooks(hooks: RModule) -> Result<(), Error> {
    hooks.define_singleton_method(
        "panic_while_writing",
        magnus::function!(panic_while_writing, 2),
    )?;
    hooks.define_singleton_method("hold_wal_lock", magnus::function!(hold_wal_lock, 2))?;
    hooks.define_singleton_method("wal_lock_busy?", magnus::function!(wal_lock_busy, 1))
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("FileBackend", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.const_set("SNAPSHOT_SUFFIX", super::SNAPSHOT_SUFFIX)?;
    class.define_singleton_method("new", magnus::function!(new, -1))?;
    class.define_method("write_fact", magnus::method!(write_fact, 1))?;
    class.define_method("write_facts", magnus::method!(write_facts, 1))?;
    class.define_method("replay", magnus::method!(replay, 0))?;
    class.define_method("write_snapshot", magnus::method!(write_snapshot, 1))?;
    class.define_method(
        "replace_with_snapshot!",
        magnus::method!(replace_with_snapshot, 1),
    )?;
    class.define_method("close", magnus::method!(close, 0))?;
    class.define_method("closed?", magnus::method!(is_closed, 0))?;
    class.define_method("read_only?", magnus::method!(is_read_only, 0))?;
    class.define_method("path", magnus::method!(path, 0))?;
    class.define_method("snapshot_path", magnus::method!(snapshot_path, 0))?;
    class.define_method("durability", magnus::method!(durability, 0))?;
    class.define_method("recovery", magnus::method!(recovery, 0))?;
    class.define_method("sync_stats", magnus::method!(sync_stats, 0))?;
    Ok(())
}
