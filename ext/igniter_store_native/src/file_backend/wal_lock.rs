//! The backend's WAL behind a `Mutex` that a thread may hold while it has
//! released the GVL (an fsync, a snapshot, a replay's quarantine copies), the
//! way the pure path holds its `Thread::Mutex` across `IO#fsync`.
//!
//! Holding a lock without the GVL while another thread waits for that lock
//! *with* the GVL deadlocks: the holder cannot get the GVL back to finish, the
//! waiter never lets go of it. So a thread holding the GVL never blocks on the
//! Mutex: it `try_lock`s, and when the lock is taken it releases the GVL and
//! waits for the lock there ([`WalLock::quick`]). The other half of the rule:
//! a guard taken without the GVL is dropped before the GVL is taken back (it
//! never leaves the closure that [`WalLock::released`] runs), and a guard taken
//! with the GVL is never held across anything that could give the GVL away
//! (no Ruby call, no blocking). `try_lock` plus a GVL-free wait was chosen over
//! always locking without the GVL because an uncontended lock is then one
//! atomic operation instead of a GVL hand-off per call (see `append` for
//! what a hand-off costs).
//!
//! Fork: a thread that held the lock without the GVL when another thread
//! forked does not exist in the child, and the lock it held never opens
//! there. A forked child therefore never waits for the lock; finding it taken
//! is `ForkedWhileBusy` (a `LedgerLockedError`), not a hang.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Instant;

use ledger_core::wal::group_commit::GroupCommit;
use ledger_core::{pid::current_pid, Durability, Error as CoreError, Result as CoreResult, Wal};
use magnus::{Error, Ruby};

use crate::nogvl;

pub struct WalLock {
    wal: Mutex<Wal>,
    /// Shares fdatasyncs between the writer threads under group commit.
    group: GroupCommit,
    /// The WAL's policy, fixed at open (read without taking the lock).
    durability: Durability,
    /// The process that opened the WAL; any other is a forked child.
    opened_in: u32,
    path: PathBuf,
}

impl WalLock {
    pub fn new(wal: Wal) -> WalLock {
        WalLock {
            path: wal.path().to_path_buf(),
            group: GroupCommit::new(),
            durability: wal.durability(),
            wal: Mutex::new(wal),
            opened_in: current_pid(),
        }
    }

    /// The guard, or `None` when another thread holds the lock. A lock
    /// poisoned by a panic (caught at the method boundary) is repaired from
    /// the file first (see `Wal::repair`), so no frame on disk is lost or cut.
    fn try_now(&self) -> CoreResult<Option<MutexGuard<'_, Wal>>> {
        match self.wal.try_lock() {
            Ok(guard) => Ok(Some(guard)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Poisoned(poisoned)) => self.repaired(poisoned.into_inner()).map(Some),
        }
    }

    /// The guard, waiting for it; only ever called without the GVL.
    fn wait(&self) -> CoreResult<MutexGuard<'_, Wal>> {
        let pid = current_pid();
        if pid != self.opened_in {
            return self.try_now()?.ok_or_else(|| CoreError::ForkedWhileBusy {
                path: self.path.clone(),
                owner: self.opened_in,
                pid,
            });
        }
        match self.wal.lock() {
            Ok(guard) => Ok(guard),
            Err(poisoned) => self.repaired(poisoned.into_inner()),
        }
    }

    fn repaired<'a>(&'a self, mut guard: MutexGuard<'a, Wal>) -> CoreResult<MutexGuard<'a, Wal>> {
        guard.repair()?;
        self.wal.clear_poison();
        Ok(guard)
    }

    /// Whether another thread holds the lock right now (for the test hooks).
    pub fn is_busy(&self) -> bool {
        matches!(self.wal.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// Runs `work` on the WAL without the GVL, waiting for the lock there: for
    /// anything that may block on the disk (fsync, snapshot, quarantine).
    pub fn released<R: Send>(
        &self,
        ruby: &Ruby,
        mut work: impl FnMut(&mut Wal) -> CoreResult<R> + Send,
    ) -> Result<CoreResult<R>, Error> {
        nogvl::blocking(ruby, || {
            let mut wal = self.wait()?;
            work(&mut wal)
        })
    }

    /// Runs short, non-blocking `work` on the WAL: with the GVL when the lock
    /// is free, else without it once the lock is.
    pub fn quick<R: Send>(
        &self,
        ruby: &Ruby,
        mut work: impl FnMut(&mut Wal) -> R + Send,
    ) -> Result<CoreResult<R>, Error> {
        match self.try_now() {
            Err(e) => return Ok(Err(e)),
            Ok(Some(mut wal)) => return Ok(Ok(work(&mut wal))),
            Ok(None) => {}
        }
        self.released(ruby, |wal| Ok(work(wal)))
    }

    /// Appends one frame body. `:flush` (and a group commit not yet due) is one
    /// `write(2)` into the page cache, done with the GVL held when the lock is
    /// free: releasing the GVL around it measured 522k against 558k writes/s
    /// alone, and 12k against 340k writes/s beside a busy Ruby thread (each
    /// release hands that thread the GVL for up to its time slice). An append
    /// that will fsync runs without the GVL, so other threads run meanwhile.
    /// Under group commit the whole write runs without the GVL: it waits
    /// for the disk (see [`WalLock::group_append`]).
    pub fn append(&self, ruby: &Ruby, body: &[u8]) -> Result<CoreResult<()>, Error> {
        self.append_all(ruby, std::slice::from_ref(&body))
    }

    /// Appends one frame per body with a single `write(2)` and applies the
    /// policy once for all of them: one fdatasync under `:fsync`, one shared
    /// group-commit ticket under a group policy (the engine's write groups,
    /// doc/performance.md "Group commit and threads").
    pub fn append_all(&self, ruby: &Ruby, bodies: &[&[u8]]) -> Result<CoreResult<()>, Error> {
        if let Durability::Group { every, interval } = self.durability {
            return nogvl::blocking(ruby, || self.group_append(bodies, every, interval));
        }
        match self.try_now() {
            Err(e) => return Ok(Err(e)),
            Ok(Some(mut wal)) if !wal.next_append_syncs() => return Ok(wal.append_frames(bodies)),
            Ok(_) => {}
        }
        self.released(ruby, |wal| wal.append_frames(bodies))
    }

    /// Group commit, without the GVL: appends the frame under the WAL's lock,
    /// lets the lock go, and returns once a shared fdatasync covers the frame
    /// (ledger_core's `group_commit`). The leader syncs a second handle on the
    /// file, so the others keep appending during its fdatasync.
    fn group_append(
        &self,
        bodies: &[&[u8]],
        every: usize,
        interval: std::time::Duration,
    ) -> CoreResult<()> {
        if current_pid() != self.opened_in {
            // A forked child may not write (the append refuses it), and must not
            // wait on group state that a thread of the parent may have held.
            return self.wait()?.append_frames(bodies);
        }
        self.group.begin();
        let ticket = {
            let mut wal = match self.wait() {
                Ok(wal) => wal,
                Err(e) => {
                    self.group.appended(false);
                    return Err(e);
                }
            };
            let wrote = wal.append_frames_unsynced(bodies);
            let ticket = self.group.appended(wrote.is_ok());
            wrote?;
            ticket
        };
        self.group.wait_durable(ticket, every, interval, || {
            let Some(file) = self.wait()?.sync_file()? else {
                return Ok(()); // closed after an fsync of everything
            };
            let started = Instant::now();
            let synced = file.sync_data();
            self.wait()?.note_sync(started.elapsed());
            Ok(synced?)
        })
    }
}
