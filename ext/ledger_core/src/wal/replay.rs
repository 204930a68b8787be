//! Replay = snapshot ∪ WAL delta (format.md "Replay"). Read-only: it may run while a
//! writer is appending, so it never truncates or repairs anything; the damage it meets
//! is handed back to the caller (the open WAL quarantines it, see `Wal::note_findings`).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
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
use crate::wal::fs_util::{file_id, read_whole_identified, READ_CHUNK};
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
    /// How many frames the prefix holds, as the open's scan counted them: only a
    /// hint (room reserved for the facts up front), never trusted for what is read.
    pub frames: u64,
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
    undecodable_at(path, buf, 0, bodies, failed)
}

/// [`undecodable`] for a `buf` that holds the file's bytes from offset `base` on.
fn undecodable_at(
    path: &Path,
    buf: &[u8],
    base: u64,
    bodies: &[Range<usize>],
    failed: Vec<usize>,
) -> Vec<Finding> {
    failed
        .into_iter()
        .map(|i| {
            let r = &bodies[i];
            let at = r.start - FRAME_HEADER_SIZE;
            let length = r.len() + FRAME_HEADER_SIZE + FRAME_CRC_SIZE;
            Finding {
                file: path.to_path_buf(),
                offset: base + at as u64,
                bytes: buf[at..at + length].to_vec(),
                reason: Reason::Undecodable,
            }
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
    /// The WAL bytes read up front: the whole file, or (streamed) the bytes
    /// past the checked prefix, from file offset `wal_at` on.
    wal: Vec<u8>,
    wal_at: u64,
    /// WAL body ranges of `wal`, in WAL order.
    bodies: Vec<Range<usize>>,
    /// The checked prefix, read window by window (see [`ReplayPlan::load_streamed`]).
    stream: Option<Stream>,
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
            wal_at: 0,
            bodies: Vec::new(),
            stream: None,
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

    /// Number of WAL bodies (the batches' facts, undecodable ones included); a
    /// streamed plan counts its checked prefix by the open's count (a hint).
    pub fn bodies(&self) -> usize {
        let streamed = self
            .stream
            .as_ref()
            .map_or(0, |s| usize::try_from(s.frames).unwrap_or(usize::MAX));
        self.bodies.len().saturating_add(streamed)
    }

    /// Number of WAL batches (of a plan read by [`ReplayPlan::load`]).
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
        self.decode_packed(&self.wal, self.wal_at, &self.bodies[start..end], cancel)
    }

    /// The bodies `ranges` of `buf` (the file's bytes from offset `base` on)
    /// decoded as [`Decoded`], in parallel, and the undecodable ones.
    fn decode_packed<'b>(
        &self,
        buf: &'b [u8],
        base: u64,
        ranges: &[Range<usize>],
        cancel: &Cancel,
    ) -> Result<(DecodedBatch<'b>, Vec<Finding>)> {
        let decode =
            |(k, part): (usize, &[Range<usize>])| decode_chunk(buf, part, k * DECODE_CHUNK, cancel);
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
        let findings = undecodable_at(&self.path, buf, base, ranges, failed);
        refuse_in_strict(&self.path, &findings, self.opts.mode)?;
        Ok((batch, findings))
    }
}

/// Bytes of the checked prefix read per window by a streamed plan: a batch's
/// frames at most (fewer when [`REPLAY_BATCH`] frames fill less).
const STREAM_WINDOW: usize = 2 << 20;

/// The checked prefix of a streamed plan: the open file it is read from.
struct Stream {
    file: File,
    len: u64,
    frames: u64,
}

/// Where a streamed replay is: the offset of the next frame of the checked
/// prefix, the next batch of the bytes past it, and a window to read into
/// again (the last batch's, once appended).
#[derive(Default)]
pub struct Cursor {
    offset: u64,
    batch: usize,
    spare: Option<Vec<u8>>,
}

impl Cursor {
    /// Where the cursor is, to go back there ([`Cursor::rewind`]) should the
    /// batch read from it not be appended after all.
    pub fn position(&self) -> (u64, usize) {
        (self.offset, self.batch)
    }

    /// Goes back to a [`Cursor::position`].
    pub fn rewind(&mut self, (offset, batch): (u64, usize)) {
        self.offset = offset;
        self.batch = batch;
    }

    /// Takes back the window of a batch that was appended.
    pub fn recycle(&mut self, batch: Batch<'_>) {
        let window = batch.into_window();
        if window.capacity() > 0 {
            self.spare = Some(window);
        }
    }
}

/// A batch of a streamed plan: its facts, and the window of WAL bytes they
/// were decoded from, when the batch has one of its own.
pub struct Batch<'p> {
    // Declared first, so dropped first: it may borrow `window`'s bytes.
    decoded: DecodedBatch<'p>,
    window: Vec<u8>,
}

impl<'p> Batch<'p> {
    /// The facts; they borrow from this batch (or from the plan).
    pub fn decoded(&self) -> &DecodedBatch<'_> {
        &self.decoded
    }

    fn into_window(self) -> Vec<u8> {
        let Batch { decoded, window } = self;
        drop(decoded);
        window
    }
}

impl ReplayPlan {
    /// [`ReplayPlan::load`] for [`ReplayPlan::next_batch`]: when the replay may
    /// trust a checked prefix (a salvage read of the same file, no limit), the
    /// prefix is not read here but window by window as the batches are decoded,
    /// into two windows that take turns, so a replay no longer faults in a
    /// fresh buffer of the whole file (doc/performance.md "Open, round 3"). The
    /// bytes past the prefix are read and scanned here, as by `load`.
    pub fn load_streamed(path: &Path, opts: ReadOptions, cancel: &Cancel) -> Result<ReplayPlan> {
        let checked = opts
            .checked
            .filter(|_| opts.limit.is_none() && opts.mode == RecoveryMode::Salvage);
        let Some(checked) = checked else {
            return ReplayPlan::load(path, opts, cancel);
        };
        if snapshot_path_for(path).exists() {
            return ReplayPlan::load(path, opts, cancel);
        }
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return ReplayPlan::load(path, opts, cancel)
            }
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata()?;
        if file_id(&meta) != checked.id || meta.len() < checked.len {
            return ReplayPlan::load(path, opts, cancel);
        }
        let mut rest = Vec::new();
        let mut from = &file;
        from.seek(SeekFrom::Start(checked.len))?;
        loop {
            cancel.check()?;
            if from.take(READ_CHUNK).read_to_end(&mut rest)? == 0 {
                break;
            }
        }
        let mut bodies = Vec::new();
        scan_with(&mut SliceSource(&rest), cancel, |offset, body| {
            let start = offset as usize + FRAME_HEADER_SIZE;
            bodies.push(start..start + body.len());
            Verdict::Keep
        })?;
        Ok(ReplayPlan {
            path: path.to_path_buf(),
            opts,
            decoded: Vec::new(),
            findings: Vec::new(),
            wal: rest,
            wal_at: checked.len,
            bodies,
            stream: Some(Stream {
                file,
                len: checked.len,
                frames: checked.frames,
            }),
        })
    }

    /// The next batch of a plan read by [`ReplayPlan::load_streamed`], from
    /// `cursor` on (moved past it), in WAL order, and its undecodable bodies:
    /// the batches of [`ReplayPlan::batch_packed`], but cut at other frames.
    /// `None` after the last one.
    pub fn next_batch(
        &self,
        cursor: &mut Cursor,
        cancel: &Cancel,
    ) -> Result<Option<(Batch<'_>, Vec<Finding>)>> {
        if let Some(stream) = self.stream.as_ref().filter(|s| cursor.offset < s.len) {
            let window = cursor.spare.take().unwrap_or_default();
            return self.window_batch(stream, cursor, window, cancel).map(Some);
        }
        let start = cursor.batch.saturating_mul(REPLAY_BATCH);
        if start >= self.bodies.len() {
            return Ok(None);
        }
        let (decoded, findings) = self.batch_packed(cursor.batch, cancel)?;
        cursor.batch += 1;
        let batch = Batch {
            decoded,
            window: Vec::new(),
        };
        Ok(Some((batch, findings)))
    }

    /// The frames of the checked prefix from `cursor.offset` on that fit in one
    /// window (at most [`REPLAY_BATCH`]; one frame at least, the window grown to
    /// it), read into `window` and decoded.
    fn window_batch(
        &self,
        stream: &Stream,
        cursor: &mut Cursor,
        mut window: Vec<u8>,
        cancel: &Cancel,
    ) -> Result<(Batch<'_>, Vec<Finding>)> {
        cancel.check()?;
        let at = cursor.offset;
        let left = usize::try_from(stream.len - at).unwrap_or(usize::MAX);
        let mut want = left.min(STREAM_WINDOW);
        let (ranges, used) = loop {
            // Read into the window's spare room, which `read_to_end` does not
            // zero first (that cost ~80 instructions a fact).
            window.clear();
            window.reserve_exact(want);
            let mut from = &stream.file;
            from.seek(SeekFrom::Start(at))?;
            from.take(want as u64).read_to_end(&mut window)?;
            if window.len() < want {
                // The file is shorter than the prefix now.
                return self.scan_rest(stream, cursor, window, at, cancel);
            }
            let (ranges, used, first) = window_frames(&window);
            if !ranges.is_empty() {
                break (ranges, used);
            }
            match first.filter(|&end| end > want && end <= left) {
                // The first frame is longer than the window.
                Some(end) => want = end,
                // No frame that fits the prefix starts here.
                None => return self.scan_rest(stream, cursor, window, at, cancel),
            }
        };
        let (decoded, findings) = decode_owned(self, &window, at, &ranges, cancel)?;
        cursor.offset = at + used as u64;
        Ok((Batch { decoded, window }, findings))
    }

    /// A checked prefix whose lengths do not lead to its end from `at` (a frame
    /// boundary) on, which the open's check rules out unless the file was
    /// written under its lock: the bytes from `at` to the end of the file are
    /// scanned as one batch, as `load` scans a whole file when the lengths do
    /// not fit. Both give the same bodies and damage as long as the frames
    /// before `at` are sound (the scanner keeps no state across a sound
    /// frame's end but its offset, see [`CheckedPrefix`]).
    fn scan_rest(
        &self,
        stream: &Stream,
        cursor: &mut Cursor,
        mut window: Vec<u8>,
        at: u64,
        cancel: &Cancel,
    ) -> Result<(Batch<'_>, Vec<Finding>)> {
        window.clear();
        let mut from = &stream.file;
        from.seek(SeekFrom::Start(at))?;
        loop {
            cancel.check()?;
            if from.take(READ_CHUNK).read_to_end(&mut window)? == 0 {
                break;
            }
        }
        let mut ranges = Vec::new();
        scan_with(&mut SliceSource(&window), cancel, |offset, body| {
            let start = offset as usize + FRAME_HEADER_SIZE;
            ranges.push(start..start + body.len());
            Verdict::Keep
        })?;
        let (decoded, findings) = decode_owned(self, &window, at, &ranges, cancel)?;
        // Nothing is left: the bytes past the prefix were among these.
        cursor.offset = stream.len;
        cursor.batch = self.bodies.len().div_ceil(REPLAY_BATCH);
        Ok((Batch { decoded, window }, findings))
    }
}

/// [`ReplayPlan::decode_packed`] of bytes that the caller moves into a [`Batch`]
/// with the result, which then borrows from them.
fn decode_owned<'p>(
    plan: &'p ReplayPlan,
    window: &[u8],
    base: u64,
    ranges: &[Range<usize>],
    cancel: &Cancel,
) -> Result<(DecodedBatch<'p>, Vec<Finding>)> {
    // SAFETY: `window` is the heap buffer of a Vec that the caller moves, with
    // the records decoded here, into one `Batch`, which never touches it again
    // until those records, its only borrowers, are dropped (`Batch::into_window`,
    // and the field order of `Batch`); moving the Vec does not move its buffer.
    // The records' lifetime is only ever handed out shortened to a borrow of the
    // batch (`Batch::decoded`).
    let bytes: &'p [u8] = unsafe { std::slice::from_raw_parts(window.as_ptr(), window.len()) };
    plan.decode_packed(bytes, base, ranges, cancel)
}

/// The body ranges of the whole frames at the start of `window` (at most
/// [`REPLAY_BATCH`]), the bytes they fill, and the end of the first frame by
/// its length (`None`: no plausible frame starts there).
fn window_frames(window: &[u8]) -> (Vec<Range<usize>>, usize, Option<usize>) {
    let mut ranges = Vec::with_capacity(REPLAY_BATCH.min(window.len() / 256 + 1));
    let mut pos = 0usize;
    let mut first = None;
    while ranges.len() < REPLAY_BATCH {
        let Some(header) = window.get(pos..pos + FRAME_HEADER_SIZE) else {
            break;
        };
        let body_len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if !(MIN_BODY as usize..=MAX_FRAME_LEN).contains(&body_len) {
            break;
        }
        let start = pos + FRAME_HEADER_SIZE;
        let end = start + body_len + FRAME_CRC_SIZE;
        if first.is_none() {
            first = Some(end);
        }
        if end > window.len() {
            break;
        }
        ranges.push(start..start + body_len);
        pos = end;
    }
    (ranges, pos, first)
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
