//! The WAL writer: recovery on open, appends, close, snapshots.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::time::Duration;

use common::{body, fact, ids, TempDir};
use ledger_core::{
    decode_frame_at, parse, replay, scan_frames, Durability, Error, Json, Reason, Tail, Wal,
    MAX_FRAME_LEN,
};

fn append(wal: &mut Wal, id: &str, tt: f64) {
    wal.append_body(&body(&fact(id, "k", tt))).unwrap();
}

#[test]
fn wal_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
}

#[test]
fn appends_are_visible_to_replay_before_close() {
    let dir = TempDir::new("visible");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::default()).unwrap();
    assert_eq!(wal.recovery().original_len, 0);
    assert_eq!(wal.recovery().tail, None);
    append(&mut wal, "a", 1.0);
    append(&mut wal, "b", 2.0);
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a", "b"]);
    wal.close().unwrap();
}

#[test]
fn open_truncates_a_torn_tail_and_later_appends_survive_a_reopen() {
    let dir = TempDir::new("torn");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "a", 1.0);
    append(&mut wal, "b", 2.0);
    wal.close().unwrap();
    let good_len = fs::metadata(&path).unwrap().len();
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "c", 3.0);
    wal.close().unwrap();
    let full_len = fs::metadata(&path).unwrap().len();

    // Cut 6 bytes: the third frame is now torn.
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(full_len - 6).unwrap();
    drop(f);

    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    let rec = wal.recovery().clone();
    assert_eq!(rec.tail, Some(Reason::Torn));
    assert_eq!(rec.original_len, full_len - 6);
    assert_eq!(rec.valid_len, good_len);
    assert_eq!(rec.truncated_bytes, full_len - 6 - good_len);
    assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
    append(&mut wal, "d", 4.0);
    wal.close().unwrap();

    let wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().truncated_bytes, 0);
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a", "b", "d"]);
}

#[test]
fn open_cuts_a_bad_crc_tail_and_an_oversized_length() {
    let dir = TempDir::new("badtail");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "a", 1.0);
    wal.close().unwrap();
    let good_len = fs::metadata(&path).unwrap().len();

    let mut bytes = fs::read(&path).unwrap();
    let mut bad = Vec::new();
    ledger_core::encode_frame(b"{}", &mut bad);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    bytes.extend_from_slice(&bad);
    fs::write(&path, &bytes).unwrap();
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().tail, Some(Reason::BadCrc));
    assert_eq!(wal.recovery().valid_len, good_len);
    drop(wal);

    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"GARBAGE-GARBAGE");
    fs::write(&path, &bytes).unwrap();
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().tail, Some(Reason::Oversized));
    assert_eq!(fs::metadata(&path).unwrap().len(), good_len);
}

#[test]
fn open_with_a_missing_parent_directory_is_not_found() {
    let dir = TempDir::new("noparent");
    let err = Wal::open(&dir.join("missing/ledger.wal"), Durability::Flush).unwrap_err();
    assert!(matches!(err, Error::Io(ref e) if e.kind() == ErrorKind::NotFound));
}

#[test]
fn close_is_idempotent_and_writes_after_close_fail_with_closed_stream() {
    let dir = TempDir::new("closed");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    assert!(!wal.is_closed());
    wal.close().unwrap();
    wal.close().unwrap();
    assert!(wal.is_closed());
    let err = wal.append_body(b"{}").unwrap_err();
    assert!(matches!(err, Error::Closed));
    assert_eq!(err.to_string(), "closed stream");
    assert!(matches!(wal.sync(), Err(Error::Closed)));
    assert!(matches!(wal.append_bodies(&[]), Err(Error::Closed)));
}

#[test]
fn append_bodies_writes_every_frame_in_order() {
    let dir = TempDir::new("batch");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Fsync).unwrap();
    let bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| body(&fact(&format!("f{i}"), "k", i as f64)))
        .collect();
    wal.append_bodies(&bodies).unwrap();
    wal.append_bodies(&[]).unwrap();
    wal.close().unwrap();
    let buf = fs::read(&path).unwrap();
    let scan = scan_frames(&buf);
    assert_eq!(scan.tail, Tail::Clean);
    assert_eq!(scan.bodies.len(), 5);
    assert_eq!(
        ids(&replay(&path).unwrap()),
        vec!["f0", "f1", "f2", "f3", "f4"]
    );
}

#[test]
fn every_durability_policy_persists_appends() {
    let dir = TempDir::new("durability");
    for (i, d) in [
        Durability::Flush,
        Durability::Fsync,
        Durability::Group {
            every: 3,
            interval: Duration::from_secs(3600),
        },
        Durability::Group {
            every: 0,
            interval: Duration::ZERO,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(&format!("ledger{i}.wal"));
        let mut wal = Wal::open(&path, d).unwrap();
        assert_eq!(wal.durability(), d);
        for j in 0..4 {
            append(&mut wal, &format!("{i}-{j}"), j as f64);
        }
        wal.sync().unwrap();
        append(&mut wal, "last", 9.0);
        wal.close().unwrap();
        assert_eq!(replay(&path).unwrap().len(), 5);
    }
    assert_eq!(Durability::default(), Durability::Flush);
}

#[test]
fn a_body_above_the_frame_limit_is_refused_and_nothing_is_written() {
    let dir = TempDir::new("huge");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    let huge = vec![b' '; MAX_FRAME_LEN + 1];
    assert!(matches!(
        wal.append_body(&huge),
        Err(Error::FrameTooLarge(_))
    ));
    assert!(matches!(
        wal.write_snapshot(&[huge]),
        Err(Error::FrameTooLarge(_))
    ));
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    assert!(!wal.snapshot_path().exists());
}

#[test]
fn snapshot_path_appends_snap_to_the_whole_file_name() {
    let dir = TempDir::new("snappath");
    let path = dir.join("ledger.wal");
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.path(), path.as_path());
    assert_eq!(wal.snapshot_path(), dir.join("ledger.wal.snap"));
}

#[test]
fn write_snapshot_writes_a_header_then_the_facts_and_leaves_the_wal_alone() {
    let dir = TempDir::new("snapshot");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "a", 1.0);
    let wal_len = fs::metadata(&path).unwrap().len();
    wal.close().unwrap();
    // Works on a closed Wal.
    wal.write_snapshot(&[body(&fact("s1", "k", 0.5)), body(&fact("s2", "k", 0.7))])
        .unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), wal_len);
    assert!(!dir.join("ledger.wal.snap.tmp").exists());

    let snap = fs::read(wal.snapshot_path()).unwrap();
    let (header, _) = decode_frame_at(&snap, 0).unwrap();
    let header = &snap[header];
    assert!(header.starts_with(br#"{"type":"snapshot_header","fact_count":2,"written_at":"#));
    let parsed = parse(header).unwrap();
    let Some(Json::Float(written_at)) = parsed.get("written_at") else {
        panic!()
    };
    assert!(*written_at > 1.7e9);
    assert_eq!(ids(&replay(&path).unwrap()), vec!["s1", "s2", "a"]);
}

#[test]
fn replace_with_snapshot_empties_the_wal_and_keeps_it_writable() {
    let dir = TempDir::new("replace");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "old1", 1.0);
    append(&mut wal, "old2", 2.0);
    wal.replace_with_snapshot(&[body(&fact("old2", "k", 2.0))])
        .unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    append(&mut wal, "new", 3.0);
    // Twice in a row, and after close, are fine too.
    wal.replace_with_snapshot(&[body(&fact("old2", "k", 2.0)), body(&fact("new", "k", 3.0))])
        .unwrap();
    wal.close().unwrap();
    wal.replace_with_snapshot(&[body(&fact("old2", "k", 2.0)), body(&fact("new", "k", 3.0))])
        .unwrap();
    assert!(!wal.is_closed());
    append(&mut wal, "after", 4.0);
    wal.close().unwrap();

    // The first frame of the WAL starts at offset 0 (no garbage in front).
    let buf = fs::read(&path).unwrap();
    assert_eq!(scan_frames(&buf).bodies.len(), 1);
    assert_eq!(ids(&replay(&path).unwrap()), vec!["old2", "new", "after"]);
}

#[test]
fn a_stale_snap_tmp_is_deleted_on_open_and_never_read() {
    let dir = TempDir::new("staletmp");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    append(&mut wal, "a", 1.0);
    wal.close().unwrap();
    let tmp = dir.join("ledger.wal.snap.tmp");
    fs::write(&tmp, b"CORRUPT").unwrap();
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a"]);
    assert!(tmp.exists(), "replay never writes or deletes");
    let _wal = Wal::open(&path, Durability::Flush).unwrap();
    assert!(!tmp.exists());
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a"]);
}

#[test]
fn group_commit_syncs_pending_frames_on_drop_without_close() {
    let dir = TempDir::new("drop");
    let path = dir.join("ledger.wal");
    {
        let mut wal = Wal::open(
            &path,
            Durability::Group {
                every: 100,
                interval: Duration::from_secs(3600),
            },
        )
        .unwrap();
        append(&mut wal, "a", 1.0);
    }
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a"]);
}

#[test]
fn append_frames_writes_every_frame_in_order_with_one_fsync() {
    let dir = TempDir::new("frames");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Fsync).unwrap();
    append(&mut wal, "a", 1.0);
    let bodies = [body(&fact("b", "k", 2.0)), body(&fact("c", "k", 3.0))];
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    wal.append_frames(&refs).unwrap();
    wal.append_frames(&[]).unwrap();
    // One fdatasync for the single append, one for the two frames.
    assert_eq!(wal.sync_stats().count, 2);
    assert_eq!(ids(&replay(&path).unwrap()), vec!["a", "b", "c"]);
    wal.close().unwrap();
}
