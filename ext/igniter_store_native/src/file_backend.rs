//! `Igniter::Store::FileBackend`: the single-file WAL plus snapshot. Framing,
//! CRC, torn-tail recovery, snapshot writing and replay all run in the core
//! crate; this class converts facts and maps errors.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use ledger_core::{frame::Tail, wal::Wal, Durability};
use magnus::{
    gc::Marker,
    rb_sys::AsRawValue,
    prelude::*,
    scan_args::{get_kwargs, scan_args},
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, Integer, RArray, RHash, Ruby, Symbol, TypedData, Value,
};

use crate::{errors, fact::Fact, nogvl};

#[derive(TypedData)]
#[magnus(class = "Igniter::Store::FileBackend", free_immediately, size, mark, wb_protected)]
pub struct FileBackend {
    path: String,
    /// The policy object as given, returned by `#durability` like the pure path.
    policy: Opaque<Value>,
    wal: Mutex<Wal>,
}

impl DataTypeFunctions for FileBackend {
    fn mark(&self, marker: &Marker) {
        marker.mark(self.policy);
    }
}

/// `:flush` (default), `:fsync`, or a non-empty Hash with `group:` (a
/// positive Integer) and/or `interval:` (seconds >= 0) — the pure path's rule.
fn durability_arg(ruby: &Ruby, v: Value) -> Result<Durability, Error> {
    if let Some(sym) = Symbol::from_value(v) {
        match sym.name()?.as_ref() {
            "flush" => return Ok(Durability::Flush),
            "fsync" => return Ok(Durability::Fsync),
            _ => {}
        }
    }
    if let Some(h) = RHash::from_value(v) {
        if let Some(policy) = group_policy(ruby, h)? {
            return Ok(policy);
        }
    }
    Err(Error::new(
        ruby.exception_arg_error(),
        format!(
            "unknown durability policy: {} (expected :flush, :fsync or {{group: Integer, interval: seconds}})",
            v.inspect()
        ),
    ))
}

/// A missing `group` never triggers by count, a missing `interval` never by time.
fn group_policy(ruby: &Ruby, h: RHash) -> Result<Option<Durability>, Error> {
    let group = h.get(ruby.to_symbol("group"));
    let interval = h.get(ruby.to_symbol("interval"));
    let known = usize::from(group.is_some()) + usize::from(interval.is_some());
    if known == 0 || known != h.len() {
        return Ok(None);
    }
    let every = match group {
        None => usize::MAX,
        Some(g) => match Integer::from_value(g).and_then(|n| n.to_i64().ok()) {
            Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Ok(None),
        },
    };
    let interval = match interval {
        None => Duration::MAX,
        Some(i) => {
            if !i.is_kind_of(ruby.class_numeric()) {
                return Ok(None);
            }
            let secs = i.funcall::<_, _, f64>("to_f", ())?;
            if !(secs.is_finite() && secs >= 0.0) {
                return Ok(None);
            }
            Duration::from_secs_f64(secs)
        }
    };
    Ok(Some(Durability::Group { every, interval }))
}

fn tail_name(tail: Tail) -> &'static str {
    match tail {
        Tail::Clean => "clean",
        Tail::Torn => "torn",
        Tail::BadCrc => "bad_crc",
        Tail::Oversized => "oversized",
    }
}

/// Encodes facts into frame bodies on the Ruby thread (it walks Ruby values).
fn bodies(ruby: &Ruby, facts: RArray) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::with_capacity(facts.len());
    for fact in facts.into_iter() {
        out.push(body(ruby, Obj::<Fact>::try_convert(fact)?)?);
    }
    Ok(out)
}

fn body(ruby: &Ruby, fact: Obj<Fact>) -> Result<Vec<u8>, Error> {
    let record = fact.to_record(ruby)?;
    let mut out = Vec::with_capacity(256);
    ledger_core::encode_fact_body(&record, &mut out).map_err(|e| errors::core(ruby, e))?;
    Ok(out)
}

impl FileBackend {
    /// `FileBackend.new(path, durability: :flush)`: opens (and repairs) the WAL.
    fn new(ruby: &Ruby, args: &[Value]) -> Result<Obj<FileBackend>, Error> {
        let args = scan_args::<(Value,), (), (), (), RHash, ()>(args)?;
        let kw = get_kwargs::<_, (), (Option<Value>,), ()>(args.keywords, &[], &["durability"])?;
        let path: String = args.required.0.funcall("to_s", ())?;
        let policy = kw.optional.0.unwrap_or_else(|| ruby.to_symbol("flush").as_value());
        let durability = durability_arg(ruby, policy)?;
        let wal = Wal::open(&PathBuf::from(&path), durability).map_err(|e| match e {
            ledger_core::Error::Io(io) => errors::os(ruby, &io, Some(&path)),
            e => errors::core(ruby, e),
        })?;
        Ok(ruby.obj_wrap(FileBackend { path, policy: policy.into(), wal: Mutex::new(wal) }))
    }

    fn wal(&self, ruby: &Ruby) -> Result<std::sync::MutexGuard<'_, Wal>, Error> {
        self.wal.lock().map_err(|_| errors::poisoned(ruby))
    }

    fn core_error(&self, ruby: &Ruby, e: ledger_core::Error) -> Error {
        match e {
            ledger_core::Error::Io(io) => errors::os(ruby, &io, Some(&self.path)),
            e => errors::core(ruby, e),
        }
    }

    /// Appends the frame of a fact just built from `record` (the models its
    /// build produced), so the write path never walks the Ruby value twice.
    pub fn write_record(&self, ruby: &Ruby, record: &ledger_core::FactRecord) -> Result<(), Error> {
        let mut body = Vec::with_capacity(256);
        ledger_core::encode_fact_body(record, &mut body).map_err(|e| errors::core(ruby, e))?;
        let result = self.wal(ruby)?.append_body(&body);
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// Replay's records (snapshot ∪ WAL delta, by transaction time), read and
    /// decoded without the GVL.
    pub fn replay_records(&self, ruby: &Ruby) -> Result<Vec<ledger_core::FactRecord>, Error> {
        let path = PathBuf::from(&self.path);
        nogvl::without_gvl(ruby, move || ledger_core::replay::replay(&path))?.map_err(|e| self.core_error(ruby, e))
    }

    /// Feeds replay's records to `each` batch by batch: reading and decoding
    /// run without the GVL, and only one batch of decoded records exists at a
    /// time. The order is replay order up to a stable sort by transaction
    /// time (see `ReplayPlan`): the caller sorts if the times it saw ever
    /// decreased.
    pub fn replay_each(
        &self,
        ruby: &Ruby,
        mut each: impl FnMut(&ledger_core::FactRecord) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let path = PathBuf::from(&self.path);
        let mut plan = nogvl::without_gvl(ruby, move || ledger_core::replay::ReplayPlan::load(&path))?
            .map_err(|e| self.core_error(ruby, e))?;
        for rec in &plan.take_decoded() {
            each(rec)?;
        }
        for n in 0..plan.batches() {
            let plan = &plan;
            // A batch is freed whole after its facts are built: freeing record by
            // record between the Ruby allocations fragmented the heap, and the next
            // batch's decode then paid for it in malloc.
            let batch = nogvl::without_gvl(ruby, move || plan.batch(n))?;
            for rec in &batch {
                each(rec)?;
            }
        }
        Ok(())
    }

    /// True for an instance of this very class: a Ruby subclass may override
    /// `write_fact`/`replay`, so only exact instances take the direct routes.
    pub fn exact(ruby: &Ruby, v: Value) -> Option<Obj<FileBackend>> {
        if v.class().as_raw() != <FileBackend as TypedData>::class(ruby).as_raw() {
            return None;
        }
        Obj::<FileBackend>::try_convert(v).ok()
    }

    fn write_fact(ruby: &Ruby, rb_self: &Self, fact: Obj<Fact>) -> Result<(), Error> {
        let body = body(ruby, fact)?;
        let result = rb_self.wal(ruby)?.append_body(&body);
        result.map_err(|e| rb_self.core_error(ruby, e))
    }

    /// Snapshot ∪ WAL delta, sorted by transaction time. Reading and decoding
    /// run without the GVL; the Ruby facts are built afterwards.
    fn replay(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let records = rb_self.replay_records(ruby)?;
        let out = ruby.ary_new_capa(records.len());
        for record in &records {
            out.push(Fact::from_record(ruby, record)?)?;
        }
        Ok(out)
    }

    fn write_snapshot(ruby: &Ruby, rb_self: &Self, facts: RArray) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        let result = rb_self.wal(ruby)?.write_snapshot(&bodies);
        result.map_err(|e| rb_self.core_error(ruby, e))
    }

    fn replace_with_snapshot(ruby: &Ruby, rb_self: &Self, facts: RArray) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        let result = rb_self.wal(ruby)?.replace_with_snapshot(&bodies);
        result.map_err(|e| rb_self.core_error(ruby, e))
    }

    fn close(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        let result = rb_self.wal(ruby)?.close();
        result.map_err(|e| rb_self.core_error(ruby, e))
    }

    fn is_closed(ruby: &Ruby, rb_self: &Self) -> Result<bool, Error> {
        Ok(rb_self.wal(ruby)?.is_closed())
    }

    fn path(&self) -> String {
        self.path.clone()
    }

    fn snapshot_path(&self) -> String {
        format!("{}{}", self.path, ".snap")
    }

    fn durability(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.policy)
    }

    /// What opening cut off: `{original_bytes:, valid_bytes:, truncated_bytes:, tail:}`.
    fn recovery(ruby: &Ruby, rb_self: &Self) -> Result<RHash, Error> {
        let wal = rb_self.wal(ruby)?;
        let r = wal.recovery();
        let h = ruby.hash_new();
        h.aset(ruby.to_symbol("original_bytes"), r.original_len)?;
        h.aset(ruby.to_symbol("valid_bytes"), r.valid_len)?;
        h.aset(ruby.to_symbol("truncated_bytes"), r.truncated_bytes)?;
        h.aset(ruby.to_symbol("tail"), ruby.to_symbol(tail_name(r.tail)))?;
        Ok(h)
    }
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("FileBackend", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.const_set("SNAPSHOT_SUFFIX", ".snap")?;
    class.define_singleton_method("new", magnus::function!(FileBackend::new, -1))?;
    class.define_method("write_fact", magnus::method!(FileBackend::write_fact, 1))?;
    class.define_method("replay", magnus::method!(FileBackend::replay, 0))?;
    class.define_method("write_snapshot", magnus::method!(FileBackend::write_snapshot, 1))?;
    class.define_method("replace_with_snapshot!", magnus::method!(FileBackend::replace_with_snapshot, 1))?;
    class.define_method("close", magnus::method!(FileBackend::close, 0))?;
    class.define_method("closed?", magnus::method!(FileBackend::is_closed, 0))?;
    class.define_method("path", magnus::method!(FileBackend::path, 0))?;
    class.define_method("snapshot_path", magnus::method!(FileBackend::snapshot_path, 0))?;
    class.define_method("durability", magnus::method!(FileBackend::durability, 0))?;
    class.define_method("recovery", magnus::method!(FileBackend::recovery, 0))?;
    Ok(())
}
