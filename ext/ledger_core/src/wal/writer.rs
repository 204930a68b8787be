//! The WAL writer (format.md "WAL", "Recovery", "Lock file"). One writer per WAL file:
//! opening for writing takes the ledger lock, so recovery on open may assume nobody
//! else is appending; a read-only open shares the lock and never writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::fact::decode_fact_body;
use crate::wal::cancel::Cancel;
use crate::wal::durability::Durability;
use crate::wal::frame::{encode_frame, MAX_FRAME_LEN};
use crate::wal::fs_util::{file_id, sync_parent_dir};
use crate::wal::lock::{current_pid, LedgerLock};
use crate::wal::quarantine::quarantine;
use crate::wal::recover::{self, recovery_tmp_path_for, QuarantinedSpan, Recovery, RecoveryMode};
use crate::wal::replay::{CheckedPrefix, Finding, ReadOptions};
use crate::wal::salvage::{self, FileSource, Scan, Segment, Verdict};
use crate::wal::snapshot::{
    read_snapshot_with, snapshot_path_for, snapshot_tmp_path_for, write_snapshot_file,
};
use crate::wal::sync_stats::SyncStats;

/// How to open a WAL.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WalOptions {
    pub durability: Durability,
    pub recovery: RecoveryMode,
    /// Shared lock, no writes to any ledger file, recovery in memory only.
    pub read_only: bool,
}

/// An open WAL: appends frames, writes snapshots. All fields are Send + Sync.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    /// `None` once closed (and always for a read-only open).
    file: Option<File>,
    /// `None` once closed, and for a read-only open on a file system where the lock file
    /// can be neither opened nor created.
    lock: Option<LedgerLock>,
    options: WalOptions,
    recovery: Recovery,
    /// Where a read-only `:truncate` replay stops (the disk still holds the rest).
    replay_limit: Option<u64>,
    /// What a clean salvage open's scan checked, for the first replay after it
    /// (see [`CheckedPrefix`] and [`Wal::take_read_options`]).
    checked: Option<CheckedPrefix>,
    /// Our idea of the file size: a failed write is rolled back to it so a torn frame
    /// never sits in front of later appends.
    len: u64,
    /// Frames written since the last fsync.
    pending: usize,
    /// Whether `close` fsynced every frame it found pending (group commit's
    /// waiters then count as durable).
    closed_synced: bool,
    /// Durations of the fdatasync calls of [`Wal::sync`].
    sync_stats: SyncStats,
    /// Reused frame buffer.
    buf: Vec<u8>,
    closed: bool,
}

/// Frames larger than this are not kept in the reusable buffer after the write.
const KEEP_BUF_CAPACITY: usize = 1 << 20;

impl Wal {
    /// [`Wal::open_with`] for writing, `recovery: :salvage`.
    pub fn open(path: &Path, durability: Durability) -> Result<Wal> {
        Wal::open_with(
            path,
            WalOptions {
                durability,
                ..WalOptions::default()
            },
        )
    }

    /// Opens the WAL at `path` (creating it when absent, unless read-only).
    ///
    /// A non-empty file that does not start like a ledger is refused untouched
    /// ([`Error::NotALedger`]) before anything is created. Then the ledger lock is taken
    /// (exclusive, or shared when read-only; [`Error::Locked`]) and the file scanned with
    /// the salvage scanner. Damage is handled by `options.recovery` (see
    /// [`recover::plan`]): for a writer, every span to cut is copied to quarantine and
    /// made durable, then the file is cut or rewritten atomically; a read-only open
    /// only reports what it would do. Stale `<path>.snap.tmp` / `<path>.recovery.tmp`
    /// files are deleted unread (writers only). A missing parent directory is
    /// `Error::Io(NotFound)`. Under a policy that fsyncs, creating the file also fsyncs
    /// its directory: fdatasync of the frames alone would not make the new directory
    /// entry durable.
    pub fn open_with(path: &Path, options: WalOptions) -> Result<Wal> {
        Wal::open_cancellable(path, options, Cancel::never())
    }

    /// [`Wal::open_with`], stopping with [`Error::Interrupted`] when `cancel` is raised
    /// while the file is being scanned, that is before anything is quarantined, cut or
    /// created (the lock is released again). Once recovery starts writing, it finishes.
    pub fn open_cancellable(path: &Path, options: WalOptions, cancel: &Cancel) -> Result<Wal> {
        let existing = match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::NotALedger {
                    path: path.to_path_buf(),
                    why: "it is a directory",
                })
            }
            Ok(meta) => Some(meta.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !options.read_only => None,
            Err(e) => return Err(e.into()),
        };
        if existing.is_some_and(|len| len > 0) {
            refuse_unless_ledger(path, cancel)?;
        }
        let lock = if options.read_only {
            LedgerLock::shared(path)?
        } else {
            Some(LedgerLock::exclusive(path)?)
        };
        let wal = if options.read_only {
            Wal::recover_read_only(path, options, lock, cancel)?
        } else {
            Wal::recover_for_writing(path, options, lock, existing.is_none(), cancel)?
        };
        if options.recovery == RecoveryMode::Strict {
            // Strict verifies the snapshot too, before anything is served.
            read_snapshot_with(&snapshot_path_for(path), RecoveryMode::Strict, cancel)?;
        }
        Ok(wal)
    }

    fn recover_read_only(
        path: &Path,
        options: WalOptions,
        lock: Option<LedgerLock>,
        cancel: &Cancel,
    ) -> Result<Wal> {
        let file = File::open(path)?;
        let original_len = file.metadata()?.len();
        let scan = scan_file(&file, original_len, options.recovery, cancel)?;
        let plan = recover::plan(&scan, options.recovery, path)?;
        let none = vec![None; plan.quarantine.len()];
        let recovery = recover::report(&plan, options.recovery, true, path, original_len, none);
        let replay_limit = match options.recovery {
            RecoveryMode::Truncate => scan.first_damage().map(|(offset, _, _)| offset),
            _ => None,
        };
        // Without a lock (a read-only file system) nothing keeps a writer out.
        let checked = match lock {
            Some(_) => checked_prefix(&scan, options.recovery, &file)?,
            None => None,
        };
        let mut wal = Wal::new(
            path,
            options,
            None,
            lock,
            recovery,
            replay_limit,
            original_len,
        );
        wal.checked = checked;
        Ok(wal)
    }

    fn recover_for_writing(
        path: &Path,
        options: WalOptions,
        lock: Option<LedgerLock>,
        created: bool,
        cancel: &Cancel,
    ) -> Result<Wal> {
        let _ = fs::remove_file(recovery_tmp_path_for(path));
        let mut checked = None;
        let scanned = match File::open(path) {
            Ok(file) => {
                let original_len = file.metadata()?.len();
                let scan = scan_file(&file, original_len, options.recovery, cancel)?;
                checked = checked_prefix(&scan, options.recovery, &file)?;
                let plan = recover::plan(&scan, options.recovery, path)?;
                let paths = recover::apply(&plan, &file, path)?;
                Some(recover::report(
                    &plan,
                    options.recovery,
                    false,
                    path,
                    original_len,
                    paths,
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        // Opened after any rewrite: a rename replaces the file we scanned.
        let file = open_append(path)?;
        let appending = file_id(&file.metadata()?);
        checked = checked.filter(|c| c.id == appending);
        if created && options.durability != Durability::Flush {
            sync_parent_dir(path)?;
        }
        let recovery = scanned.unwrap_or_else(|| Recovery::clean(options.recovery, false, 0));
        let len = file.metadata()?.len();
        // Best effort: the tmp file is never read, so a failure to delete it is harmless.
        let _ = fs::remove_file(snapshot_tmp_path_for(path));
        let mut wal = Wal::new(path, options, Some(file), lock, recovery, None, len);
        wal.checked = checked;
        Ok(wal)
    }

    fn new(
        path: &Path,
        options: WalOptions,
        file: Option<File>,
        lock: Option<LedgerLock>,
        recovery: Recovery,
        replay_limit: Option<u64>,
        len: u64,
    ) -> Wal {
        Wal {
            path: path.to_path_buf(),
            file,
            lock,
            options,
            recovery,
            replay_limit,
            checked: None,
            len,
            pending: 0,
            closed_synced: false,
            sync_stats: SyncStats::default(),
            buf: Vec::new(),
            closed: false,
        }
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn durability(&self) -> Durability {
        self.options.durability
    }

    pub fn options(&self) -> WalOptions {
        self.options
    }

    pub fn is_read_only(&self) -> bool {
        self.options.read_only
    }

    /// How a replay of this WAL reads (see [`crate::wal::replay::replay_with`]).
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            mode: self.options.recovery,
            limit: self.replay_limit,
            checked: None,
        }
    }

    /// [`Wal::read_options`] for the replay about to run, which may trust the prefix a
    /// clean salvage open checked (see [`CheckedPrefix`]): the first replay after the
    /// open only, as on the pure path, and only while this process still holds the
    /// lock the open took (not once closed, nor in a forked child, whose parent may
    /// write).
    pub fn take_read_options(&mut self) -> ReadOptions {
        let checked = self.checked.take();
        let held = !self.closed && self.lock.as_ref().is_some_and(LedgerLock::owned_here);
        ReadOptions {
            checked: checked.filter(|_| held),
            ..self.read_options()
        }
    }

    /// `<path>.snap`.
    pub fn snapshot_path(&self) -> PathBuf {
        snapshot_path_for(&self.path)
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Records damage a replay met (undecodable bodies, a damaged snapshot): a writer
    /// copies each span to quarantine (durably; nothing is cut), a read-only open only
    /// reports it. Spans already reported are skipped.
    pub fn note_findings(&mut self, findings: Vec<Finding>) -> Result<()> {
        for f in findings {
            let known = self.recovery.quarantined.iter().any(|s| {
                s.file == f.file && s.offset == f.offset && s.length == f.bytes.len() as u64
            });
            if known {
                continue;
            }
            let quarantine_path = if self.options.read_only || self.closed {
                None
            } else {
                Some(quarantine(&f.file, f.offset, &f.bytes, f.reason)?)
            };
            self.recovery.note(QuarantinedSpan {
                file: f.file,
                offset: f.offset,
                length: f.bytes.len() as u64,
                reason: f.reason,
                quarantine_path,
            });
        }
        Ok(())
    }

    /// Brings the bookkeeping back in line with the file after a call was cut
    /// short (a caught panic): the file's own length becomes ours again, so a
    /// frame that reached the file is never cut by a later rollback, and a
    /// writer left between dropping and reopening its file (a pruning barrier)
    /// reopens it. Pending group-commit frames stay pending.
    pub fn repair(&mut self) -> Result<()> {
        self.buf = Vec::new();
        if self.closed || self.options.read_only {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(open_append(&self.path)?);
        }
        if let Some(file) = &self.file {
            self.len = file.metadata()?.len();
        }
        Ok(())
    }

    /// Appends one frame with a single `write_all`, then applies the durability policy.
    pub fn append_body(&mut self, body: &[u8]) -> Result<()> {
        self.append_frames(std::slice::from_ref(&body))
    }

    /// Appends one frame per body, all in one `write_all`.
    pub fn append_bodies(&mut self, bodies: &[Vec<u8>]) -> Result<()> {
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        self.append_frames(&refs)
    }

    /// Refuses a write that must not happen: read-only, closed, or from a forked child
    /// through its parent's handle (it would interleave with the parent's frames).
    fn check_writable(&self) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
            });
        }
        if self.file.is_none() {
            return Err(Error::Closed);
        }
        if let Some(lock) = &self.lock {
            if !lock.owned_here() {
                return Err(Error::ForkedChild {
                    path: self.path.clone(),
                    owner: lock.owner(),
                    pid: current_pid(),
                });
            }
        }
        Ok(())
    }

    /// Appends one frame and leaves it unsynced whatever the policy: for a
    /// [`crate::wal::group_commit::GroupCommit`] writer, which then waits for a
    /// shared fdatasync ([`Wal::sync_file`]).
    pub fn append_body_unsynced(&mut self, body: &[u8]) -> Result<()> {
        self.append_frames_unsynced(std::slice::from_ref(&body))
    }

    /// [`Wal::append_body_unsynced`] for many frames, all in one `write_all`.
    pub fn append_frames_unsynced(&mut self, bodies: &[&[u8]]) -> Result<()> {
        self.write_frames(bodies)
    }

    /// Appends one frame per body, all in one `write_all`, then applies the
    /// durability policy once.
    pub fn append_frames(&mut self, bodies: &[&[u8]]) -> Result<()> {
        self.write_frames(bodies)?;
        self.apply_durability()
    }

    fn write_frames(&mut self, bodies: &[&[u8]]) -> Result<()> {
        self.check_writable()?;
        if bodies.is_empty() {
            return Ok(());
        }
        if let Some(big) = bodies.iter().find(|b| b.len() > MAX_FRAME_LEN) {
            // A reader would take such a frame for damage.
            return Err(Error::FrameTooLarge(big.len()));
        }
        self.buf.clear();
        for body in bodies {
            encode_frame(body, &mut self.buf);
        }
        let file = self.file.as_ref().ok_or(Error::Closed)?;
        let mut w: &File = file;
        if let Err(e) = w.write_all(&self.buf) {
            // A partial write would leave a torn frame in front of every later append;
            // cut it off again (best effort: the write error is what matters).
            let _ = file.set_len(self.len);
            return Err(e.into());
        }
        self.len += self.buf.len() as u64;
        if self.buf.capacity() > KEEP_BUF_CAPACITY {
            self.buf = Vec::new();
        }
        self.pending += bodies.len();
        Ok(())
    }

    fn apply_durability(&mut self) -> Result<()> {
        if self.sync_due(self.pending) {
            self.sync()
        } else {
            Ok(())
        }
    }

    /// Whether the policy syncs once `pending` frames wait for it.
    fn sync_due(&self, pending: usize) -> bool {
        match self.options.durability {
            Durability::Flush => false,
            // A lone owner is a group of one: its append waits for its own sync.
            Durability::Fsync | Durability::Group { .. } => pending > 0,
        }
    }

    /// Whether appending one more frame now would fsync (`:fsync`, or a group commit
    /// that is due). A caller that must not block meanwhile, like the Ruby binding
    /// holding the GVL, decides by this where to append; the append itself decides
    /// again, so a stale answer costs only that choice.
    pub fn next_append_syncs(&self) -> bool {
        self.sync_due(self.pending.saturating_add(1))
    }

    /// fdatasync the WAL now (timed into [`Wal::sync_stats`], failed calls too).
    pub fn sync(&mut self) -> Result<()> {
        let file = self.file.as_ref().ok_or(Error::Closed)?;
        let started = Instant::now();
        let synced = file.sync_data();
        self.sync_stats.observe(started.elapsed());
        synced?;
        self.pending = 0;
        Ok(())
    }

    /// A second handle on the WAL file for a group-commit leader to fdatasync without
    /// holding the WAL (others append meanwhile). `Ok(None)` when the WAL was closed
    /// after fsyncing every pending frame, so there is nothing left to sync.
    pub fn sync_file(&self) -> Result<Option<File>> {
        match &self.file {
            Some(file) => Ok(Some(file.try_clone()?)),
            None if self.closed && self.closed_synced => Ok(None),
            None => Err(Error::Closed),
        }
    }

    /// Records the duration of a group-commit leader's fdatasync (see
    /// [`Wal::sync_file`]), failed calls too.
    pub fn note_sync(&mut self, took: std::time::Duration) {
        self.sync_stats.observe(took);
    }

    /// How long the WAL's fdatasync calls took so far.
    pub fn sync_stats(&self) -> &SyncStats {
        &self.sync_stats
    }

    /// Closes the WAL and releases the lock; idempotent. Under Group commit, the file
    /// is fsynced first. In a forked child the parent's lock stays held.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        // Under group commit, always: frames of writers still waiting for their
        // leader may be pending without being counted here.
        let result =
            if self.file.is_some() && matches!(self.options.durability, Durability::Group { .. }) {
                self.sync()
            } else {
                Ok(())
            };
        self.closed_synced = result.is_ok();
        self.file = None;
        self.lock = None;
        self.checked = None;
        self.closed = true;
        result
    }

    /// Atomic, durable checkpoint of `bodies` (fact bodies, in order) to `<path>.snap`.
    /// The WAL itself is untouched. On a closed Wal the lock is taken for the duration.
    pub fn write_snapshot(&self, bodies: &[Vec<u8>]) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
            });
        }
        if self.closed {
            let _lock = LedgerLock::exclusive(&self.path)?;
            return write_snapshot_file(&self.path, bodies);
        }
        self.check_writable()?;
        write_snapshot_file(&self.path, bodies)
    }

    /// Pruning barrier: snapshot `bodies`, then empty the WAL (fsynced) and reopen it for
    /// appending. The snapshot is durable before the WAL is cut. Reopens a closed Wal
    /// (taking the lock again).
    pub fn replace_with_snapshot(&mut self, bodies: &[Vec<u8>]) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
            });
        }
        if self.closed {
            self.lock = Some(LedgerLock::exclusive(&self.path)?);
            self.closed = false;
        } else {
            self.check_writable()?;
        }
        write_snapshot_file(&self.path, bodies)?;
        // The WAL the open checked is about to be emptied in place (same inode).
        self.checked = None;
        self.file = None;
        let file = open_append(&self.path)?;
        file.set_len(0)?;
        file.sync_all()?;
        self.file = Some(file);
        self.len = 0;
        self.pending = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// The prefix a salvage open's `scan` of `file` checked, when the scan found sound
/// frames only (nothing to quarantine or cut) in a non-empty file (see
/// [`CheckedPrefix`]).
fn checked_prefix(scan: &Scan, mode: RecoveryMode, file: &File) -> Result<Option<CheckedPrefix>> {
    if mode != RecoveryMode::Salvage || scan.len == 0 || scan.first_damage().is_some() {
        return Ok(None);
    }
    let frames = scan
        .segments
        .iter()
        .map(|s| match *s {
            Segment::Frames { count, .. } => count,
            Segment::Damage { .. } => 0,
        })
        .sum();
    Ok(Some(CheckedPrefix {
        len: scan.len,
        id: file_id(&file.metadata()?),
        frames,
    }))
}

/// The salvage scan of a WAL. `:salvage` checks frames (length, CRC) only: the
/// undecodable bodies it leaves in place are found by the replay that decodes them
/// anyway. `:strict` and `:truncate` decode every body here: for them an undecodable
/// body is damage that decides what the open does.
fn scan_file(file: &File, len: u64, mode: RecoveryMode, cancel: &Cancel) -> Result<Scan> {
    let mut src = FileSource::new(file, len);
    let scan = match mode {
        RecoveryMode::Salvage => salvage::scan_with(&mut src, cancel, |_, _| Verdict::Keep)?,
        RecoveryMode::Strict | RecoveryMode::Truncate => {
            salvage::scan_with(&mut src, cancel, |_, body| {
                if decode_fact_body(body).is_ok() {
                    Verdict::Keep
                } else {
                    Verdict::Undecodable
                }
            })?
        }
    };
    Ok(scan)
}

/// [`Error::NotALedger`] unless the non-empty file at `path` starts like a ledger
/// (see [`salvage::looks_like_ledger`]). Runs before the lock is taken, so a refused
/// file gets no lock file, quarantine or anything else next to it. Cheap for a ledger
/// with a sound first frame; only damage at offset 0 needs a scan.
fn refuse_unless_ledger(path: &Path, cancel: &Cancel) -> Result<()> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if salvage::is_ledger(&mut FileSource::new(&file, len), cancel)? {
        return Ok(());
    }
    Err(Error::NotALedger {
        path: path.to_path_buf(),
        why: "no valid frame at offset 0 or anywhere after it",
    })
}

impl Drop for Wal {
    /// Group commit promises pending frames are synced on close; honour it when the
    /// owner forgot to call `close` (errors cannot be reported here).
    fn drop(&mut self) {
        let _ = self.close();
    }
}
