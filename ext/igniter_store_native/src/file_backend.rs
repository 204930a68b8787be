//! `Igniter::Store::FileBackend`: the single-file WAL plus snapshot. Framing,
//! CRC, salvage recovery and quarantine, the ledger lock, snapshot writing and
//! replay all run in the core crate; this class converts facts and maps errors.
//! Facts are encoded while the GVL is held (that walks Ruby values); fsyncs,
//! snapshots, opens and replays then run without it (see wal_lock.rs for
//! how the WAL's lock is taken then, and nogvl.rs for how Ctrl-C stops a
//! replay).

use std::path::PathBuf;

use ledger_core::{
    wal::replay::{join_on_pool, Batch, Cursor, DecodedBatch, Finding, ReadOptions, ReplayPlan},
    FactRecord, Wal, WalOptions,
};
use magnus::{
    gc::Marker,
    prelude::*,
    rb_sys::AsRawValue,
    scan_args::{get_kwargs, scan_args},
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, RArray, RHash, RString, Ruby, TypedData, Value,
};

use crate::{convert::frozen_str, errors, fact::Fact, nogvl};

mod methods;
mod options;
mod report;
mod wal_lock;

use wal_lock::WalLock;

pub use methods::{define, define_test_hooks};

/// Appended to the WAL path to name its snapshot (`FileBackend::SNAPSHOT_SUFFIX`).
const SNAPSHOT_SUFFIX: &str = ".snap";

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
    wal: WalLock,
}

/// Facts built between two interrupt checks of a replay that builds them all
/// at once (`FileBackend#replay`), so Ctrl-C does not wait for millions.
const BUILD_CHECK_EVERY: usize = 4096;

impl DataTypeFunctions for FileBackend {
    fn mark(&self, marker: &Marker) {
        marker.mark(self.policy);
    }
}

/// Facts given to a snapshot: an Array, or any Enumerable (its `to_a`), like the
/// pure path.
fn fact_array(facts: Value) -> Result<RArray, Error> {
    match RArray::from_value(facts) {
        Some(array) => Ok(array),
        None => facts.funcall("to_a", ()),
    }
}

/// A body's first allocation: the members around the value take ~330 bytes
/// (two UUIDs, the 64-digit hash, the names), so 256 grew once per write, a
/// copy of the body (doc/performance.md "File writes").
const BODY_CAPACITY: usize = 512;

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
    let mut out = Vec::with_capacity(BODY_CAPACITY);
    Fact::encode_body(fact, ruby, |_| Ok(()), &mut out)?;
    Ok(out)
}

/// Why an append without the GVL stopped ([`FileBackend::replay_batches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The log holds as many facts as positions allow.
    Full,
    /// The log's lock is poisoned: repairing it needs the GVL.
    Poisoned,
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
        let path = options::path(ruby, args.required.0)?;
        let (policy, recovery, read_only) = kw.optional;
        let mut policy = policy.unwrap_or_else(|| ruby.to_symbol("flush").as_value());
        let durability = options::durability(ruby, policy)?;
        if RHash::from_value(policy).is_some() {
            // Returned by #durability frozen, like the pure path, and safe from the caller.
            policy = policy
                .funcall::<_, _, Value>("dup", ())?
                .funcall("freeze", ())?;
        }
        let options = WalOptions {
            durability,
            recovery: options::recovery(ruby, recovery)?,
            read_only: read_only.is_some_and(|v| v.to_bool()),
        };
        let wal_path = PathBuf::from(&path);
        // Without the GVL: the open scans the whole file (and may quarantine and
        // cut damage); Ctrl-C stops the scan, before anything is written.
        let wal = nogvl::interruptible(ruby, |cancel| {
            Wal::open_cancellable(&wal_path, options, cancel)
        })?
        .map_err(|e| match e {
            ledger_core::Error::Io(io) => errors::os(ruby, &io, Some(&path)),
            e => errors::core(ruby, e),
        })?;
        Ok(ruby.obj_wrap(FileBackend {
            path,
            policy: policy.into(),
            wal: WalLock::new(wal),
        }))
    }

    /// Hands damage a replay met to the WAL (quarantine copies, made durable,
    /// and the report), without the GVL.
    fn note(&self, ruby: &Ruby, mut findings: Vec<Finding>) -> Result<(), Error> {
        if findings.is_empty() {
            return Ok(());
        }
        let result = self
            .wal
            .released(ruby, |wal| wal.note_findings(std::mem::take(&mut findings)))?;
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// The WAL path and how a replay must read it: copied out under the lock,
    /// which the replay then does not hold (it reads the files on its own). The
    /// first replay after a clean open gets the prefix the open checked
    /// (`Wal::take_read_options`).
    fn read_plan(&self, ruby: &Ruby) -> Result<(PathBuf, ReadOptions), Error> {
        self.quick(ruby, |wal| {
            (wal.path().to_path_buf(), wal.take_read_options())
        })
    }

    /// Short work on the WAL (see `WalLock::quick`), its errors mapped.
    fn quick<R: Send>(
        &self,
        ruby: &Ruby,
        work: impl FnMut(&mut Wal) -> R + Send,
    ) -> Result<R, Error> {
        let result = self.wal.quick(ruby, work)?;
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// Blocking work on the WAL without the GVL (see `WalLock::released`).
    fn released<R: Send>(
        &self,
        ruby: &Ruby,
        work: impl FnMut(&mut Wal) -> ledger_core::Result<R> + Send,
    ) -> Result<R, Error> {
        let result = self.wal.released(ruby, work)?;
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// Appends one encoded body (see `WalLock::append`).
    fn append(&self, ruby: &Ruby, body: &[u8]) -> Result<(), Error> {
        let result = self.wal.append(ruby, body)?;
        result.map_err(|e| self.core_error(ruby, e))
    }

    fn core_error(&self, ruby: &Ruby, e: ledger_core::Error) -> Error {
        match e {
            ledger_core::Error::Io(io) => errors::os(ruby, &io, Some(&self.path)),
            e => errors::core(ruby, e),
        }
    }

    /// Appends the frame of a fact just built, encoded from the fact's own
    /// record (a packed value straight from its bytes), so the write path
    /// never walks the Ruby value twice.
    pub fn write_fact_body(&self, ruby: &Ruby, fact: Obj<Fact>) -> Result<(), Error> {
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        Fact::encode_body(fact, ruby, |_| Ok(()), &mut body)?;
        self.append(ruby, &body)
    }

    /// Replay's records (snapshot ∪ WAL delta, by transaction time), read and
    /// decoded without the GVL; Ctrl-C stops the reading and decoding.
    pub fn replay_records(&self, ruby: &Ruby) -> Result<Vec<FactRecord>, Error> {
        let (path, opts) = self.read_plan(ruby)?;
        let replayed = nogvl::interruptible(ruby, |cancel| {
            ledger_core::replay_with(&path, &opts, cancel)
        })?
        .map_err(|e| self.core_error(ruby, e))?;
        self.note(ruby, replayed.findings)?;
        Ok(replayed.records)
    }

    /// Feeds replay's records batch by batch: the snapshot's (decoded up
    /// front) to `each` with the GVL, the WAL's to `append` without it, each
    /// WAL batch appended while the next one is decoded (reading and decoding
    /// run without the GVL, and at most two batches of decoded records exist
    /// at a time). The order is replay order up to a stable sort by
    /// transaction time (see `ReplayPlan`): the caller sorts if the times it
    /// saw ever decreased. Ctrl-C stops it between any two batches, and within
    /// the reading and decoding. `append` answers `Err(Stop::Poisoned)`
    /// (nothing appended) when the log's lock needs the GVL to be repaired:
    /// that batch then goes to `each`. `expect` is told first, with the GVL,
    /// how many facts at most follow (to reserve room for them).
    pub fn replay_batches(
        &self,
        ruby: &Ruby,
        expect: impl FnOnce(usize) -> Result<(), Error>,
        mut each: impl FnMut(&DecodedBatch<'_>) -> Result<(), Error>,
        append: impl Fn(&DecodedBatch<'_>) -> Result<(), Stop> + Sync,
    ) -> Result<(), Error> {
        let (path, opts) = self.read_plan(ruby)?;
        let mut plan = nogvl::interruptible(ruby, |cancel| {
            ReplayPlan::load_streamed(&path, opts, cancel)
        })?
        .map_err(|e| self.core_error(ruby, e))?;
        let mut findings = plan.take_findings();
        let decoded = DecodedBatch::from_records(plan.take_decoded());
        expect(decoded.len() + plan.bodies())?;
        each(&decoded)?;
        drop(decoded);
        let plan = &plan;
        // Where the batches decoded so far end, and the last one not yet
        // appended: kept across an interrupted run, which starts again where
        // it stopped. An appended batch's window is read into again.
        let mut cursor = Cursor::default();
        let mut pending: Option<Batch<'_>> = None;
        let mut done = false;
        loop {
            let stop = nogvl::interruptible(ruby, |cancel| loop {
                let todo = pending.take();
                if todo.is_none() && done {
                    return Ok(None);
                }
                let from = cursor.position();
                let (decoded, appended) = join_on_pool(
                    || (!done).then(|| plan.next_batch(&mut cursor, cancel)),
                    || todo.as_ref().map_or(Ok(()), |b| append(b.decoded())),
                );
                if let Err(stop) = appended {
                    // The batch just decoded is read again later.
                    cursor.rewind(from);
                    pending = todo;
                    return Ok(Some(stop));
                }
                if let Some(batch) = todo {
                    cursor.recycle(batch);
                }
                match decoded.transpose()? {
                    Some(Some((batch, found))) => {
                        findings.extend(found);
                        pending = Some(batch);
                    }
                    Some(None) => done = true,
                    None => {}
                }
            })?
            .map_err(|e| self.core_error(ruby, e))?;
            match stop {
                None => break,
                Some(Stop::Full) => return Err(crate::fact_log::full(ruby)),
                Some(Stop::Poisoned) => {
                    if let Some(batch) = pending.take() {
                        each(batch.decoded())?;
                    }
                }
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

    /// Encodes the fact with the GVL (it walks the Ruby value), then appends.
    fn write_fact(&self, ruby: &Ruby, fact: Obj<Fact>) -> Result<(), Error> {
        let body = body(ruby, fact)?;
        self.append(ruby, &body)
    }

    /// Appends the frames of `facts` (an Array or Enumerable) with one `write(2)` and one
    /// durability step for all of them (see `WalLock::append_all`). The
    /// bodies are encoded first, with the GVL, so a fact that cannot be
    /// encoded fails the call before anything is written.
    fn write_facts(&self, ruby: &Ruby, facts: Value) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        if bodies.is_empty() {
            return Ok(()); // like the pure path: nothing to write, nothing checked
        }
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let result = self.wal.append_all(ruby, &refs)?;
        result.map_err(|e| self.core_error(ruby, e))
    }

    /// Snapshot ∪ WAL delta, sorted by transaction time. Reading and decoding
    /// run without the GVL; the Ruby facts are built afterwards, with an
    /// interrupt check every few thousand.
    fn replay(&self, ruby: &Ruby) -> Result<RArray, Error> {
        let records = self.replay_records(ruby)?;
        let out = ruby.ary_new_capa(records.len());
        for (i, record) in records.iter().enumerate() {
            if i % BUILD_CHECK_EVERY == BUILD_CHECK_EVERY - 1 {
                nogvl::check_interrupts(ruby)?;
            }
            out.push(Fact::from_record(ruby, record)?)?;
        }
        Ok(out)
    }

    /// Encodes every fact with the GVL, then writes, fsyncs and renames the
    /// snapshot without it.
    fn write_snapshot(&self, ruby: &Ruby, facts: Value) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        self.released(ruby, |wal| wal.write_snapshot(&bodies))
    }

    /// Like `write_snapshot`, then empties the WAL, all under the WAL's lock.
    fn replace_with_snapshot(&self, ruby: &Ruby, facts: Value) -> Result<(), Error> {
        let bodies = bodies(ruby, facts)?;
        self.released(ruby, |wal| wal.replace_with_snapshot(&bodies))
    }

    /// Without the GVL: under group commit, close fsyncs the pending frames.
    fn close(&self, ruby: &Ruby) -> Result<(), Error> {
        self.released(ruby, |wal| wal.close())
    }

    fn path(&self, ruby: &Ruby) -> RString {
        frozen_str(ruby, &self.path)
    }

    /// A new, unfrozen String each call, like the pure path's `@path + SNAPSHOT_SUFFIX`.
    fn snapshot_path(&self, ruby: &Ruby) -> RString {
        ruby.str_new(&format!("{}{SNAPSHOT_SUFFIX}", self.path))
    }
}
