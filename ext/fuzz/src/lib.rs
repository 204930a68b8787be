//! The properties the fuzz targets check, shared with the stable regression test
//! `ext/ledger_core/tests/fuzz_regressions.rs` (which includes this file by path), so a
//! corpus input replayed under `cargo test` is held to exactly what the fuzzer checked.
//!
//! Only `ledger_core` and `std` are used here: the regression test builds on stable
//! without libFuzzer.

#![allow(clippy::missing_panics_doc)]

use ledger_core::{
    decode_fact_body, decode_frame_at, encode_fact_body, encode_frame, parse, scan_frames,
    write_canonical, write_json, Durability, Error, FactRecord, Json, Tail, Wal, FRAME_CRC_SIZE,
    FRAME_HEADER_SIZE, MAX_NESTING,
};

/// Frame scanner: the good prefix is exactly a run of well-formed frames, re-encoding its
/// bodies gives back its bytes, the single-frame reader agrees frame by frame, and a good
/// frame appended after the cut is found again (what WAL recovery relies on).
pub fn check_frame_decoder(data: &[u8]) {
    let scan = scan_frames(data);
    assert!(scan.valid_len <= data.len());
    assert_eq!(scan.tail == Tail::Clean, scan.valid_len == data.len());

    let mut offset = 0;
    let mut reencoded = Vec::with_capacity(scan.valid_len);
    for body in &scan.bodies {
        assert_eq!(body.start, offset + FRAME_HEADER_SIZE);
        let (same, next) = decode_frame_at(data, offset).expect("scanned frame must decode");
        assert_eq!(&same, body);
        assert_eq!(next, body.end + FRAME_CRC_SIZE);
        encode_frame(&data[body.clone()], &mut reencoded);
        offset = next;
    }
    assert_eq!(offset, scan.valid_len);
    assert_eq!(reencoded.as_slice(), &data[..scan.valid_len]);
    if scan.tail != Tail::Clean {
        assert!(decode_frame_at(data, scan.valid_len).is_none());
    }

    let mut repaired = data[..scan.valid_len].to_vec();
    encode_frame(b"after-recovery", &mut repaired);
    let again = scan_frames(&repaired);
    assert_eq!(again.tail, Tail::Clean);
    assert_eq!(again.bodies.len(), scan.bodies.len() + 1);
    let last = again.bodies.last().expect("one frame at least");
    assert_eq!(&repaired[last.clone()], b"after-recovery");
}

/// WAL recovery on a real file: `Wal::open` cuts exactly where the in-memory scanner
/// stops, reports the cut, and a frame appended afterwards survives the next open.
pub fn check_wal_recovery(data: &[u8], scratch: &std::path::Path) {
    let path = scratch.join("fuzz.wal");
    std::fs::write(&path, data).expect("write scratch WAL");
    let scan = scan_frames(data);

    let mut wal = Wal::open(&path, Durability::Flush).expect("open must recover any bytes");
    let rec = *wal.recovery();
    assert_eq!(rec.original_len, data.len() as u64);
    assert_eq!(rec.valid_len, scan.valid_len as u64);
    assert_eq!(rec.truncated_bytes, (data.len() - scan.valid_len) as u64);
    assert_eq!(rec.tail, scan.tail);
    wal.append_body(b"after-recovery")
        .expect("append after recovery");
    wal.close().expect("close");

    let reopened = Wal::open(&path, Durability::Flush).expect("reopen");
    assert_eq!(reopened.recovery().truncated_bytes, 0);
    drop(reopened);
    let bytes = std::fs::read(&path).expect("read back");
    let rescan = scan_frames(&bytes);
    assert_eq!(rescan.tail, Tail::Clean);
    assert_eq!(rescan.bodies.len(), scan.bodies.len() + 1);
    assert_eq!(&bytes[..scan.valid_len], &data[..scan.valid_len]);
}

/// Strict parser: never panics; what it accepts re-encodes (both orders) to text that
/// parses back to the same model, and encoding is a fixpoint after one round.
pub fn check_json_parse(data: &[u8]) {
    let Ok(value) = parse(data) else { return };
    let mut text = Vec::new();
    match write_json(&value, &mut text) {
        Ok(()) => {}
        // The parser allows two more levels than the encoder (a fact body wraps the value).
        Err(Error::Nesting(depth)) => {
            assert!(depth > MAX_NESTING);
            assert!(text.is_empty());
            return;
        }
        Err(e) => panic!("parsed value failed to encode: {e}"),
    }
    let back = parse(&text).expect("encoder output must parse");
    assert!(
        same_json(&back, &value),
        "insertion-order round trip changed the value"
    );
    let mut text2 = Vec::new();
    write_json(&back, &mut text2).expect("re-encode");
    assert_eq!(text, text2);

    let mut canon = Vec::new();
    write_canonical(&value, &mut canon).expect("canonical encode");
    let canon_back = parse(&canon).expect("canonical output must parse");
    assert!(same_json(&canon_back, &canonical_model(&value)));
    let mut canon2 = Vec::new();
    write_canonical(&canon_back, &mut canon2).expect("canonical re-encode");
    assert_eq!(canon, canon2);
}

/// Encoders on arbitrary in-memory values: NaN/Infinity and over-deep nesting are refused
/// with the right error and leave the output buffer as it was; everything else parses
/// back to the same value (Symbols read back as Strings, canonical order sorts keys and
/// keeps the last duplicate).
pub fn check_json_encode(data: &[u8]) {
    let mut src = Source::new(data);
    let wrap = usize::from(src.byte() % 128);
    let mut value = src.json(0);
    for _ in 0..wrap {
        value = Json::Array(vec![value]);
    }

    for canonical in [false, true] {
        // Canonical order drops all but the last of duplicate keys, so a NaN or a deep
        // container under an earlier duplicate is never written.
        let written = if canonical {
            canonical_model(&value)
        } else {
            value.clone()
        };
        let total_depth = depth(&written);
        let mut out = b"prefix".to_vec();
        let result = if canonical {
            write_canonical(&value, &mut out)
        } else {
            write_json(&value, &mut out)
        };
        match result {
            Err(Error::NonFinite(f)) => {
                assert!(!f.is_finite());
                assert!(has_non_finite(&written));
                assert_eq!(out, b"prefix");
            }
            Err(Error::Nesting(d)) => {
                assert!(total_depth > MAX_NESTING && d > MAX_NESTING);
                assert_eq!(out, b"prefix");
            }
            Err(e) => panic!("unexpected encode error: {e}"),
            Ok(()) => {
                assert!(!has_non_finite(&written));
                assert!(total_depth <= MAX_NESTING);
                let back = parse(&out[6..]).expect("encoder output must parse");
                let expected = if canonical {
                    canonical_model(&plain(&value))
                } else {
                    plain(&value)
                };
                assert!(
                    same_json(&back, &expected),
                    "encode/parse changed the value"
                );
            }
        }
    }
}

/// Fact body decoder on arbitrary bytes: never panics; a decoded record encodes again
/// (unless its value is nested past the encoder's limit) and decodes to the same record,
/// and the second encoding is a fixpoint.
pub fn check_fact_body(data: &[u8]) {
    let Ok(record) = decode_fact_body(data) else {
        return;
    };
    let mut body = Vec::new();
    match encode_fact_body(&record, &mut body) {
        Ok(()) => {}
        Err(Error::Nesting(_)) => return,
        Err(e) => panic!("decoded record failed to encode: {e}"),
    }
    let again = decode_fact_body(&body).expect("encoded body must decode");
    assert!(
        same_record(&again, &record),
        "body round trip changed the record"
    );
    let mut body2 = Vec::new();
    encode_fact_body(&again, &mut body2).expect("re-encode");
    assert_eq!(body, body2);
}

/// Fact records built from arbitrary bytes (Symbols, big integers, odd floats and
/// strings included) survive encode → decode exactly, Symbols restored.
pub fn check_fact_record(data: &[u8]) {
    let mut src = Source::new(data);
    let record = FactRecord {
        id: src.string(),
        store: src.string(),
        key: src.string(),
        value: src.json_unique_keys(0),
        value_hash: src.opt_string(),
        causation: src.opt_string(),
        transaction_time: src.finite_float(),
        valid_time: if src.byte().is_multiple_of(2) {
            None
        } else {
            Some(src.finite_float())
        },
        schema_version: src.int(),
        producer: src.json_unique_keys(0),
        derivation: src.json_unique_keys(0),
    };
    let mut body = Vec::new();
    encode_fact_body(&record, &mut body).expect("finite, shallow record must encode");
    let back = decode_fact_body(&body).expect("encoded body must decode");
    assert!(
        same_record(&back, &record),
        "fact record round trip changed it"
    );
}

// --- comparison helpers -------------------------------------------------------------

/// Structural equality with Floats compared bit for bit (so -0.0 != 0.0).
pub fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Float(x), Json::Float(y)) => x.to_bits() == y.to_bits(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same_json(v1, v2))
        }
        _ => a == b,
    }
}

fn same_record(a: &FactRecord, b: &FactRecord) -> bool {
    a.id == b.id
        && a.store == b.store
        && a.key == b.key
        && same_json(&a.value, &b.value)
        && a.value_hash == b.value_hash
        && a.causation == b.causation
        && a.transaction_time.to_bits() == b.transaction_time.to_bits()
        && a.valid_time.map(f64::to_bits) == b.valid_time.map(f64::to_bits)
        && a.schema_version == b.schema_version
        && same_json(&a.producer, &b.producer)
        && same_json(&a.derivation, &b.derivation)
}

/// What parsing encoder output yields: Symbols become Strings, BigInts that fit i64
/// become Ints.
fn plain(v: &Json) -> Json {
    match v {
        Json::Sym(s) => Json::Str(s.clone()),
        Json::BigInt(t) => t.parse::<i64>().map_or_else(|_| v.clone(), Json::Int),
        Json::Array(items) => Json::Array(items.iter().map(plain).collect()),
        Json::Object(members) => {
            Json::Object(members.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
        }
        _ => v.clone(),
    }
}

/// Keys sorted bytewise at every depth, the last of duplicate keys kept.
fn canonical_model(v: &Json) -> Json {
    match v {
        Json::Array(items) => Json::Array(items.iter().map(canonical_model).collect()),
        Json::Object(members) => {
            let mut kept: Vec<(String, Json)> = Vec::new();
            for (k, val) in members {
                kept.retain(|(seen, _)| seen != k);
                kept.push((k.clone(), canonical_model(val)));
            }
            kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            Json::Object(kept)
        }
        _ => v.clone(),
    }
}

fn depth(v: &Json) -> usize {
    match v {
        Json::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Json::Object(members) => 1 + members.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

fn has_non_finite(v: &Json) -> bool {
    match v {
        Json::Float(f) => !f.is_finite(),
        Json::Array(items) => items.iter().any(has_non_finite),
        Json::Object(members) => members.iter().any(|(_, v)| has_non_finite(v)),
        _ => false,
    }
}

// --- value generation ----------------------------------------------------------------

/// Turns fuzzer bytes into values; reads past the end as zeros, so every input is usable.
struct Source<'a> {
    data: &'a [u8],
    pos: usize,
}

const MAX_GEN_DEPTH: usize = 6;
const MAX_GEN_ITEMS: u8 = 5;

impl<'a> Source<'a> {
    fn new(data: &'a [u8]) -> Self {
        Source { data, pos: 0 }
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, _| (acc << 8) | u64::from(self.byte()))
    }

    fn int(&mut self) -> i64 {
        i64::from_be_bytes(self.u64().to_be_bytes())
    }

    fn float(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }

    fn finite_float(&mut self) -> f64 {
        let f = self.float();
        if f.is_finite() {
            f
        } else {
            0.5
        }
    }

    /// Mostly interesting characters: quotes, escapes, controls, multi-byte, astral.
    fn string(&mut self) -> String {
        let len = self.byte() % 8;
        (0..len)
            .map(|_| match self.byte() % 10 {
                0 => '"',
                1 => '\\',
                2 => char::from(self.byte() % 0x20),
                3 => 'é',
                4 => '\u{2028}',
                5 => '😀',
                6 => '\u{7f}',
                7 => char::from_u32(u32::from(self.byte()) << 8 | u32::from(self.byte()))
                    .unwrap_or('?'),
                _ => char::from(b'a' + self.byte() % 26),
            })
            .collect()
    }

    fn opt_string(&mut self) -> Option<String> {
        if self.byte().is_multiple_of(3) {
            None
        } else {
            Some(self.string())
        }
    }

    fn json(&mut self, level: usize) -> Json {
        self.json_with(level, false)
    }

    fn json_unique_keys(&mut self, level: usize) -> Json {
        let v = self.json_with(level, true);
        if has_non_finite(&v) {
            Json::Null
        } else {
            v
        }
    }

    fn json_with(&mut self, level: usize, unique: bool) -> Json {
        let kinds = if level >= MAX_GEN_DEPTH { 8 } else { 10 };
        match self.byte() % kinds {
            0 => Json::Null,
            1 => Json::Bool(self.byte() % 2 == 1),
            2 => Json::Int(self.int()),
            3 => {
                // Beyond i64 on purpose: 20 digits at least.
                let digits: String = (0..20 + usize::from(self.byte() % 10))
                    .map(|i| {
                        char::from(
                            b'0' + if i == 0 {
                                1 + self.byte() % 9
                            } else {
                                self.byte() % 10
                            },
                        )
                    })
                    .collect();
                Json::BigInt(if self.byte().is_multiple_of(2) {
                    digits
                } else {
                    format!("-{digits}")
                })
            }
            4 => Json::Float(if unique {
                self.finite_float()
            } else {
                self.float()
            }),
            5 => Json::Float(f64::from(self.byte()) / 8.0 - 4.0),
            6 => Json::Str(self.string()),
            7 => Json::Sym(self.string()),
            8 => {
                let n = self.byte() % MAX_GEN_ITEMS;
                Json::Array((0..n).map(|_| self.json_with(level + 1, unique)).collect())
            }
            _ => {
                let n = self.byte() % MAX_GEN_ITEMS;
                let mut members: Vec<(String, Json)> = Vec::new();
                for _ in 0..n {
                    let k = self.string();
                    if unique && members.iter().any(|(seen, _)| *seen == k) {
                        continue;
                    }
                    let v = self.json_with(level + 1, unique);
                    members.push((k, v));
                }
                Json::Object(members)
            }
        }
    }
}
