//! Replay = snapshot ∪ WAL delta, including the data written by igniter-ledger 0.5.2.

mod common;

use std::fs;

use common::{body, fact, ids, TempDir};
use ledger_core::wal::replay::{CheckedPrefix, Finding};
use ledger_core::{
    decode_bodies_parallel, encode_frame, parse, read_snapshot, replay, replay_with, scan_frames,
    snapshot_path_for, Durability, Json, ReadOptions, RecoveryMode, Wal, WalOptions,
};

/// Copies the 0.5.2 FileBackend fixture to a temp dir; returns the WAL path inside.
fn fixture_copy(dir: &TempDir) -> std::path::PathBuf {
    for name in ["ledger.wal", "ledger.wal.snap"] {
        fs::copy(
            common::fixture(&format!("file_backend/{name}")),
            dir.join(name),
        )
        .unwrap();
    }
    dir.join("ledger.wal")
}

fn opt_str(v: Option<&Json>) -> Option<String> {
    match v {
        Some(Json::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn num(v: Option<&Json>) -> Option<f64> {
    match v {
        Some(Json::Float(f)) => Some(*f),
        Some(Json::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

#[test]
fn replay_of_the_0_5_2_fixture_equals_what_0_5_2_read_back() {
    let dir = TempDir::new("fixture");
    let path = fixture_copy(&dir);
    let facts = replay(&path).unwrap();

    let expected =
        parse(&fs::read(common::fixture("file_backend/expected.json")).unwrap()).unwrap();
    let Json::Array(expected) = expected else {
        panic!()
    };
    assert_eq!(facts.len(), expected.len());
    assert_eq!(facts.len(), 8);
    for (got, want) in facts.iter().zip(&expected) {
        assert_eq!(Some(got.id.clone()), opt_str(want.get("id")));
        assert_eq!(Some(got.store.clone()), opt_str(want.get("store")));
        assert_eq!(Some(got.key.clone()), opt_str(want.get("key")));
        assert_eq!(
            Some(got.transaction_time),
            num(want.get("transaction_time"))
        );
        assert_eq!(got.valid_time, num(want.get("valid_time")));
        assert_eq!(got.causation, opt_str(want.get("causation")));
        assert_eq!(got.value_hash, opt_str(want.get("value_hash")));
        assert_eq!(Some(&got.value), want.get("value"));
        assert_eq!(Some(&got.producer), want.get("producer"));
        assert_eq!(Some(&got.derivation), want.get("derivation"));
        assert_eq!(Some(&got.schema_version), want.get("schema_version"));
        // The stored hashes are the value hashes of the replayed values.
        assert_eq!(
            got.value_hash.as_deref(),
            Some(ledger_core::value_hash(&got.value).unwrap().as_str())
        );
    }
}

#[test]
fn fixture_bodies_re_encode_to_the_exact_0_5_2_bytes() {
    let wal = fs::read(common::fixture("file_backend/ledger.wal")).unwrap();
    let scan = scan_frames(&wal);
    let facts = decode_bodies_parallel(&wal, &scan.bodies);
    assert_eq!(facts.len(), scan.bodies.len());
    for (rec, range) in facts.iter().zip(&scan.bodies) {
        assert_eq!(body(rec), &wal[range.clone()]);
    }
}

#[test]
fn opening_the_clean_fixture_cuts_nothing_and_appends_follow_it() {
    let dir = TempDir::new("fixture-open");
    let path = fixture_copy(&dir);
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().truncated_bytes, 0);
    assert_eq!(wal.recovery().valid_len, 3158);
    wal.append_body(&body(&fact("new", "k9", 1795675900.0)))
        .unwrap();
    wal.close().unwrap();
    let facts = replay(&path).unwrap();
    assert_eq!(facts.len(), 9);
    assert_eq!(facts.last().unwrap().id, "new");
}

#[test]
fn a_garbage_snapshot_is_ignored_as_a_whole() {
    let dir = TempDir::new("garbage");
    let path = fixture_copy(&dir);
    fs::write(dir.join("ledger.wal.snap"), b"GARBAGE").unwrap();
    assert!(read_snapshot(&dir.join("ledger.wal.snap")).is_empty());
    assert_eq!(
        replay(&path).unwrap().len(),
        8,
        "all facts still come from the WAL"
    );
}

#[test]
fn a_snapshot_whose_first_frame_is_not_a_header_keeps_its_facts_and_reports_the_frame() {
    let dir = TempDir::new("noheader");
    let snap = dir.join("ledger.wal.snap");
    for first in [
        &br#"{"type":"other"}"#[..],
        b"not json",
        br#"["snapshot_header"]"#,
    ] {
        let mut buf = Vec::new();
        encode_frame(first, &mut buf);
        encode_frame(&body(&fact("a", "k", 1.0)), &mut buf);
        fs::write(&snap, &buf).unwrap();
        assert_eq!(ids(&read_snapshot(&snap)), vec!["a"]);
        let (_, findings) = ledger_core::wal::snapshot::read_snapshot_with(
            &snap,
            Default::default(),
            ledger_core::Cancel::never(),
        )
        .unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].offset, findings[0].reason),
            (0, ledger_core::Reason::Undecodable)
        );
        assert_eq!(findings[0].bytes.len(), first.len() + 8);
    }
    assert!(read_snapshot(&dir.join("missing.snap")).is_empty());
}

#[test]
fn snapshot_facts_are_read_around_damage_and_bad_bodies_skipped() {
    let dir = TempDir::new("snapdamage");
    let snap = dir.join("ledger.wal.snap");
    let mut buf = Vec::new();
    encode_frame(
        br#"{"type":"snapshot_header","fact_count":9,"written_at":1.0}"#,
        &mut buf,
    );
    encode_frame(&body(&fact("a", "k", 1.0)), &mut buf);
    encode_frame(br#"{"no":"store"}"#, &mut buf);
    encode_frame(&body(&fact("b", "k", 2.0)), &mut buf);
    let torn_at = buf.len();
    encode_frame(&body(&fact("c", "k", 3.0)), &mut buf);
    fs::write(&snap, &buf[..buf.len() - 3]).unwrap();
    assert!(torn_at < buf.len() - 3);
    assert_eq!(ids(&read_snapshot(&snap)), vec!["a", "b"]);
}

#[test]
fn a_wal_fact_absent_from_the_snapshot_is_resurrected() {
    let dir = TempDir::new("resurrect");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    wal.append_body(&body(&fact("kept", "k", 1.0))).unwrap();
    wal.append_body(&body(&fact("pruned", "k", 2.0))).unwrap();
    wal.write_snapshot(&[body(&fact("kept", "k", 1.0))])
        .unwrap();
    wal.close().unwrap();
    assert_eq!(ids(&replay(&path).unwrap()), vec!["kept", "pruned"]);
}

#[test]
fn equal_times_keep_snapshot_first_then_wal_order() {
    let dir = TempDir::new("ties");
    let path = dir.join("ledger.wal");
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    for id in ["w1", "w2", "s1"] {
        wal.append_body(&body(&fact(id, "k", 5.0))).unwrap();
    }
    wal.append_body(&body(&fact("early", "k", -1.0))).unwrap();
    wal.write_snapshot(&[body(&fact("s2", "k", 5.0)), body(&fact("s1", "k", 5.0))])
        .unwrap();
    wal.close().unwrap();
    assert_eq!(
        ids(&replay(&path).unwrap()),
        vec!["early", "s2", "s1", "w1", "w2"]
    );
}

#[test]
fn undecodable_wal_bodies_are_skipped_and_a_damaged_frame_costs_only_itself() {
    let dir = TempDir::new("skip");
    let path = dir.join("ledger.wal");
    let mut buf = Vec::new();
    encode_frame(&body(&fact("a", "k", 1.0)), &mut buf);
    encode_frame(b"not json", &mut buf);
    encode_frame(b"[1,2,3]", &mut buf);
    encode_frame(br#"{"key":"no store"}"#, &mut buf);
    encode_frame(&body(&fact("b", "k", 2.0)), &mut buf);
    let mut bad = Vec::new();
    encode_frame(&body(&fact("c", "k", 3.0)), &mut bad);
    bad[6] ^= 0x20;
    buf.extend_from_slice(&bad);
    encode_frame(&body(&fact("d", "k", 4.0)), &mut buf);
    fs::write(&path, &buf).unwrap();

    assert_eq!(ids(&replay(&path).unwrap()), vec!["a", "b", "d"]);
    assert_eq!(fs::read(&path).unwrap(), buf, "replay never writes");
    let replayed =
        ledger_core::replay_with(&path, &Default::default(), ledger_core::Cancel::never()).unwrap();
    let reasons: Vec<_> = replayed.findings.iter().map(|f| f.reason).collect();
    assert_eq!(
        reasons,
        vec![ledger_core::Reason::Undecodable; 3],
        "the bad CRC is the open's business"
    );
}

#[test]
fn a_missing_wal_replays_the_snapshot_alone() {
    let dir = TempDir::new("nowal");
    let path = dir.join("ledger.wal");
    assert!(replay(&path).unwrap().is_empty());
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    wal.write_snapshot(&[body(&fact("s", "k", 1.0))]).unwrap();
    drop(wal);
    fs::remove_file(&path).unwrap();
    assert_eq!(ids(&replay(&path).unwrap()), vec!["s"]);
}

#[test]
fn parallel_decoding_keeps_frame_order_and_skips_bad_ranges() {
    let mut buf = Vec::new();
    let n = 1000;
    for i in 0..n {
        if i % 7 == 3 {
            encode_frame(b"{bad", &mut buf);
        } else {
            // Times deliberately descending: decode order must be frame order, not time.
            encode_frame(
                &body(&fact(&format!("f{i}"), "k", (n - i) as f64)),
                &mut buf,
            );
        }
    }
    let mut ranges = scan_frames(&buf).bodies;
    ranges.push(buf.len()..buf.len() + 10);
    let facts = decode_bodies_parallel(&buf, &ranges);
    let expected: Vec<String> = (0..n)
        .filter(|i| i % 7 != 3)
        .map(|i| format!("f{i}"))
        .collect();
    assert_eq!(
        ids(&facts),
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

/// Every record a plan hands out, snapshot-decoded ones first, then batch by batch,
/// with the WAL records stably sorted by time as the plan's contract asks.
fn planned(path: &std::path::Path) -> Vec<ledger_core::FactRecord> {
    let mut plan = ledger_core::wal::replay::ReplayPlan::load(
        path,
        Default::default(),
        ledger_core::Cancel::never(),
    )
    .unwrap();
    let mut out = plan.take_decoded();
    let mut wal = Vec::new();
    for n in 0..plan.batches() {
        wal.extend(plan.batch(n, ledger_core::Cancel::never()).unwrap().0);
    }
    wal.sort_by(|a, b| a.transaction_time.total_cmp(&b.transaction_time));
    out.extend(wal);
    out
}

#[test]
fn a_batched_replay_plan_yields_what_replay_returns_across_batches_and_out_of_order_times() {
    let dir = TempDir::new("plan");
    let path = dir.join("ledger.wal");
    let n = ledger_core::wal::replay::REPLAY_BATCH * 2 + 17;
    let mut buf = Vec::new();
    for i in 0..n {
        if i % 11 == 5 {
            encode_frame(b"{bad", &mut buf);
        } else {
            // Mostly ascending with equal and stepped-back times, so the stable
            // sort by time really reorders across batch boundaries.
            let tt = (i / 3) as f64 - if i % 97 == 0 { 50.0 } else { 0.0 };
            encode_frame(&body(&fact(&format!("f{i}"), "k", tt)), &mut buf);
        }
    }
    fs::write(&path, &buf).unwrap();
    assert_eq!(planned(&path), replay(&path).unwrap());
}

#[test]
fn a_batched_replay_plan_with_a_snapshot_equals_replay() {
    let dir = TempDir::new("plansnap");
    let path = fixture_copy(&dir);
    assert_eq!(planned(&path), replay(&path).unwrap());
    let empty = dir.join("missing.wal");
    assert!(planned(&empty).is_empty());
}

/// Read options that trust the first `len` bytes of the WAL at `path` as checked.
fn trusting(path: &std::path::Path, len: u64) -> ReadOptions {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(path).unwrap();
    ReadOptions {
        checked: Some(CheckedPrefix {
            len,
            id: (meta.dev(), meta.ino()),
            frames: 0,
        }),
        ..ReadOptions::default()
    }
}

fn replayed(
    path: &std::path::Path,
    opts: &ReadOptions,
) -> (Vec<ledger_core::FactRecord>, Vec<Finding>) {
    let r = replay_with(path, opts, ledger_core::Cancel::never()).unwrap();
    (r.records, r.findings)
}

#[test]
fn a_replay_that_trusts_a_checked_prefix_reads_what_a_whole_scan_reads_at_every_frame_boundary() {
    let dir = TempDir::new("checked");
    let path = dir.join("ledger.wal");
    let mut buf = Vec::new();
    let mut boundaries = vec![0u64];
    for i in 0..12 {
        if i == 4 {
            encode_frame(b"{bad}", &mut buf); // CRC sound, not a fact
        } else {
            encode_frame(&body(&fact(&format!("f{i}"), "k", i as f64)), &mut buf);
        }
        boundaries.push(buf.len() as u64);
    }
    // Past the boundaries: garbage, one more sound frame, a frame with a bad CRC
    // and a torn tail, so the scan after the prefix resyncs and classifies.
    buf.extend_from_slice(b"\x00\x00junk junk");
    encode_frame(&body(&fact("g", "k", 20.0)), &mut buf);
    let mut bad = Vec::new();
    encode_frame(&body(&fact("h", "k", 21.0)), &mut bad);
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    buf.extend_from_slice(&bad);
    encode_frame(&body(&fact("t", "k", 22.0)), &mut buf);
    buf.truncate(buf.len() - 3);
    fs::write(&path, &buf).unwrap();

    let whole = replayed(&path, &ReadOptions::default());
    assert_eq!(whole.0.len(), 12); // 11 facts + "g"
    assert_eq!(whole.1.len(), 1); // the undecodable body
    for &len in &boundaries {
        assert_eq!(
            replayed(&path, &trusting(&path, len)),
            whole,
            "prefix {len}"
        );
        let opts = ReadOptions {
            mode: RecoveryMode::Strict,
            ..trusting(&path, len)
        };
        let strict = replay_with(&path, &opts, ledger_core::Cancel::never()).unwrap_err();
        assert!(
            matches!(strict, ledger_core::Error::Corrupt { .. }),
            "{strict:?}"
        );
    }
    // A prefix that ends inside a frame does not fit its lengths: scanned as usual.
    assert_eq!(replayed(&path, &trusting(&path, boundaries[3] + 5)), whole);
    assert_eq!(
        replayed(&path, &trusting(&path, buf.len() as u64 + 9)),
        whole
    );
}

#[test]
fn a_checked_prefix_skips_the_crc_of_that_very_file_only() {
    let dir = TempDir::new("checkedcrc");
    let path = dir.join("ledger.wal");
    let mut buf = Vec::new();
    for i in 0..3 {
        encode_frame(&body(&fact(&format!("f{i}"), "k", i as f64)), &mut buf);
    }
    let len = buf.len() as u64;
    // A CRC damaged after the check (outside any writer's contract): a trusted
    // prefix keeps the frame, which shows its CRC was not computed again.
    let last = buf.len() - 1;
    buf[last] ^= 0xff;
    fs::write(&path, &buf).unwrap();
    assert_eq!(replayed(&path, &trusting(&path, len)).0.len(), 3);
    assert_eq!(replayed(&path, &ReadOptions::default()).0.len(), 2);
    // Another file at the same path (another inode) is scanned whole.
    let opts = trusting(&path, len);
    let moved = dir.join("moved.wal");
    fs::rename(&path, &moved).unwrap();
    fs::write(&path, &buf).unwrap();
    assert_eq!(replayed(&path, &opts).0.len(), 2);
    // So is a read-only :truncate replay, which stops at its limit instead.
    let limited = ReadOptions {
        limit: Some(len),
        ..trusting(&path, len)
    };
    assert_eq!(replayed(&path, &limited).0.len(), 2);
}

#[test]
fn only_the_first_replay_after_a_clean_salvage_open_gets_the_checked_prefix() {
    let dir = TempDir::new("checkedwal");
    let path = dir.join("ledger.wal");
    let mut buf = Vec::new();
    for i in 0..3 {
        encode_frame(&body(&fact(&format!("f{i}"), "k", i as f64)), &mut buf);
    }
    fs::write(&path, &buf).unwrap();
    let len = buf.len() as u64;

    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    let opts = wal.take_read_options();
    assert_eq!(opts.checked.map(|c| c.len), Some(len));
    let mut expected = trusting(&path, len);
    if let Some(c) = expected.checked.as_mut() {
        c.frames = 3; // the open's count, a hint for the replay
    }
    assert_eq!(opts, expected);
    assert_eq!(wal.take_read_options().checked, None);
    wal.close().unwrap();

    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    wal.close().unwrap();
    assert_eq!(
        wal.take_read_options().checked,
        None,
        "closed: the lock is gone"
    );

    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    wal.replace_with_snapshot(&[]).unwrap();
    assert_eq!(wal.take_read_options().checked, None, "the WAL was emptied");
    wal.close().unwrap();
    fs::remove_file(snapshot_path_for(&path)).unwrap();

    fs::write(&path, &buf).unwrap();
    let read_only = WalOptions {
        read_only: true,
        ..WalOptions::default()
    };
    let mut wal = Wal::open_with(&path, read_only).unwrap();
    assert_eq!(wal.take_read_options().checked.map(|c| c.len), Some(len));
    wal.close().unwrap();

    for recovery in [RecoveryMode::Strict, RecoveryMode::Truncate] {
        let options = WalOptions {
            recovery,
            ..WalOptions::default()
        };
        let mut wal = Wal::open_with(&path, options).unwrap();
        assert_eq!(wal.take_read_options().checked, None, "{recovery:?}");
        wal.close().unwrap();
    }

    // Damage (here a torn tail, which salvage quarantines and cuts): scanned again.
    let mut torn = buf.clone();
    torn.extend_from_slice(&[0, 0, 1]);
    fs::write(&path, &torn).unwrap();
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.take_read_options().checked, None);
    wal.close().unwrap();

    // An empty WAL has nothing to trust.
    fs::write(&path, b"").unwrap();
    let mut wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.take_read_options().checked, None);
    wal.close().unwrap();
}

/// Every fact a plan hands out batch by batch as [`Decoded`], as text (a fast
/// record with its value's packed bytes), and the findings: by `batch_packed`
/// of a plan read whole, or by `next_batch` of a streamed one.
fn packed_facts(
    path: &std::path::Path,
    opts: ReadOptions,
    streamed: bool,
) -> (Vec<String>, Vec<Finding>) {
    use ledger_core::wal::replay::{Cursor, Decoded, DecodedBatch, ReplayPlan};
    let never = ledger_core::Cancel::never();
    let text = |batch: &DecodedBatch<'_>, out: &mut Vec<String>| {
        for (rec, data) in batch.iter() {
            out.push(match rec {
                // Its ranges point into its chunk's data: compare the bytes.
                Decoded::Fast(f) => format!(
                    "{} {} {} {:?} {:?} {} {:?} {} {:?} {:?} {:?} {:?}",
                    f.id,
                    f.store,
                    f.key,
                    f.value_hash,
                    f.causation,
                    f.transaction_time,
                    f.valid_time,
                    f.schema_version,
                    &data[f.value.clone()],
                    f.producer.clone().map(|r| &data[r]),
                    f.derivation.clone().map(|r| &data[r]),
                    f.bytes,
                ),
                other => format!("{other:?}"),
            });
        }
    };
    let (mut facts, mut findings) = (Vec::new(), Vec::new());
    if streamed {
        let plan = ReplayPlan::load_streamed(path, opts, never).unwrap();
        let mut cursor = Cursor::default();
        while let Some((batch, found)) = plan.next_batch(&mut cursor, never).unwrap() {
            assert!(batch.decoded().len() <= ledger_core::wal::replay::REPLAY_BATCH);
            text(batch.decoded(), &mut facts);
            findings.extend(found);
            cursor.recycle(batch);
        }
    } else {
        let plan = ReplayPlan::load(path, opts, never).unwrap();
        for n in 0..plan.batches() {
            let (batch, found) = plan.batch_packed(n, never).unwrap();
            text(&batch, &mut facts);
            findings.extend(found);
        }
    }
    (facts, findings)
}

#[test]
fn a_streamed_replay_plan_reads_what_a_whole_plan_reads_for_every_checked_prefix() {
    let dir = TempDir::new("streamed");
    let path = dir.join("ledger.wal");
    let mut buf = Vec::new();
    let mut boundaries = vec![0u64];
    let n = ledger_core::wal::replay::REPLAY_BATCH + 300;
    for i in 0..n {
        if i % 1000 == 4 {
            encode_frame(b"{bad}", &mut buf); // CRC sound, not a fact
        } else if i == 2000 {
            // Longer than a stream window: the window grows to it.
            let mut f = fact("big", "k", i as f64);
            f.value = Json::Str("x".repeat(3 << 20));
            encode_frame(&body(&f), &mut buf);
        } else {
            encode_frame(&body(&fact(&format!("f{i}"), "k", i as f64)), &mut buf);
        }
        if i % 997 == 0 || i + 3 > n {
            boundaries.push(buf.len() as u64);
        }
    }
    // Past the boundaries: garbage, a frame, a bad CRC and a torn tail.
    buf.extend_from_slice(b"\x00\x00junk junk");
    encode_frame(&body(&fact("g", "k", 1e6)), &mut buf);
    let mut bad = Vec::new();
    encode_frame(&body(&fact("h", "k", 1e6 + 1.0)), &mut bad);
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    buf.extend_from_slice(&bad);
    encode_frame(&body(&fact("t", "k", 1e6 + 2.0)), &mut buf);
    buf.truncate(buf.len() - 3);
    fs::write(&path, &buf).unwrap();

    let whole = packed_facts(&path, ReadOptions::default(), false);
    assert_eq!(whole.0.len(), n - 5 + 1);
    assert_eq!(whole.1.len(), 5);
    assert!(whole
        .0
        .iter()
        .any(|f| f.starts_with("big ") || f.contains("\"big\"")));
    let mid_frame = boundaries[2] + 5;
    for len in boundaries
        .iter()
        .copied()
        .chain([mid_frame, buf.len() as u64 + 9])
    {
        let opts = trusting(&path, len);
        assert_eq!(packed_facts(&path, opts, true), whole, "prefix {len}");
        assert_eq!(packed_facts(&path, opts, false), whole, "prefix {len}");
    }
}
