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
    /// Group commit: like `Fsync`, an append returns only once an fdatasync covers its
    /// frame, but writers appending while one fdatasync runs share the next one
    /// (see [`crate::wal::group_commit`]). A leader waits for writers still appending
    /// up to `every` frames or `interval`, never for writers that are not there: a
    /// lone owner of a [`crate::Wal`] syncs each append. `every == 0` counts as 1.
    Group { every: usize, interval: Duration },
}
