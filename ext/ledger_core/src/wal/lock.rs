//! One writer per ledger (format.md "Lock file"): a writer holds an exclusive,
//! non-blocking `flock` on `<wal>.lock` and writes its pid there; read-only opens share
//! the lock. `flock` belongs to the open file description, so a second open in the same
//! process is refused like another process, and a forked child shares its parent's lock
//! (it must neither write nor release it: see [`current_pid`]).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::pid::current_pid;
use crate::wal::fs_util::with_suffix;

/// Who holds a lock we could not get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A writer (its pid as recorded in the lock file, when readable).
    Writer,
    /// One or more read-only opens.
    Readers,
}

/// `<wal>.lock`.
pub fn lock_path_for(wal: &Path) -> PathBuf {
    with_suffix(wal, ".lock")
}

/// A held ledger lock. Dropping it releases the lock, but only in the process that took
/// it: a forked child closing its copy leaves the parent's lock alone.
#[derive(Debug)]
pub struct LedgerLock {
    file: File,
    owner: u32,
}

impl LedgerLock {
    /// Takes the writer lock of `wal` and records this pid in it.
    pub fn exclusive(wal: &Path) -> Result<LedgerLock> {
        let path = lock_path_for(wal);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = match file.try_lock_shared() {
                    Ok(()) => {
                        let _ = file.unlock();
                        Holder::Readers
                    }
                    Err(_) => Holder::Writer,
                };
                let pid = if holder == Holder::Writer {
                    recorded_pid(&file)
                } else {
                    None
                };
                return Err(Error::Locked {
                    path: wal.to_path_buf(),
                    pid,
                    holder,
                    reader: false,
                });
            }
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
        let owner = current_pid();
        file.set_len(0)?;
        file.write_all_at(format!("{owner}\n").as_bytes(), 0)?;
        Ok(LedgerLock { file, owner })
    }

    /// Takes a reader's share of the lock of `wal`. Creates the (empty) lock file when
    /// it is missing; `None` when it can be neither opened nor created (a read-only file
    /// system, where no writer can appear either).
    pub fn shared(wal: &Path) -> Result<Option<LedgerLock>> {
        let path = lock_path_for(wal);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                {
                    Ok(f) => f,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied
                        ) =>
                    {
                        return Ok(None)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(Some(LedgerLock {
                file,
                owner: current_pid(),
            })),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                path: wal.to_path_buf(),
                pid: recorded_pid(&file),
                holder: Holder::Writer,
                reader: true,
            }),
            Err(TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// Whether this process took the lock (false in a forked child).
    pub fn owned_here(&self) -> bool {
        current_pid() == self.owner
    }

    /// The pid of the process that took the lock.
    pub fn owner(&self) -> u32 {
        self.owner
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        // Closing our descriptor alone would keep the lock while a forked child still
        // holds a copy; unlocking in a child would release the parent's lock.
        if self.owned_here() {
            let _ = self.file.unlock();
        }
    }
}

/// The pid a writer recorded in the lock file, if it is readable.
fn recorded_pid(file: &File) -> Option<u32> {
    let mut text = String::new();
    let mut f = file;
    f.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
