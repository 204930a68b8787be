//! Replay = snapshot ∪ WAL delta, including the data written by igniter-ledger 0.5.2.

mod common;

use std::fs;

use common::{body, fact, ids, TempDir};
use ledger_core::{
    decode_bodies_parallel, encode_frame, parse, read_snapshot, replay, scan_frames, Durability,
    Json, Wal,
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
