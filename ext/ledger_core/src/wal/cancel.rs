//! Stopping long reads early. A replay or an open's scan of a large ledger can
//! run for seconds; the Ruby binding runs them without the GVL and, when Ruby
//! wants the thread back (Ctrl-C, `Thread#raise`, `Thread#kill`), raises the
//! [`Cancel`] flag from its unblocking function. The work checks the flag at
//! cheap checkpoints (per frame scanned, per chunk read, per body decoded) and
//! returns [`Error::Interrupted`]. Only read-only phases check it: nothing
//! written is ever cut short by a cancel.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// A flag another thread raises to ask the work holding it to stop.
#[derive(Debug, Default)]
pub struct Cancel(AtomicBool);

static NEVER: Cancel = Cancel::new();

impl Cancel {
    pub const fn new() -> Cancel {
        Cancel(AtomicBool::new(false))
    }

    /// A flag nobody raises, for callers that cannot interrupt.
    pub fn never() -> &'static Cancel {
        &NEVER
    }

    /// Asks the work to stop (async-signal-safe: a single atomic store).
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// A checkpoint: [`Error::Interrupted`] once the flag is raised.
    pub fn check(&self) -> Result<()> {
        if self.is_raised() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// [`Cancel::check`] for I/O-shaped code: an `io::Error` that converts
    /// back into [`Error::Interrupted`].
    pub fn check_io(&self) -> io::Result<()> {
        if self.is_raised() {
            Err(io::Error::new(io::ErrorKind::Interrupted, Cancelled))
        } else {
            Ok(())
        }
    }
}

/// The payload of the `io::Error` that [`Cancel::check_io`] returns.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Cancelled {}
