//! One error type for the whole crate; messages follow Ruby's where Ruby has one, so the
//! binding can pass them through unchanged.

use std::fmt;
use std::path::PathBuf;

use crate::wal::lock::Holder;
use crate::wal::salvage::Reason;

#[derive(Debug)]
pub enum Error {
    /// NaN or ±Infinity met by an encoder (JSON has no spelling for them).
    NonFinite(f64),
    /// Containers nested deeper than the limit; carries the depth that was refused.
    Nesting(usize),
    /// Malformed JSON text.
    Parse {
        offset: usize,
        message: String,
    },
    /// A body that parses but breaks a decode rule of format.md, or a value the encoder
    /// cannot represent faithfully.
    InvalidRecord(String),
    /// A frame body above `MAX_FRAME_LEN`: readers would take it for a damaged tail.
    FrameTooLarge(usize),
    /// Write to a closed WAL.
    Closed,
    /// `recovery: :strict` met damage; nothing on disk was changed.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: Reason,
    },
    /// A non-empty file that does not start like a ledger; left untouched.
    NotALedger {
        path: PathBuf,
        why: &'static str,
    },
    /// The ledger lock is held elsewhere. `reader`: the refused open was read-only.
    Locked {
        path: PathBuf,
        pid: Option<u32>,
        holder: Holder,
        reader: bool,
    },
    /// A write through a read-only open.
    ReadOnly {
        path: PathBuf,
    },
    /// A write from a forked child through the handle its parent (`owner`) opened.
    ForkedChild {
        path: PathBuf,
        owner: u32,
        pid: u32,
    },
    /// A forked child found a WAL handle it inherited still taken by a thread of its
    /// parent (`owner`) that was writing when the process forked: that thread does not
    /// exist here, so the handle can never be used in this process.
    ForkedWhileBusy {
        path: PathBuf,
        owner: u32,
        pid: u32,
    },
    /// Long work stopped at a checkpoint because its [`crate::Cancel`] was raised.
    Interrupted,
    Io(std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFinite(v) => {
                // Ruby's spelling of the value, as in JSON::GeneratorError.
                let name = if v.is_nan() {
                    "NaN"
                } else if *v < 0.0 {
                    "-Infinity"
                } else {
                    "Infinity"
                };
                write!(f, "{name} not allowed in JSON")
            }
            Error::Nesting(n) => write!(f, "nesting of {n} is too deep"),
            Error::Parse { offset, message } => {
                write!(f, "JSON parse error at byte {offset}: {message}")
            }
            Error::InvalidRecord(msg) => write!(f, "invalid fact record: {msg}"),
            Error::FrameTooLarge(n) => write!(
                f,
                "frame body of {n} bytes exceeds {}",
                crate::wal::frame::MAX_FRAME_LEN
            ),
            Error::Closed => f.write_str("closed stream"),
            Error::Corrupt { path, offset, reason } => {
                write!(f, "{}: {} at byte {offset}", path.display(), reason.name())
            }
            Error::NotALedger { path, why } => {
                write!(f, "{} is not an igniter-ledger WAL: {why}", path.display())
            }
            Error::Locked { path, pid, holder, reader } => {
                let path = path.display();
                match (holder, reader, pid) {
                    (Holder::Readers, _, _) => write!(f, "{path} is locked by a read-only open"),
                    (Holder::Writer, true, Some(pid)) => write!(f, "{path} is locked by a writer (pid {pid})"),
                    (Holder::Writer, true, None) => write!(f, "{path} is locked by a writer"),
                    (Holder::Writer, false, Some(pid)) => {
                        write!(f, "{path} is locked by another writer (pid {pid})")
                    }
                    (Holder::Writer, false, None) => write!(f, "{path} is locked by another writer"),
                }
            }
            Error::ReadOnly { path } => write!(f, "{} is open read-only; writes are refused", path.display()),
            Error::ForkedChild { path, owner, pid } => write!(
                f,
                "{} is locked by another writer (pid {owner}): this process (pid {pid}) is a fork of it and may read the ledger but not write to it",
                path.display()
            ),
            Error::ForkedWhileBusy { path, owner, pid } => write!(
                f,
                "{} was being written by a thread of pid {owner} when this process (pid {pid}) forked from it; that handle cannot be used in this process",
                path.display()
            ),
            Error::Interrupted => f.write_str("interrupted"),
            Error::Io(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let cancelled = e.kind() == std::io::ErrorKind::Interrupted
            && e.get_ref()
                .is_some_and(|inner| inner.is::<crate::wal::cancel::Cancelled>());
        if cancelled {
            Error::Interrupted
        } else {
            Error::Io(e)
        }
    }
}
