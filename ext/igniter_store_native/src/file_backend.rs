//! `Igniter::Store::FileBackend`: the single-file WAL plus snapshot. Framing,
//! CRC, salvage recovery and quarantine, the ledger lock, snapshot writing and
//! replay all run in the core crate; this class converts facts and maps errors.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ledger_core::{
    fs_util::lexical_absolute,
    replay::{Finding, ReadOptions},
    Durability, Recovery, RecoveryMode, Wal, WalOptions,
};
use magnus::{
    gc::Marker,
    prelude::*,
    rb_sys::AsRawValue,
    scan_args::{get_kwargs, scan_args},
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, Integer, RArray, RHash, RString, Ruby, Symbol, TypedData, Value,
};

use crate::{errors, fact::Fact, nogvl};

#[derive(TypedData)]
#[magnus(
    class = "Igniter::Store::FileBackend",
    free_immediately,
    size,
    mark,
    wb_protected
)]
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
            if secs.is_nan() || secs < 0.0 {
                return Ok(None);
            }
            // Beyond Duration's range (1e30 s, Infinity) means "never by time", as on
            // the pure path; from_secs_f64 would panic there.
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
        }
    };
    Ok(Some(Durability::Group { every, interval }))
}

/// `:salvage` (default), `:strict` or `:truncate`.
fn recovery_arg(ruby: &Ruby, v: Option<Value>) -> Result<RecoveryMode, Error> {
    let Some(v) = v else {
        return Ok(RecoveryMode::Salvage);
    };
    if let Some(sym) = Symbol::from_value(v) {
        match sym.name()?.as_ref() {
            "salvage" => return Ok(RecoveryMode::Salvage),
            "strict" => return Ok(RecoveryMode::Strict),
            "truncate" => return Ok(RecoveryMode::Truncate),
            _ => {}
        }
    }
    Err(Error::new(
        ruby.exception_arg_error(),
        format!(
            "unknown recovery mode: {} (expected :salvage, :strict or :truncate)",
            v.inspect()
        ),
    ))
}

/// The path as a UTF-8 String without NUL bytes (the pure path's rule): a receipt
/// names the file in JSON, and the OS cannot open a name with NUL.
fn path_arg(ruby: &Ruby, v: Value) -> Result<String, Error> {
    let s: RString = v.funcall("to_s", ())?;
    // SAFETY: the bytes are copied before any Ruby call can move or free the String.
    let bytes = unsafe { s.as_slice() }.to_vec();
    if bytes.contains(&0) {
        return Err(Error::new(
            ruby.exception_arg_error(),
            format!("path contains a null byte: {}", s.inspect()),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ruby.exception_arg_error(),
            format!("path is not valid UTF-8: {}", s.inspect()),
        )
    })
}

/// Facts given to a snapshot: an Array, or any Enumerable (its `to_a`), like the
/// pure path.
fn fact_array(facts: Value) -> Result<RArray, Error> {
    match RArray::from_value(facts) {
        Some(array) => Ok(array),
        None => facts.funcall("to_a", ()),
    }
}

fn frozen_str(ruby: &Ruby, s: &str) -> RString {
    let out = ruby.str_new(s);
    out.freeze();
    out
}

fn absolute(ruby: &Ruby, p: &Path) -> RString {
    frozen_str(ruby, &lexical_absolute(p).to_string_lossy())
}

/// The report as both paths return it (doc/format.md "Recovery report"): a frozen
/// Hash with Symbol keys, its spans frozen too.
fn report_hash(ruby: &Ruby, r: &Recovery) -> Result<RHash, Error> {
    let sym = |name: &str| ruby.to_symbol(name);
    let h = ruby.hash_new();
    h.aset(sym("original_bytes"), r.original_len)?;
    h.aset(sym("valid_bytes"), r.valid_len)?;
    h.aset(sym("truncated_bytes"), r.truncated_bytes)?;
    h.aset(sym("tail"), sym(r.tail.map_or("clean", |t| t.name())))?;
    h.aset(sym("mode"), sym(r.mode.name()))?;
    let spans = ruby.ary_new_capa(r.quarantined.len());
    for span in &r.quarantined {
        let s = ruby.hash_new();
        s.aset(sym("file"), absolute(ruby, &span.file))?;
        s.aset(sym("offset"), span.offset)?;
        s.aset(sym("length"), span.length)?;
        s.aset(sym("reason"), sym(span.reason.name()))?;
        s.aset(
            sym("quarantine_path"),
            span.quarantine_path.as_deref().map(|p| absolute(ruby, p)),
        )?;
        s.freeze();
        spans.push(s)?;
    }
    spans.freeze();
    h.aset(sym("quarantined"), spans)?;
    h.aset(sym("salvaged_frames"), r.salvaged_frames)?;
    h.aset(sym("damaged_spans"), r.damaged_spans)?;
    h.aset(sym("read_only"), r.read_only)?;
    h.freeze();
    Ok(h)
}

/// Encodes facts into frame bodies on the Ruby thread (it walks Ruby values).
fn bodies(ruby: &Ruby, facts: Value) -> Result<Vec<Vec<u8>>, Error> {
    let facts = fact_array(facts)?;
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
    /// `FileBackend.new(path, durability: :flush, recovery: :salvage, read_only:
    /// false)`: locks, checks and recovers the WAL (see `Wal::open_with`).
    fn new(ruby: &Ruby, args: &[Value]) -> Result<Obj<FileBackend>, Error> {
        let args = scan_args::<(Value,), (), (), (), RHash, ()>(args)?;
        let kw = get_kwargs::<_, (), (Option<Value>, Option<Value>, Option<Value>), ()>(
            args.keywords,
            &[],
            &["durability", "recovery", "read_only"],
        )?;
        let path = path_arg(ruby, args.required.0)?;
        let (policy, recovery, read_only) = kw.optional;
        let mut policy = policy.unwrap_or_else(|| ruby.to_symbol("flush").as_value());
        let durability = durability_arg(ruby, policy)?;
        if RHash::from_value(policy).is_some() {
            // Returned by #durability frozen, like the pure path, and safe from the caller.
            policy = policy
                .funcall::<_, _, Value>("dup", ())?
                .funcall("freeze", ())?;
        }
        let options = WalOptions {
            durability,
            recovery: recovery_arg(ruby, recovery)?,
            read_only: read_only.is_some_and(|v| v.to_bool()),
        };
        let wal = Wal::open_with(&PathBuf::from(&path), options).map_err(|e| match e {
            ledger_core::Error::Io(io) => errors::os(ruby, &io, Some(&path)),
            e => errors::core(ruby, e),
        })?;
        Ok(ruby.obj_wrap(FileBackend {
            path,
            policy: policy.into(),
            wal: Mutex::new(wal),
        }))
    }

    /// Hands damage a replay met to the WAL (quarantine and report).
    fn note(&self, ruby: &Ruby, findings: Vec<Finding>) -> Result<(), Error> {
        if findings.is_empty() {
            return Ok(());
        }
        let result = self.wal(ruby)?.note_findings(findings);
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// The WAL path and how a replay must read it, taken under the lock and released
    /// before the GVL is: holding the lock without the GVL could deadlock a writer.
    fn read_plan(&self, ruby: &Ruby) -> Result<(PathBuf, ReadOptions), Error> {
        let wal = self.wal(ruby)?;
        Ok((wal.path().to_path_buf(), wal.read_options()))
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
        let (path, opts) = self.read_plan(ruby)?;
        let replayed = nogvl::without_gvl(ruby, move || ledger_core::replay_with(&path, &opts))?
            .map_err(|e| self.core_error(ruby, e))?;
        self.note(ruby, replayed.findings)?;
        Ok(replayed.records)
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
        let (path, opts) = self.read_plan(ruby)?;
        let mut plan = nogvl::without_gvl(ruby, move || {
            ledger_core::replay::ReplayPlan::load(&path, opts)
        })?
        .map_err(|e| self.core_error(ruby, e))?;
        let mut findings = plan.take_findings();
        for rec in &plan.take_decoded() {
            each(rec)?;
        }
        for n in 0..plan.batches() {
            let plan = &plan;
            // A batch is freed whole after its facts are built: freeing record by
            // record between the Ruby allocations fragmented the heap, and the next
            // batch's decode then paid for it in malloc.
            let (batch, found) = nogvl::without_gvl(ruby, move || plan.batch(n))?
                .map_err(|e| self.core_error(ruby, e))?;
            findings.extend(found);
            for rec in &batch {
                each(rec)?;
            }
        }
        self.note(ruby, findings)
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

    fn write_snapshot(ruby: &Ruby, rb_self: &Self, facts: Value) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        let result = rb_self.wal(ruby)?.write_snapshot(&bodies);
        result.map_err(|e| rb_self.core_error(ruby, e))
    }

    fn replace_with_snapshot(ruby: &Ruby, rb_self: &Self, facts: Value) -> Result<(), Error> {
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

    fn is_read_only(ruby: &Ruby, rb_self: &Self) -> Result<bool, Error> {
        Ok(rb_self.wal(ruby)?.is_read_only())
    }

    fn path(ruby: &Ruby, rb_self: &Self) -> RString {
        frozen_str(ruby, &rb_self.path)
    }

    fn snapshot_path(&self) -> String {
        format!("{}{}", self.path, ".snap")
    }

    fn durability(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.policy)
    }

    /// What opening found and did (`Recovery`, plus what replays found since).
    fn recovery(ruby: &Ruby, rb_self: &Self) -> Result<RHash, Error> {
        let wal = rb_self.wal(ruby)?;
        report_hash(ruby, wal.recovery())
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
    class.define_method(
        "write_snapshot",
        magnus::method!(FileBackend::write_snapshot, 1),
    )?;
    class.define_method(
        "replace_with_snapshot!",
        magnus::method!(FileBackend::replace_with_snapshot, 1),
    )?;
    class.define_method("close", magnus::method!(FileBackend::close, 0))?;
    class.define_method("closed?", magnus::method!(FileBackend::is_closed, 0))?;
    class.define_method("read_only?", magnus::method!(FileBackend::is_read_only, 0))?;
    class.define_method("path", magnus::method!(FileBackend::path, 0))?;
    class.define_method(
        "snapshot_path",
        magnus::method!(FileBackend::snapshot_path, 0),
    )?;
    class.define_method("durability", magnus::method!(FileBackend::durability, 0))?;
    class.define_method("recovery", magnus::method!(FileBackend::recovery, 0))?;
    Ok(())
}
