//! Group commit for a WAL shared by several writer threads (doc/reliability.md
//! "Durability policies"): every write returns only after an fdatasync that
//! began after its frame was written has succeeded, and writers that append
//! while one fdatasync runs share the next one.
//!
//! A writer appends its frame under the WAL's own lock and takes a ticket (the
//! frame's sequence number) before letting that lock go, so tickets follow the
//! file's order. It then waits in [`GroupCommit::wait_durable`]. When no sync
//! runs, the first waiter leads: it syncs at once unless other writers are
//! between [`GroupCommit::begin`] and [`GroupCommit::appended`] (about to add
//! their frames), in which case it waits for them, but never past `every`
//! frames or `interval`. It syncs without holding any lock, so others keep
//! appending meanwhile; one sync covers every ticket handed out before it
//! began. A lone writer therefore pays one fdatasync per write, with no wait
//! for a group or a timer, and N writers pay about one per round.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The shared state of one WAL's group commit.
#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<State>,
    turn: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Tickets handed out: the sequence number of the last appended frame.
    appended: u64,
    /// Every ticket up to this one is covered by a successful fdatasync.
    synced: u64,
    /// A leader is in its fdatasync now.
    syncing: bool,
    /// Writers between `begin` and `appended`.
    appending: usize,
    /// The last failed sync: tickets in `(from, to]` get its error.
    failed: Option<Failure>,
}

#[derive(Debug, Clone, Copy)]
struct Failure {
    from: u64,
    to: u64,
    kind: io::ErrorKind,
    errno: Option<i32>,
}

impl Failure {
    fn covers(&self, ticket: u64) -> bool {
        ticket > self.from && ticket <= self.to
    }

    fn error(&self) -> Error {
        match self.errno {
            Some(errno) => io::Error::from_raw_os_error(errno).into(),
            None => io::Error::from(self.kind).into(),
        }
    }
}

impl GroupCommit {
    pub fn new() -> GroupCommit {
        GroupCommit::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters that every step leaves consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A writer is about to append (a leader waits for it, within its bounds).
    pub fn begin(&self) {
        self.lock().appending += 1;
    }

    /// The writer that called [`GroupCommit::begin`] is done appending: with
    /// `true` its frame reached the file, and the returned ticket is that
    /// frame's. Call it while still holding the WAL's lock, so tickets follow
    /// the order of the frames in the file.
    pub fn appended(&self, wrote: bool) -> u64 {
        let mut state = self.lock();
        state.appending = state.appending.saturating_sub(1);
        if wrote {
            state.appended += 1;
        }
        let ticket = state.appended;
        drop(state);
        self.turn.notify_all();
        ticket
    }

    /// Returns once the frame of `ticket` is covered by a successful `fsync`
    /// call (run by this thread as the leader, or by another), or with the
    /// error of the sync that should have covered it. `every` (at least 1) and
    /// `interval` bound how long a leader waits for writers still appending.
    pub fn wait_durable(
        &self,
        ticket: u64,
        every: usize,
        interval: Duration,
        mut fsync: impl FnMut() -> Result<()>,
    ) -> Result<()> {
        let every = every.max(1) as u64;
        let mut state = self.lock();
        let mut leading_since: Option<Instant> = None;
        loop {
            if state.synced >= ticket {
                return Ok(());
            }
            if let Some(failure) = state.failed.filter(|f| f.covers(ticket)) {
                return Err(failure.error());
            }
            if state.syncing {
                state = self.turn.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let since = *leading_since.get_or_insert_with(Instant::now);
            let left = interval.saturating_sub(since.elapsed());
            if state.appending > 0 && state.appended - state.synced < every && !left.is_zero() {
                state = self
                    .turn
                    .wait_timeout(state, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            state.syncing = true;
            let (from, to) = (state.synced, state.appended);
            drop(state);
            let outcome = fsync();
            state = self.lock();
            state.syncing = false;
            match &outcome {
                Ok(()) => state.synced = state.synced.max(to),
                Err(e) => {
                    let (kind, errno) = match e {
                        Error::Io(io) => (io.kind(), io.raw_os_error()),
                        _ => (io::ErrorKind::Other, None),
                    };
                    state.failed = Some(Failure {
                        from,
                        to,
                        kind,
                        errno,
                    });
                }
            }
            self.turn.notify_all();
            leading_since = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn ticket(group: &GroupCommit) -> u64 {
        group.begin();
        group.appended(true)
    }

    #[test]
    fn a_lone_writer_syncs_its_own_frame_at_once() {
        let group = GroupCommit::new();
        let syncs = AtomicUsize::new(0);
        for _ in 0..3 {
            group
                .wait_durable(ticket(&group), 64, Duration::from_secs(3600), || {
                    syncs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn one_sync_covers_every_ticket_handed_out_before_it() {
        let group = GroupCommit::new();
        let tickets: Vec<u64> = (0..5).map(|_| ticket(&group)).collect();
        let syncs = AtomicUsize::new(0);
        for ticket in tickets {
            group
                .wait_durable(ticket, 1, Duration::ZERO, || {
                    syncs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_sync_is_the_error_of_every_ticket_it_covered_and_the_next_one_retries() {
        let group = GroupCommit::new();
        let first = ticket(&group);
        let second = ticket(&group);
        let failing = || Err(io::Error::from_raw_os_error(5).into());
        let err = group
            .wait_durable(first, 1, Duration::ZERO, failing)
            .unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.raw_os_error() == Some(5)));
        let err = group
            .wait_durable(second, 1, Duration::ZERO, || Ok(()))
            .unwrap_err();
        assert!(matches!(err, Error::Io(ref e) if e.raw_os_error() == Some(5)));
        group
            .wait_durable(ticket(&group), 1, Duration::ZERO, || Ok(()))
            .unwrap();
    }

    #[test]
    fn writers_in_parallel_all_return_durable_and_share_syncs() {
        let group = Arc::new(GroupCommit::new());
        let synced_upto = Arc::new(Mutex::new(0u64));
        let appended = Arc::new(Mutex::new(0u64));
        let syncs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (group, synced_upto, appended, syncs) = (
                    group.clone(),
                    synced_upto.clone(),
                    appended.clone(),
                    syncs.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        group.begin();
                        let ticket = {
                            let mut file = appended.lock().unwrap();
                            *file += 1;
                            group.appended(true)
                        };
                        group
                            .wait_durable(ticket, 64, Duration::from_millis(5), || {
                                let upto = *appended.lock().unwrap();
                                std::thread::sleep(Duration::from_millis(1));
                                syncs.fetch_add(1, Ordering::SeqCst);
                                *synced_upto.lock().unwrap() = upto;
                                Ok(())
                            })
                            .unwrap();
                        assert!(*synced_upto.lock().unwrap() >= ticket);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(syncs.load(Ordering::SeqCst) < 400);
    }
}
