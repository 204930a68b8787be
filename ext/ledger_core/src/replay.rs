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

pub(crate) fn pool<R: Send>(op: impl FnOnce() -> R + Send) -> R {
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
/// Order contract: the records of [`ReplayPlan::take_decoded`] come first and are in
/// replay order; the WAL batches follow in WAL order, and replay order is their
/// *stable sort by transaction_time* — a no-op unless a clock stepped back, so the
/// caller checks and sorts only then. With a snapshot (whose records must all be
/// decoded for the id merge anyway) everything is decoded up front, sorted, as by
/// [`replay`].
pub struct ReplayPlan {
    /// Records already decoded (the snapshot case), handed out first.
    decoded: Vec<FactRecord>,
    wal: Vec<u8>,
    /// WAL body ranges, in WAL order.
    bodies: Vec<Range<usize>>,
}

impl ReplayPlan {
    /// Reads the snapshot (decoding it, when there is one) and the WAL at `path`.
    pub fn load(path: &Path) -> Result<ReplayPlan> {
        if snapshot_path_for(path).exists() {
            return Ok(ReplayPlan { decoded: replay(path)?, wal: Vec::new(), bodies: Vec::new() });
        }
        let wal = match fs::read(path) {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let bodies = scan_frames(&wal).bodies;
        Ok(ReplayPlan { decoded: Vec::new(), wal, bodies })
    }

    /// Records decoded up front (the snapshot case); empty afterwards.
    pub fn take_decoded(&mut self) -> Vec<FactRecord> {
        std::mem::take(&mut self.decoded)
    }

    /// Number of WAL batches.
    pub fn batches(&self) -> usize {
        self.bodies.len().div_ceil(REPLAY_BATCH)
    }

    /// The decodable records of WAL batch `n`, in WAL order (decoded in parallel).
    pub fn batch(&self, n: usize) -> Vec<FactRecord> {
        let start = n.saturating_mul(REPLAY_BATCH).min(self.bodies.len());
        let end = start.saturating_add(REPLAY_BATCH).min(self.bodies.len());
        decode_bodies_parallel(&self.wal, &self.bodies[start..end])
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
    // parser refuses non-finite numbers); compared by value as Ruby's `<=>` does, so
    // -0.0 and 0.0 tie (total_cmp would put -0.0 first and differ from the pure path).
    facts.sort_by(|a, b| {
        a.transaction_time
            .partial_cmp(&b.transaction_time)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(facts)
}
