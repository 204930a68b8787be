//! Long reads stop at a checkpoint once their cancel flag is raised (the Ruby
//! binding raises it for Ctrl-C), and a stopped read leaves every file as it was.

mod common;

use std::fs;

use common::{body, fact, ids, TempDir};
use ledger_core::{
    replay_with, wal::replay::ReplayPlan, wal::snapshot::read_snapshot_with, Cancel, Durability,
    Error, RecoveryMode, Wal, WalOptions,
};

/// A WAL of `n` facts plus a torn frame at its end, and the bytes on disk.
fn ledger(dir: &TempDir, n: usize) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    for i in 0..n {
        wal.append_body(&body(&fact(&format!("f{i}"), "k", i as f64)))
            .unwrap();
    }
    wal.close().unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0, 0, 0, 40, b'{']);
    fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn raised() -> Cancel {
    let cancel = Cancel::new();
    cancel.raise();
    cancel
}

#[test]
fn a_raised_cancel_stops_a_replay_and_its_batches() {
    let dir = TempDir::new("cancel-replay");
    let (path, _) = ledger(&dir, 300);
    let opts = Default::default();
    assert!(matches!(
        replay_with(&path, &opts, &raised()),
        Err(Error::Interrupted)
    ));
    assert!(matches!(
        ReplayPlan::load(&path, opts, &raised()),
        Err(Error::Interrupted)
    ));
    let plan = ReplayPlan::load(&path, opts, Cancel::never()).unwrap();
    assert!(matches!(plan.batch(0, &raised()), Err(Error::Interrupted)));
    // A flag nobody raised changes nothing.
    let all = replay_with(&path, &opts, &Cancel::new()).unwrap();
    assert_eq!(all.records.len(), 300);
    assert_eq!(ids(&all.records)[299], "f299");
}

#[test]
fn a_raised_cancel_stops_a_snapshot_read() {
    let dir = TempDir::new("cancel-snapshot");
    let (path, _) = ledger(&dir, 10);
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    let bodies: Vec<Vec<u8>> = (0..10)
        .map(|i| body(&fact(&format!("s{i}"), "k", i as f64)))
        .collect();
    wal.write_snapshot(&bodies).unwrap();
    let snap = wal.snapshot_path();
    let read = read_snapshot_with(&snap, RecoveryMode::Salvage, &raised());
    assert!(matches!(read, Err(Error::Interrupted)));
}

#[test]
fn a_cancelled_open_cuts_nothing_and_releases_the_lock() {
    let dir = TempDir::new("cancel-open");
    let (path, bytes) = ledger(&dir, 50);
    for recovery in [RecoveryMode::Salvage, RecoveryMode::Truncate] {
        for read_only in [false, true] {
            let options = WalOptions {
                recovery,
                read_only,
                ..WalOptions::default()
            };
            let opened = Wal::open_cancellable(&path, options, &raised());
            assert!(matches!(opened, Err(Error::Interrupted)), "{options:?}");
            assert_eq!(fs::read(&path).unwrap(), bytes, "{options:?}");
            assert!(!dir.join("ledger.wal.quarantine").exists(), "{options:?}");
        }
    }
    // The lock went with the cancelled open: a writer gets it, and only now is
    // the torn tail quarantined and cut.
    let wal = Wal::open_cancellable(&path, WalOptions::default(), &Cancel::new()).unwrap();
    assert_eq!(wal.recovery().truncated_bytes, 5);
    assert!(dir.join("ledger.wal.quarantine").exists());
}

#[test]
fn next_append_syncs_follows_the_policy() {
    let dir = TempDir::new("next-sync");
    let path = dir.join("ledger.wal");
    let flush = Wal::open(&path, Durability::Flush).unwrap();
    assert!(!flush.next_append_syncs());
    drop(flush);
    let fsync = Wal::open(&path, Durability::Fsync).unwrap();
    assert!(fsync.next_append_syncs());
    drop(fsync);
    let group = Durability::Group {
        every: 3,
        interval: std::time::Duration::MAX,
    };
    let mut wal = Wal::open(&path, group).unwrap();
    let mut syncs = Vec::new();
    for i in 0..6 {
        syncs.push(wal.next_append_syncs());
        wal.append_body(&body(&fact(&format!("g{i}"), "k", i as f64)))
            .unwrap();
    }
    // A lone owner of a group-commit WAL waits for its own sync on every append.
    assert_eq!(syncs, [true; 6]);
}
