//! The salvage scanner, recovery modes, the quarantine sidecar and the ledger lock.

mod common;

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod props;

use std::fs;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::{body, fact, ids, TempDir};
use ledger_core::wal::lock::{lock_path_for, LedgerLock};
use ledger_core::wal::quarantine::{iso8601_millis, quarantine, quarantine_dir_for, receipt_json};
use ledger_core::wal::salvage::{self, FileSource, Segment, SliceSource, Verdict};
use ledger_core::{encode_frame, replay, Durability, Error, Reason, RecoveryMode, Wal, WalOptions};

/// Twenty fact frames; returns the bytes and each frame's (offset, size).
fn twenty() -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    for i in 0..20 {
        let at = buf.len();
        encode_frame(&body(&fact(&format!("f{i:02}"), "k", i as f64)), &mut buf);
        frames.push((at, buf.len() - at));
    }
    (buf, frames)
}

fn scan_bytes(bytes: &[u8]) -> salvage::Scan {
    salvage::scan(&mut SliceSource(bytes), |_, _| Verdict::Keep).unwrap()
}

fn all_ids_but(skip: &[usize]) -> Vec<String> {
    (0..20)
        .filter(|i| !skip.contains(i))
        .map(|i| format!("f{i:02}"))
        .collect()
}

#[test]
fn a_damaged_frame_anywhere_costs_only_itself_and_its_bytes_go_to_quarantine() {
    let (clean, frames) = twenty();
    for (i, &(at, size)) in frames.iter().enumerate() {
        // Inside the body, in the length header, in the CRC.
        for (offset, mask) in [(at + 12, 0x01u8), (at + 2, 0x40), (at + size - 1, 0xFF)] {
            let dir = TempDir::new("resync");
            let path = dir.join("ledger.wal");
            let mut damaged = clean.clone();
            damaged[offset] ^= mask;
            fs::write(&path, &damaged).unwrap();
            let wal = Wal::open(&path, Durability::Flush).unwrap();
            let rec = wal.recovery().clone();
            drop(wal);
            assert_eq!(rec.quarantined.len(), 1, "frame {i} offset {offset}");
            let span = &rec.quarantined[0];
            assert_eq!((span.offset, span.length), (at as u64, size as u64));
            assert_eq!(
                fs::read(span.quarantine_path.as_ref().unwrap()).unwrap(),
                &damaged[at..at + size]
            );
            assert_eq!(rec.salvaged_frames, (19 - i) as u64);
            let mut expected = clean[..at].to_vec();
            expected.extend_from_slice(&clean[at + size..]);
            assert_eq!(fs::read(&path).unwrap(), expected);
            assert_eq!(ids(&replay(&path).unwrap()), all_ids_but(&[i]));
        }
    }
}

#[test]
fn span_reasons_follow_the_classification_rule() {
    let (clean, frames) = twenty();
    let (at, size) = frames[5];
    let mut body_flip = clean.clone();
    body_flip[at + 20] ^= 1;
    let mut length_flip = clean.clone();
    length_flip[at + 3] ^= 0x08;
    let mut garbage = clean[..at].to_vec();
    garbage.extend_from_slice(b"\x00\x00\x00\x03junk");
    garbage.extend_from_slice(&clean[at..]);
    let torn = &clean[..frames[19].0 + 9];
    let mut oversized = clean.clone();
    oversized.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, b'x']);
    let cases: [(&[u8], Reason); 5] = [
        (&body_flip, Reason::BadCrc),
        (&length_flip, Reason::Garbage),
        (&garbage, Reason::Garbage),
        (torn, Reason::Torn),
        (&oversized, Reason::Oversized),
    ];
    for (bytes, reason) in cases {
        let scan = scan_bytes(bytes);
        let damage: Vec<_> = scan.damage().collect();
        assert_eq!(damage.len(), 1);
        assert_eq!(damage[0].2, reason);
    }
    let (offset, length, _) = scan_bytes(&body_flip).first_damage().unwrap();
    assert_eq!((offset, length), (at as u64, size as u64));
}

#[test]
fn a_run_of_zero_bytes_is_one_span_up_to_the_next_valid_frame_or_the_end() {
    // Empty frames have a matching CRC (crc32 of nothing is 0), but no fact is shorter
    // than 2 bytes: a zero run is one damage span, however long.
    let (clean, frames) = twenty();
    let mut tail = clean.clone();
    tail.extend_from_slice(&[0u8; 4096]);
    let (at, _) = frames[9];
    let mut middle = clean[..at].to_vec();
    middle.extend_from_slice(&[0u8; 1000]);
    middle.extend_from_slice(&clean[at..]);
    let mut one_byte = clean.clone();
    encode_frame(b"x", &mut one_byte);
    for (bytes, offset, length) in [
        (&tail, clean.len(), 4096),
        (&middle, at, 1000),
        (&one_byte, clean.len(), 9),
    ] {
        let damage: Vec<_> = scan_bytes(bytes).damage().collect();
        assert_eq!(
            damage,
            vec![(offset as u64, length as u64, Reason::Garbage)]
        );
    }

    let dir = TempDir::new("zerotail");
    let path = dir.join("zero.wal");
    fs::write(&path, &tail).unwrap();
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    let rec = wal.recovery();
    assert_eq!(rec.tail, Some(Reason::Garbage));
    assert_eq!(rec.damaged_spans, 1);
    assert_eq!(rec.quarantined.len(), 1);
    assert_eq!(
        (rec.quarantined[0].offset, rec.quarantined[0].length),
        (clean.len() as u64, 4096)
    );
    let receipts = fs::read_dir(quarantine_dir_for(&path)).unwrap().count();
    assert_eq!(receipts, 2, "one .bin and one .json");
    drop(wal);
    assert_eq!(fs::read(&path).unwrap(), clean);

    // A file of nothing but zeros is a ledger whose bytes are all damage.
    let zeros = dir.join("zeros.wal");
    fs::write(&zeros, [0u8; 64]).unwrap();
    let wal = Wal::open(&zeros, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().damaged_spans, 1);
    assert_eq!(wal.recovery().quarantined[0].length, 64);
    drop(wal);
    assert_eq!(fs::metadata(&zeros).unwrap().len(), 0);
}

#[test]
fn a_file_window_scans_exactly_like_the_bytes_in_memory_across_refills() {
    // About 3 MiB, so the 1 MiB window refills many times, damaged in several places.
    let mut bytes = Vec::new();
    let mut starts = Vec::new();
    for i in 0..9000 {
        starts.push(bytes.len());
        encode_frame(
            &body(&fact(&format!("id-{i}"), "key", i as f64)),
            &mut bytes,
        );
    }
    for &i in &[1, 2999, 3000, 6543] {
        bytes[starts[i] + 30] ^= 0x55;
    }
    let junk: Vec<u8> = (0..70_000u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let at = starts[7000];
    bytes.splice(at..at, junk);
    let dir = TempDir::new("window");
    let path = dir.join("big.wal");
    fs::write(&path, &bytes).unwrap();
    let file = fs::File::open(&path).unwrap();
    let from_file = salvage::scan(&mut FileSource::new(&file, bytes.len() as u64), |_, _| {
        Verdict::Keep
    })
    .unwrap();
    let in_memory = scan_bytes(&bytes);
    assert_eq!(from_file, in_memory);
    // Frames 2999 and 3000 are adjacent: one span.
    assert_eq!(in_memory.damage().count(), 4);
    let kept: u64 = in_memory
        .segments
        .iter()
        .map(|s| match s {
            Segment::Frames { count, .. } => *count,
            Segment::Damage { .. } => 0,
        })
        .sum();
    assert_eq!(kept, 9000 - 4);
}

#[test]
fn what_is_not_a_ledger_is_refused_untouched() {
    let dir = TempDir::new("notaledger");
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10".to_vec();
    let random: Vec<u8> = (0..4096u32)
        .map(|n| (n.wrapping_mul(2_246_822_519) >> 7) as u8)
        .collect();
    for bytes in [b"shopping list\n".to_vec(), png, random, b"hi".to_vec()] {
        let path = dir.join("notes.txt");
        fs::write(&path, &bytes).unwrap();
        match Wal::open(&path, Durability::Flush) {
            Err(Error::NotALedger { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected NotALedger, got {other:?}"),
        }
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert!(!lock_path_for(&path).exists());
        assert!(!quarantine_dir_for(&path).exists());
    }
    // One torn first frame is a ledger (a crash during the very first write).
    let path = dir.join("torn.wal");
    fs::write(&path, b"\x00\x00\x01\x00{\"id\":").unwrap();
    let wal = Wal::open(&path, Durability::Flush).unwrap();
    assert_eq!(wal.recovery().tail, Some(Reason::Torn));
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn strict_refuses_damage_and_changes_nothing() {
    let (mut bytes, frames) = twenty();
    bytes[frames[7].0 + 20] ^= 1;
    let dir = TempDir::new("strict");
    let path = dir.join("ledger.wal");
    fs::write(&path, &bytes).unwrap();
    let options = WalOptions {
        recovery: RecoveryMode::Strict,
        ..WalOptions::default()
    };
    match Wal::open_with(&path, options) {
        Err(Error::Corrupt { offset, reason, .. }) => {
            assert_eq!((offset, reason), (frames[7].0 as u64, Reason::BadCrc));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert!(!quarantine_dir_for(&path).exists());
}

#[test]
fn truncate_keeps_the_prefix_and_quarantines_the_rest() {
    let (mut bytes, frames) = twenty();
    bytes[frames[7].0 + 20] ^= 1;
    let dir = TempDir::new("truncate");
    let path = dir.join("ledger.wal");
    fs::write(&path, &bytes).unwrap();
    let options = WalOptions {
        recovery: RecoveryMode::Truncate,
        ..WalOptions::default()
    };
    let wal = Wal::open_with(&path, options).unwrap();
    let reasons: Vec<_> = wal
        .recovery()
        .quarantined
        .iter()
        .map(|s| (s.offset, s.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (frames[7].0 as u64, Reason::BadCrc),
            (frames[8].0 as u64, Reason::AfterDamage)
        ]
    );
    assert_eq!(fs::read(&path).unwrap(), &bytes[..frames[7].0]);
}

#[test]
fn read_only_recovers_in_memory_and_refuses_writes() {
    let (mut bytes, frames) = twenty();
    bytes[frames[3].0 + 20] ^= 1;
    let dir = TempDir::new("readonly");
    let path = dir.join("ledger.wal");
    fs::write(&path, &bytes).unwrap();
    let options = WalOptions {
        read_only: true,
        ..WalOptions::default()
    };
    let mut wal = Wal::open_with(&path, options).unwrap();
    assert!(wal.recovery().read_only);
    assert_eq!(wal.recovery().quarantined[0].quarantine_path, None);
    assert!(matches!(
        wal.append_body(b"{}"),
        Err(Error::ReadOnly { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert!(!quarantine_dir_for(&path).exists());
    assert_eq!(ids(&replay(&path).unwrap()), all_ids_but(&[3]));
    wal.close().unwrap();
}

#[test]
fn a_stale_recovery_tmp_is_deleted_and_the_old_file_stays_whole() {
    let (bytes, _) = twenty();
    let dir = TempDir::new("stale");
    let path = dir.join("ledger.wal");
    fs::write(&path, &bytes).unwrap();
    // A crash after the tmp was written but before the rename leaves both.
    let tmp = dir.join("ledger.wal.recovery.tmp");
    fs::write(&tmp, &bytes[..100]).unwrap();
    drop(Wal::open(&path, Durability::Flush).unwrap());
    assert!(!tmp.exists());
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn quarantine_reuses_an_identical_copy_and_never_overwrites_another() {
    let dir = TempDir::new("quarantine");
    let file = dir.join("ledger.wal");
    let first = quarantine(&file, 42, b"damaged", Reason::Garbage).unwrap();
    assert_eq!(first.file_name().unwrap(), "00000000000000000042-7.bin");
    assert_eq!(
        quarantine(&file, 42, b"damaged", Reason::Garbage).unwrap(),
        first
    );
    let other = quarantine(&file, 42, b"DAMAGED", Reason::Garbage).unwrap();
    assert_eq!(other.file_name().unwrap(), "00000000000000000042-7-1.bin");
    assert_eq!(fs::read(&first).unwrap(), b"damaged");
    let receipt =
        fs::read_to_string(quarantine_dir_for(&file).join("00000000000000000042-7.json")).unwrap();
    assert!(receipt.starts_with(&format!(
        "{{\"file\":\"{}\",\"offset\":42,\"length\":7,\"reason\":\"garbage\",",
        file.display()
    )));
    assert!(receipt.ends_with("\"data\":\"00000000000000000042-7.bin\"}\n"));
}

#[test]
fn receipts_spell_time_like_ruby_iso8601_with_milliseconds() {
    let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123) + Duration::from_micros(999);
    assert_eq!(iso8601_millis(at), "2023-11-14T22:13:20.123Z");
    assert_eq!(
        iso8601_millis(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        "2000-02-29T00:00:00.000Z"
    );
    let json = receipt_json(
        Path::new("/a/./b/../ledger.wal"),
        1,
        2,
        Reason::Torn,
        "ab",
        "s",
        UNIX_EPOCH,
    );
    assert_eq!(
        String::from_utf8(json).unwrap(),
        "{\"file\":\"/a/ledger.wal\",\"offset\":1,\"length\":2,\"reason\":\"torn\",\"quarantined_at\":\"1970-01-01T00:00:00.000Z\",\"sha256\":\"ab\",\"data\":\"s.bin\"}\n"
    );
}

#[test]
fn one_writer_holds_the_lock_and_readers_share_it() {
    let dir = TempDir::new("lock");
    let wal = dir.join("ledger.wal");
    let writer = LedgerLock::exclusive(&wal).unwrap();
    assert_eq!(
        fs::read_to_string(lock_path_for(&wal)).unwrap(),
        format!("{}\n", std::process::id())
    );
    match LedgerLock::exclusive(&wal) {
        Err(Error::Locked {
            pid, reader: false, ..
        }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(matches!(
        LedgerLock::shared(&wal),
        Err(Error::Locked { reader: true, .. })
    ));
    drop(writer);
    let r1 = LedgerLock::shared(&wal).unwrap().unwrap();
    let r2 = LedgerLock::shared(&wal).unwrap().unwrap();
    let refused = LedgerLock::exclusive(&wal).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("{} is locked by a read-only open", wal.display())
    );
    drop((r1, r2));
    assert!(LedgerLock::exclusive(&wal).is_ok());
}

#[test]
fn a_second_wal_on_the_same_file_is_refused_until_the_first_closes() {
    let dir = TempDir::new("twice");
    let path = dir.join("ledger.wal");
    let mut first = Wal::open(&path, Durability::Flush).unwrap();
    assert!(matches!(
        Wal::open(&path, Durability::Flush),
        Err(Error::Locked { .. })
    ));
    first.close().unwrap();
    assert!(Wal::open(&path, Durability::Flush).is_ok());
}

/// xorshift64*: deterministic mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_damage_to_a_real_wal_never_loses_a_valid_frame() {
    // The wal_recovery fuzz property on mutations of a real WAL (random bytes almost
    // never hold valid frames): flips, inserted junk, deleted runs, cut tails.
    let (clean, _) = twenty();
    let dir = TempDir::new("mutate");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let mut bytes = clean.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] ^= 1 << rng.below(8),
                1 => {
                    let junk: Vec<u8> = (0..1 + rng.below(40)).map(|_| rng.next() as u8).collect();
                    bytes.splice(at..at, junk);
                }
                2 => {
                    let end = (at + 1 + rng.below(60)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => bytes.truncate(at),
            }
            if bytes.is_empty() {
                break;
            }
        }
        props::check_wal_recovery(&bytes, dir.path());
    }
}
