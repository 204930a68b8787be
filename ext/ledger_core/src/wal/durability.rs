//! When WAL frames are forced to stable storage.

use std::time::Duration;

/// fsync policy of a [`crate::Wal`].
///
/// Every policy hands each append to the OS with one `write()` before returning, so an
/// immediate replay (any handle, any process) sees it; they differ only in fsync.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Durability {
    /// No fsync on append (0.5.2's behaviour): survives a process crash, not a power loss.
    #[default]
    Flush,
    /// fdatasync after every append.
    Fsync,
    /// Group commit: fdatasync once `every` frames are pending or `interval` has passed
    /// since the last sync (checked at append time, there is no background thread), and on
    /// close. `every == 0` counts as 1.
    Group { every: usize, interval: Duration },
}
