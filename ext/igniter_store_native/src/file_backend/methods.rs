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
    run(ruby, || Ok(backend.wal(ruby)?.is_closed()))
}
fn is_read_only(ruby: &Ruby, backend: &FileBackend) -> Result<bool, Error> {
    run(ruby, || Ok(backend.wal(ruby)?.is_read_only()))
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
fn recovery(ruby: &Ruby, backend: &FileBackend) -> Result<RHash, Error> {
    run(ruby, || {
        super::report::hash(ruby, backend.wal(ruby)?.recovery())
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
        let mut wal = backend.wal(ruby)?;
        wal.append_body(&body)
            .map_err(|e| backend.core_error(ruby, e))?;
        panic!("test hook: panic while writing");
    })
}

/// `NativeTestHooks.panic_while_writing(backend, fact)` (see guard.rs).
pub fn define_test_hooks(hooks: RModule) -> Result<(), Error> {
    hooks.define_singleton_method(
        "panic_while_writing",
        magnus::function!(panic_while_writing, 2),
    )
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("FileBackend", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.const_set("SNAPSHOT_SUFFIX", super::SNAPSHOT_SUFFIX)?;
    class.define_singleton_method("new", magnus::function!(new, -1))?;
    class.define_method("write_fact", magnus::method!(write_fact, 1))?;
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
    Ok(())
}
