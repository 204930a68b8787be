//! The single-file ledger on disk (doc/format.md "Frame" to "Lock file"): CRC
//! frames, the WAL writer and its durability policies, snapshots, replay,
//! the salvage scanner, recovery and its quarantine, and the ledger lock.

pub mod cancel;
pub mod durability;
pub mod frame;
pub mod fs_util;
pub mod group_commit;
pub mod lock;
pub mod quarantine;
pub mod recover;
pub mod replay;
pub mod salvage;
pub mod snapshot;
pub mod sync_stats;
pub mod writer;
