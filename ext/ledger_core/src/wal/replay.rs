//! Replay = snapshot ∪ WAL delta (format.md "Replay"). Read-only: it may run while a
//! writer is appending, so it never truncates or repairs anything; the damage it meets
//! is handed back to the caller (the open WAL quarantines it, see `Wal::note_findings`).

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::error::Error;
use crate::error::Result;
use crate::fact::{
    decode_fact_body, decode_fast_body, decode_packed_body, FactRecord, FastRecord, PackedRecord,
};
use crate::pid::current_pid;
use crate::wal::cancel::Cancel;
use crate::wal::frame::{FRAME_CRC_SIZE, FRAME_HEADER_SIZE, MAX_FRAME_LEN};
use crate::wal::fs_util::read_whole_identified;
use crate::wal::recover::RecoveryMode;
use crate::wal::salvage::{scan_with, Reason, SliceSource, Verdict, MIN_BODY};
use crate::wal::snapshot::{read_snapshot_with, snapshot_path_for};

/// Below this many bodies decoding stays on the calling thread: the pool's overhead is
/// not worth it, and small replays then never start pool threads (friendlier to fork).
const PARALLEL_THRESHOLD: usize = 64;

/// The rayon pool of this process. A forked child (Puma or Unicorn workers) inherits
/// the parent's pool bookkeeping but none of its threads, so rayon's global pool would
/// hang there; the pool is therefore keyed by process id and rebuilt after a fork.
static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

pub(crate) fn pool<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    let pid = current_pid();
    let current = {
        let Ok(mut slot) = POOL.lock() else {
            return op();
        };
        match slot.as_ref() {
            Some((owner, pool)) if *owner == pid => Some(Arc::clone(pool)),
            _ => {
                // The parent's pool object must not be dropped here: dropping would
                // wait for threads that do not exist in this process.
                if let Some(stale) = slot.take() {
                    std::mem::forget(stale);
                }
                let built = rayon::ThreadPoolBuilder::new().build().ok().map(Arc::new);
                *slot = built.clone().map(|p| (pid, p));
                built
            }
        }
    };
    match current {
        Some(pool) => pool.install(op),
        None => op(),
    }
}

/// Runs `a` and `b` at once on this process's pool (`rayon::join`): a replay
/// decodes its next batch while it appends the last one.
pub fn join_on_pool<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    pool(|| rayon::join(a, b))
}

/// Decodes the bodies at `ranges` of `buf`, in order, skipping undecodable ones (and
/// ranges outside `buf`).
pub fn decode_bodies_parallel(buf: &[u8], ranges: &[Range<usize>]) -> Vec<FactRecord> {
    decode_checked(buf, ranges, Cancel::never())
        .map(|(records, _)| records)
        .unwrap_or_default()
}

/// Decodes the bodies at `ranges` of `buf`, in order: the records, and the indexes (into
/// `ranges`) of the bodies that are not facts. [`Error::Interrupted`] when `cancel` is
/// raised meanwhile (the bodies left are skipped, not decoded).
pub fn decode_checked(
    buf: &[u8],
    ranges: &[Range<usize>],
    cancel: &Cancel,
) -> Result<(Vec<FactRecord>, Vec<usize>)> {
    decode_checked_with(buf, ranges, cancel, |b| decode_fact_body(b).ok())
}

/// [`decode_checked`] with another decoder (`None`: not a fact).
fn decode_checked_with<T: Send>(
    buf: &[u8],
    ranges: &[Range<usize>],
    cancel: &Cancel,
    decode_body: impl Fn(&[u8]) -> Option<T> + Sync,
) -> Result<(Vec<T>, Vec<usize>)> {
    let decode = |r: &Range<usize>| {
        if cancel.is_raised() {
            return None;
        }
        buf.get(r.clone()).and_then(&decode_body)
    };
    let decoded: Vec<Option<T>> = if ranges.len() < PARALLEL_THRESHOLD {
        ranges.iter().map(decode).collect()
    } else {
        // collect() on a rayon iterator keeps the input order.
        pool(|| ranges.par_iter().map(decode).collect())
    };
    cancel.check()?;
    let mut records = Vec::with_capacity(decoded.len());
    let mut failed = Vec::new();
    for (i, rec) in decoded.into_iter().enumerate() {
        match rec {
            Some(rec) => records.push(rec),
            None => failed.push(i),
        }
    }
    Ok((records, failed))
}

/// Damage a replay found: the bytes themselves (so a later quarantine copies what was
/// read, whatever happened to the file since), where they were, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub reason: Reason,
}

impl Finding {
    pub(crate) fn new(
        file: &Path,
        buf: &[u8],
        offset: u64,
        length: u64,
        reason: Reason,
    ) -> Finding {
        let at = offset as usize;
        Finding {
            file: file.to_path_buf(),
            offset,
            bytes: buf[at..at + length as usize].to_vec(),
            reason,
        }
    }
}

/// How a replay reads: the open's recovery mode, for a read-only `:truncate` open
/// (which cut nothing on disk) the offset of the first damage, where reading stops,
/// and the prefix of the WAL the open's scan already checked, if the replay may
/// trust it (see [`CheckedPrefix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    pub mode: RecoveryMode,
    pub limit: Option<u64>,
    pub checked: Option<CheckedPrefix>,
}

/// The first `len` bytes of the WAL file `id` (device, inode), which a salvage
/// open's scan found to be sound frames only: every length plausible and every
/// CRC matching, no damage anywhere. Handed to the first replay after that open
/// ([`crate::Wal::take_read_options`]) while the open still holds the ledger
/// lock, so no other writer can have touched those bytes since (format.md "Lock
/// file": a writer's exclusive lock, or the readers' shared one, keeps every other
/// writer out; this process's own writer only appends after them). Such a replay
/// walks the prefix by its lengths alone, without a second CRC of each frame, and
/// scans only the bytes past it; both give the same bodies and damage as one scan of
/// the whole file, because the scanner keeps no state across a sound frame's end but
/// its offset (salvage.rs). The pure path does the same (`read_checked_wal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedPrefix {
    pub len: u64,
    pub id: (u64, u64),
}

/// Body ranges of the frames that fill `wal[..len]` exactly, by their lengths alone;
/// `None` should a length not fit (the bytes are then scanned as usual).
fn checked_bodies(wal: &[u8], len: u64) -> Option<Vec<Range<usize>>> {
    let len = usize::try_from(len).ok()?;
    let prefix = wal.get(..len)?;
    let mut bodies = Vec::with_capacity(len / 256);
    let mut pos = 0usize;
    while pos < len {
        let header: [u8; FRAME_HEADER_SIZE] =
            prefix.get(pos..pos + FRAME_HEADER_SIZE)?.try_into().ok()?;
        let body_len = u32::from_be_bytes(header) as usize;
        let start = pos + FRAME_HEADER_SIZE;
        let end = start.checked_add(body_len)?.checked_add(FRAME_CRC_SIZE)?;
        // The open's scan took a shorter or longer length for damage.
        if !(MIN_BODY as usize..=MAX_FRAME_LEN).contains(&body_len) || end > len {
            return None;
        }
        bodies.push(start..start + body_len);
        pos = end;
    }
    Some(bodies)
}

/// Body ranges of the WAL bytes `wal` (read from the file `id`) read with the salvage
/// scanner. Structural damage was the open's business (it is reported there); a replay
/// only skips it. Under `Strict`, damage other than a torn tail (a write still in
/// progress) is refused. A checked prefix of the same file ([`CheckedPrefix`]) is
/// walked without the scanner, which starts after it.
fn wal_bodies(
    path: &Path,
    wal: &[u8],
    id: Option<(u64, u64)>,
    opts: &ReadOptions,
    cancel: &Cancel,
) -> Result<Vec<Range<usize>>> {
    let trusted = opts
        .checked
        .filter(|c| opts.limit.is_none() && Some(c.id) == id)
        .and_then(|c| Some((checked_bodies(wal, c.len)?, c.len as usize)));
    let (mut bodies, from) = trusted.unwrap_or_default();
    let limit = opts.limit.unwrap_or(u64::MAX);
    let base = from as u64;
    let scan = scan_with(&mut SliceSource(&wal[from..]), cancel, |offset, body| {
        if base + offset < limit {
            let start = from + offset as usize + FRAME_HEADER_SIZE;
            bodies.push(start..start + body.len());
        }
        Verdict::Keep
    })?;
    if opts.mode == RecoveryMode::Strict {
        let len = wal.len() as u64;
        if let Some((offset, _, reason)) = scan
            .damage()
            .map(|(o, l, r)| (base + o, l, r))
            .find(|&(o, l, r)| !(r == Reason::Torn && o + l == len))
        {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                offset,
                reason,
            });
        }
    }
    Ok(bodies)
}

/// The bodies among `failed` (indexes into `bodies`, ranges of `buf`) as undecodable
/// findings: each holds its whole frame.
pub(crate) fn undecodable(
    path: &Path,
    buf: &[u8],
    bodies: &[Range<usize>],
    failed: Vec<usize>,
) -> Vec<Finding> {
    failed
        .into_iter()
        .map(|i| {
            let r = &bodies[i];
            let offset = (r.start - FRAME_HEADER_SIZE) as u64;
            let length = (r.len() + FRAME_HEADER_SIZE + FRAME_CRC_SIZE) as u64;
            Finding::new(path, buf, offset, length, Reason::Undecodable)
        })
        .collect()
}

/// Under `Strict`, the first finding as [`Error::Corrupt`].
pub(crate) fn refuse_in_strict(
    path: &Path,
    findings: &[Finding],
    mode: RecoveryMode,
) -> Result<()> {
    match findings.first() {
        Some(f) if mode == RecoveryMode::Strict => Err(Error::Corrupt {
            path: path.to_path_buf(),
            offset: f.offset,
            reason: f.reason,
        }),
        _ => Ok(()),
    }
}

/// Records decoded per batch by [`ReplayPlan::batch`].
pub const REPLAY_BATCH: usize = 4096;

/// [`replay`] in bounded batches, for a caller that turns records into other objects as
/// it goes: it never holds every decoded record at once, so a large replay's peak
/// memory is the WAL bytes plus one batch instead of the WAL bytes plus every record.
///
/// Order contract: the records of [`ReplayPlan::take_decoded`] come first and are in
/// replay order; the WAL batches follow in WAL order, and replay order is their
/// *stable sort by transaction_time* — a no-op unless a clock stepped back, so the
/// caller checks and sorts only then. With a snapshot (whose records must all be
/// decoded for the id merge anyway) everything is decoded up front, sorted, as by
/// [`replay`].
pub struct ReplayPlan {
    path: PathBuf,
    opts: ReadOptions,
    /// Records already decoded (the snapshot case), handed out first.
    decoded: Vec<FactRecord>,
    /// Damage found so far (snapshot damage, undecodable bodies of the snapshot case).
    findings: Vec<Finding>,
    wal: Vec<u8>,
    /// WAL body ranges, in WAL order.
    bodies: Vec<Range<usize>>,
}

impl ReplayPlan {
    /// Reads the snapshot (decoding it, when there is one) and the WAL at `path`.
    pub fn load(path: &Path, opts: ReadOptions, cancel: &Cancel) -> Result<ReplayPlan> {
        let mut plan = ReplayPlan {
            path: path.to_path_buf(),
            opts,
            decoded: Vec::new(),
            findings: Vec::new(),
            wal: Vec::new(),
            bodies: Vec::new(),
        };
        if snapshot_path_for(path).exists() {
            let replayed = replay_with(path, &opts, cancel)?;
            plan.decoded = replayed.records;
            plan.findings = replayed.findings;
            return Ok(plan);
        }
        let (wal, id) = read_whole_identified(path, cancel)?;
        plan.wal = wal;
        plan.bodies = wal_bodies(path, &plan.wal, id, &opts, cancel)?;
        Ok(plan)
    }

    /// Records decoded up front (the snapshot case); empty afterwards.
    pub fn take_decoded(&mut self) -> Vec<FactRecord> {
        std::mem::take(&mut self.decoded)
    }

    /// Damage found while loading (the snapshot case); empty afterwards.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
    }

    /// Number of WAL bodies (the batches' facts, undecodable ones included).
    pub fn bodies(&self) -> usize {
        self.bodies.len()
    }

    /// Number of WAL batches.
    pub fn batches(&self) -> usize {
        self.bodies.len().div_ceil(REPLAY_BATCH)
    }

    /// The records of WAL batch `n`, in WAL order (decoded in parallel), and the
    /// undecodable bodies among them.
    pub fn batch(&self, n: usize, cancel: &Cancel) -> Result<(Vec<FactRecord>, Vec<Finding>)> {
        let start = n.saturating_mul(REPLAY_BATCH).min(self.bodies.len());
        let end = start.saturating_add(REPLAY_BATCH).min(self.bodies.len());
        let ranges = &self.bodies[start..end];
        let (records, failed) = decode_checked(&self.wal, ranges, cancel)?;
        let findings = undecodable(&self.path, &self.wal, ranges, failed);
        refuse_in_strict(&self.path, &findings, self.opts.mode)?;
        Ok((records, findings))
    }
}

/// Bodies per decode task of [`ReplayPlan::batch_packed`]: each task packs its
/// bodies' data into one buffer, so a batch allocates per task, not per fact.
const DECODE_CHUNK: usize = 256;

/// A body as a replay into the in-memory log's compact records decodes it: by
/// [`decode_fast_body`] (borrowing from the WAL bytes, its data in its chunk's
/// buffer) where it takes the body, else packed by [`decode_packed_body`], else
/// by [`decode_fact_body`].
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded<'a> {
    Fast(FastRecord<'a>),
    Packed(PackedRecord),
    Record(FactRecord),
}

impl Decoded<'_> {
    pub fn transaction_time(&self) -> f64 {
        match self {
            Decoded::Fast(f) => f.transaction_time,
            Decoded::Packed(p) => p.transaction_time,
            Decoded::Record(r) => r.transaction_time,
        }
    }
}

/// One decode task's output: the packed data of its fast records, and its facts.
#[derive(Debug, Default)]
struct DecodedChunk<'a> {
    data: Vec<u8>,
    facts: Vec<Decoded<'a>>,
}

/// The facts of a batch, in order, each with the buffer its [`Decoded::Fast`]
/// ranges point into.
#[derive(Debug, Default)]
pub struct DecodedBatch<'a> {
    chunks: Vec<DecodedChunk<'a>>,
}

impl<'a> DecodedBatch<'a> {
    /// Records decoded the general way (the snapshot case).
    pub fn from_records(records: Vec<FactRecord>) -> Self {
        DecodedBatch {
            chunks: vec![DecodedChunk {
                data: Vec::new(),
                facts: records.into_iter().map(Decoded::Record).collect(),
            }],
        }
    }

    /// Each fact with its chunk's data buffer.
    pub fn iter(&self) -> impl Iterator<Item = (&Decoded<'a>, &[u8])> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.facts.iter().map(move |f| (f, c.data.as_slice())))
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.facts.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Decodes the bodies `ranges` of `buf` (the `first`-th of the batch onward) into
/// one chunk; the indexes (in the batch) of the bodies that are not facts go to
/// `failed`.
fn decode_chunk<'a>(
    buf: &'a [u8],
    ranges: &[Range<usize>],
    first: usize,
    cancel: &Cancel,
) -> (DecodedChunk<'a>, Vec<usize>) {
    let mut chunk = DecodedChunk {
        data: Vec::with_capacity(ranges.len() * 192),
        facts: Vec::with_capacity(ranges.len()),
    };
    let mut failed = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        if cancel.is_raised() {
            return (chunk, failed);
        }
        let decoded = buf.get(r.clone()).and_then(|b| {
            decode_fast_body(b, &mut chunk.data)
                .map(Decoded::Fast)
                .or_else(|| decode_packed_body(b).map(Decoded::Packed))
                .or_else(|| decode_fact_body(b).ok().map(Decoded::Record))
        });
        match decoded {
            Some(d) => chunk.facts.push(d),
            None => failed.push(first + i),
        }
    }
    (chunk, failed)
}

impl ReplayPlan {
    /// [`ReplayPlan::batch`] decoded as [`Decoded`]: the same facts, the same
    /// findings, the fast records borrowing from this plan's WAL bytes.
    pub fn batch_packed(
        &self,
        n: usize,
        cancel: &Cancel,
    ) -> Result<(DecodedBatch<'_>, Vec<Finding>)> {
        let start = n.saturating_mul(REPLAY_BATCH).min(self.bodies.len());
        let end = start.saturating_add(REPLAY_BATCH).min(self.bodies.len());
        let ranges = &self.bodies[start..end];
        let wal = self.wal.as_slice();
        let decode =
            |(k, part): (usize, &[Range<usize>])| decode_chunk(wal, part, k * DECODE_CHUNK, cancel);
        let parts: Vec<(DecodedChunk<'_>, Vec<usize>)> = if ranges.len() < PARALLEL_THRESHOLD {
            ranges
                .chunks(DECODE_CHUNK)
                .enumerate()
                .map(decode)
                .collect()
        } else {
            // collect() on a rayon iterator keeps the input order.
            pool(|| {
                ranges
                    .par_chunks(DECODE_CHUNK)
                    .enumerate()
                    .map(decode)
                    .collect()
            })
        };
        cancel.check()?;
        let mut batch = DecodedBatch {
            chunks: Vec::with_capacity(parts.len()),
        };
        let mut failed = Vec::new();
        for (chunk, lost) in parts {
            batch.chunks.push(chunk);
            failed.extend(lost);
        }
        let findings = undecodable(&self.path, &self.wal, ranges, failed);
        refuse_in_strict(&self.path, &findings, self.opts.mode)?;
        Ok((batch, findings))
    }
}

/// What [`replay_with`] read: the facts in replay order, and the damage it met.
#[derive(Debug, Default)]
pub struct Replayed {
    pub records: Vec<FactRecord>,
    pub findings: Vec<Finding>,
}

/// Facts of the WAL at `path` and its snapshot: snapshot facts, then WAL facts whose id is
/// not among the snapshot's, stably sorted by transaction_time. Both files are read with
/// the salvage scanner; a missing WAL contributes nothing.
pub fn replay(path: &Path) -> Result<Vec<FactRecord>> {
    Ok(replay_with(path, &ReadOptions::default(), Cancel::never())?.records)
}

/// [`replay`] under `opts`, also returning the damage met: every damaged span of the
/// snapshot and every undecodable body (snapshot and WAL). Stops with
/// [`Error::Interrupted`] once `cancel` is raised.
pub fn replay_with(path: &Path, opts: &ReadOptions, cancel: &Cancel) -> Result<Replayed> {
    let (mut facts, mut findings) =
        read_snapshot_with(&snapshot_path_for(path), opts.mode, cancel)?;

    let (wal, id) = read_whole_identified(path, cancel)?;
    let bodies = wal_bodies(path, &wal, id, opts, cancel)?;
    let (delta, failed) = decode_checked(&wal, &bodies, cancel)?;
    let wal_findings = undecodable(path, &wal, &bodies, failed);
    refuse_in_strict(path, &wal_findings, opts.mode)?;
    findings.extend(wal_findings);

    if facts.is_empty() {
        facts = delta;
    } else {
        let snapshot_ids: HashSet<String> = facts.iter().map(|f| f.id.clone()).collect();
        facts.extend(delta.into_iter().filter(|f| !snapshot_ids.contains(&f.id)));
    }
    // Stable: equal times keep snapshot-first, then WAL order. Times are finite (the
    // parser refuses non-finite numbers); compared by value as Ruby's `<=>` does, so
    // -0.0 and 0.0 tie (total_cmp would put -0.0 first and differ from the pure path).
    facts.sort_by(|a, b| {
        a.transaction_time
            .partial_cmp(&b.transaction_time)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(Replayed {
        records: facts,
        findings,
    })
}
