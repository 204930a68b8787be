//! Replay = snapshot ∪ WAL delta (format.md "Replay"). Read-only: it may run while a
//! writer is appending, so it never truncates or repairs anything.

use std::sync::{Arc, Mutex};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use crate::error::Result;
use crate::fact_record::{decode_fact_body, FactRecord};
use crate::frame::scan_frames;
use crate::snapshot::{read_snapshot, snapshot_path_for};

/// Below this many bodies decoding stays on the calling thread: the pool's overhead is
/// not worth it, and small replays then never start pool threads (friendlier to fork).
const PARALLEL_THRESHOLD: usize = 64;

/// The rayon pool of this process. A forked child (Puma or Unicorn workers) inherits
/// the parent's pool bookkeeping but none of its threads, so rayon's global pool would
/// hang there; the pool is therefore keyed by process id and rebuilt after a fork.
static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

fn pool<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    let pid = std::process::id();
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

/// Decodes the bodies at `ranges` of `buf`, in order, skipping undecodable ones (and
/// ranges outside `buf`).
pub fn decode_bodies_parallel(buf: &[u8], ranges: &[Range<usize>]) -> Vec<FactRecord> {
    let decode = |r: &Range<usize>| buf.get(r.clone()).and_then(|b| decode_fact_body(b).ok());
    if ranges.len() < PARALLEL_THRESHOLD {
        return ranges.iter().filter_map(decode).collect();
    }
    // collect() on a rayon iterator keeps the input order.
    pool(|| ranges.par_iter().filter_map(decode).collect())
}

/// Records decoded per batch by [`ReplayPlan::batch`].
pub const REPLAY_BATCH: usize = 4096;

/// [`replay`] in bounded batches, for a caller that turns records into other objects as
/// it goes: it never holds every decoded record at once, so a large replay's peak
/// memory is the WAL bytes plus one batch instead of the WAL bytes plus every record.
///
/// Without a snapshot the WAL is decoded twice (in parallel): once for the transaction
/// times that fix the order, then batch by batch. With a snapshot (whose records
/// must all be decoded for the id merge anyway) it holds the records of [`replay`].
pub struct ReplayPlan {
    /// Records already decoded (the snapshot case), handed out first.
    decoded: Vec<FactRecord>,
    wal: Vec<u8>,
    /// Decodable WAL bodies in replay order.
    order: Vec<Range<usize>>,
}

impl ReplayPlan {
    /// Reads the snapshot and the WAL at `path` and fixes the replay order.
    pub fn load(path: &Path) -> Result<ReplayPlan> {
        let snapshot_path = snapshot_path_for(path);
        if snapshot_path.exists() {
            return Ok(ReplayPlan { decoded: replay(path)?, wal: Vec::new(), order: Vec::new() });
        }
        let wal = match fs::read(path) {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let bodies = scan_frames(&wal).bodies;
        let time = |r: &Range<usize>| -> Option<(f64, Range<usize>)> {
            let rec = decode_fact_body(wal.get(r.clone())?).ok()?;
            Some((rec.transaction_time, r.clone()))
        };
        let mut timed: Vec<(f64, Range<usize>)> = if bodies.len() < PARALLEL_THRESHOLD {
            bodies.iter().filter_map(time).collect()
        } else {
            pool(|| bodies.par_iter().filter_map(time).collect())
        };
        // Stable, like `replay`: equal times keep WAL order.
        timed.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(ReplayPlan { decoded: Vec::new(), order: timed.into_iter().map(|(_, r)| r).collect(), wal })
    }

    /// Records decoded up front (the snapshot case); empty afterwards.
    pub fn take_decoded(&mut self) -> Vec<FactRecord> {
        std::mem::take(&mut self.decoded)
    }

    /// Number of WAL batches.
    pub fn batches(&self) -> usize {
        self.order.len().div_ceil(REPLAY_BATCH)
    }

    /// The records of WAL batch `n`, in replay order.
    pub fn batch(&self, n: usize) -> Vec<FactRecord> {
        let start = n.saturating_mul(REPLAY_BATCH).min(self.order.len());
        let end = start.saturating_add(REPLAY_BATCH).min(self.order.len());
        decode_bodies_parallel(&self.wal, &self.order[start..end])
    }
}

/// Facts of the WAL at `path` and its snapshot: snapshot facts, then WAL facts whose id is
/// not among the snapshot's, stably sorted by transaction_time. The WAL is read up to its
/// first damaged frame; a missing WAL contributes nothing.
pub fn replay(path: &Path) -> Result<Vec<FactRecord>> {
    let mut facts = read_snapshot(&snapshot_path_for(path));

    let wal = match fs::read(path) {
        Ok(buf) => buf,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let scan = scan_frames(&wal);
    let delta = decode_bodies_parallel(&wal, &scan.bodies);

    if facts.is_empty() {
        facts = delta;
    } else {
        let snapshot_ids: HashSet<String> = facts.iter().map(|f| f.id.clone()).collect();
        facts.extend(delta.into_iter().filter(|f| !snapshot_ids.contains(&f.id)));
    }
    // Stable: equal times keep snapshot-first, then WAL order. Times are finite (the
    // parser refuses non-finite numbers), and total_cmp orders -0.0 before 0.0.
    facts.sort_by(|a, b| a.transaction_time.total_cmp(&b.transaction_time));
    Ok(facts)
}
