//! The properties the fuzz targets check, shared with the stable regression test
//! `ext/ledger_core/tests/fuzz_regressions.rs` (which includes this file by path), so a
//! corpus input replayed under `cargo test` is held to exactly what the fuzzer checked.
//!
//! Only `ledger_core` and `std` are used here: the regression test builds on stable
//! without libFuzzer.

#![allow(clippy::missing_panics_doc)]

pub mod log_index;

use ledger_core::codec::compact_delta::{self as compact, CompactEncoder, BATCH_SIZE};
use ledger_core::codec::json_crc32;
use ledger_core::codec::msgpack::{self as msgpack, Mp, MpError};
use ledger_core::codec::segment_salvage::{Kept, Span};
use ledger_core::value_hash;
use ledger_core::wal::salvage;
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

/// WAL recovery on a real file, under the "nothing lost" rule: `Wal::open` either refuses
/// a file that is not a ledger and leaves it (and its directory) untouched, or keeps
/// exactly the frames the in-memory salvage scanner keeps — every frame of the good
/// prefix and every valid frame found after damage — copies every other byte into the
/// quarantine directory, and reports it; an append afterwards survives the next open,
/// which finds nothing more to do.
pub fn check_wal_recovery(data: &[u8], scratch: &std::path::Path) {
    let path = scratch.join("fuzz.wal");
    let quarantine_dir = scratch.join("fuzz.wal.quarantine");
    let lock = scratch.join("fuzz.wal.lock");
    let _ = std::fs::remove_dir_all(&quarantine_dir);
    let _ = std::fs::remove_file(&lock);
    std::fs::write(&path, data).expect("write scratch WAL");
    let scan = salvage::scan(&mut salvage::SliceSource(data), |_, _| {
        salvage::Verdict::Keep
    })
    .expect("in-memory scan");
    let prefix = scan_frames(data);

    let mut wal = match Wal::open(&path, Durability::Flush) {
        Ok(wal) => wal,
        Err(Error::NotALedger { .. }) => {
            assert!(!data.is_empty());
            assert!(!scan.frame_at_zero && !scan.has_frames());
            assert_eq!(std::fs::read(&path).expect("read back"), data);
            assert!(!quarantine_dir.exists() && !lock.exists());
            return;
        }
        Err(e) => panic!("open must recover any ledger: {e}"),
    };
    let rec = wal.recovery().clone();
    let mut kept = Vec::new();
    let mut quarantined = Vec::new();
    for seg in &scan.segments {
        let (at, len) = (seg.offset() as usize, seg.length() as usize);
        match seg {
            salvage::Segment::Frames { .. } => kept.extend_from_slice(&data[at..at + len]),
            salvage::Segment::Damage { .. } => quarantined.push((at, len)),
        }
    }
    assert_eq!(rec.original_len, data.len() as u64);
    assert_eq!(rec.valid_len, kept.len() as u64);
    assert_eq!(rec.truncated_bytes, (data.len() - kept.len()) as u64);
    assert_eq!(rec.damaged_spans, quarantined.len() as u64);
    assert_eq!(rec.tail, scan.first_damage().map(|(_, _, r)| r));
    let on_disk = std::fs::read(&path).expect("read back");
    assert_eq!(on_disk, kept);
    // The good prefix survives byte for byte, and nothing valid was cut. A body shorter
    // than 2 bytes (an empty frame: a run of zeros) is no fact, so the prefix ends there.
    let good = prefix
        .bodies
        .iter()
        .find(|b| b.len() < 2)
        .map_or(prefix.valid_len, |b| b.start - FRAME_HEADER_SIZE);
    assert_eq!(&on_disk[..good], &data[..good]);
    for (span, &(at, len)) in rec.quarantined.iter().zip(&quarantined) {
        assert_eq!((span.offset, span.length), (at as u64, len as u64));
        let copy =
            std::fs::read(span.quarantine_path.as_ref().expect("copied")).expect("read copy");
        assert_eq!(copy, &data[at..at + len]);
        assert!(
            salvage::resync(&mut salvage::SliceSource(data), at as u64 + 1).expect("resync")
                >= (at + len) as u64
        );
    }
    wal.append_body(b"after-recovery")
        .expect("append after recovery");
    wal.close().expect("close");

    let reopened = Wal::open(&path, Durability::Flush).expect("reopen");
    assert_eq!(reopened.recovery().truncated_bytes, 0);
    assert_eq!(reopened.recovery().damaged_spans, 0);
    drop(reopened);
    let bytes = std::fs::read(&path).expect("read back");
    let rescan = scan_frames(&bytes);
    assert_eq!(rescan.tail, Tail::Clean);
    let frames: u64 = scan
        .segments
        .iter()
        .map(|s| match s {
            salvage::Segment::Frames { count, .. } => *count,
            salvage::Segment::Damage { .. } => 0,
        })
        .sum();
    assert_eq!(rescan.bodies.len() as u64, frames + 1);
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
    let record = Source::new(data).record();
    let mut body = Vec::new();
    encode_fact_body(&record, &mut body).expect("finite, shallow record must encode");
    let back = decode_fact_body(&body).expect("encoded body must decode");
    assert!(
        same_record(&back, &record),
        "fact record round trip changed it"
    );
}

// --- segment codecs --------------------------------------------------------------------

/// `json_crc32` segment decoder on arbitrary bytes: never panics; it stops where the frame
/// scanner stops; its facts are exactly the decodable bodies of the good frames, in order;
/// `count_facts` agrees; the good prefix alone decodes to the same facts with a clean
/// tail; and the facts written again as a segment decode to themselves.
pub fn check_codec_json_crc32(data: &[u8]) {
    check_json_crc32_segment(data);
    check_json_crc32_segment(&reframed(data, false));
}

fn check_json_crc32_segment(data: &[u8]) {
    let scan = scan_frames(data);
    let decoded = json_crc32::decode_segment(data);
    assert_eq!(
        (decoded.valid_len, decoded.tail),
        (scan.valid_len, scan.tail)
    );
    assert_eq!(
        json_crc32::count_facts(data),
        (scan.bodies.len() as u64, scan.valid_len, scan.tail)
    );
    let decode_all = || -> Vec<FactRecord> {
        scan.bodies
            .iter()
            .filter_map(|r| decode_fact_body(&data[r.clone()]).ok())
            .collect()
    };
    let expected = decode_all();
    // A body without an id gets a fresh one on every decode (as in 0.5.2); the ids
    // that two decodes agree on were in the bytes and must come through.
    let given: Vec<bool> = expected
        .iter()
        .zip(decode_all())
        .map(|(a, b)| a.id == b.id)
        .collect();
    let same_as_bodies = |facts: &[FactRecord]| {
        same_facts_but_id(facts, &expected)
            && facts
                .iter()
                .zip(&expected)
                .zip(&given)
                .all(|((f, e), &given)| !given || f.id == e.id)
    };
    assert!(
        same_as_bodies(&decoded.facts),
        "facts differ from the bodies"
    );

    let prefix = json_crc32::decode_segment(&data[..scan.valid_len]);
    assert_eq!(
        (prefix.valid_len, prefix.tail),
        (scan.valid_len, Tail::Clean)
    );
    assert!(
        same_as_bodies(&prefix.facts),
        "good prefix decodes differently"
    );

    let mut segment = Vec::new();
    let mut kept = Vec::new();
    for fact in &decoded.facts {
        let before = segment.len();
        match json_crc32::encode_fact_frame(fact, &mut segment) {
            Ok(()) => kept.push(fact.clone()),
            // A value nested past the encoder's limit is refused, the segment untouched.
            Err(Error::Nesting(_) | Error::FrameTooLarge(_)) => assert_eq!(segment.len(), before),
            Err(e) => panic!("decoded fact failed to encode: {e}"),
        }
    }
    let again = json_crc32::decode_segment(&segment);
    assert_eq!((again.valid_len, again.tail), (segment.len(), Tail::Clean));
    assert!(
        same_records(&again.facts, &kept),
        "re-encoded segment changed its facts"
    );

    let salvaged = json_crc32::salvage_segment(data);
    check_partition(data, &salvaged.frames, &salvaged.spans);
    assert_eq!(salvaged.facts.len(), salvaged.frames.len());
    assert!(salvaged.frames.iter().all(|f| f.facts == 1));
    assert!(
        salvaged.facts.len() >= decoded.facts.len()
            && same_as_bodies(&salvaged.facts[..decoded.facts.len()]),
        "salvage lost a fact of the good prefix"
    );
}

/// Salvage splits the bytes exactly into kept frames and damaged spans: sorted, no
/// overlap, no gap, every kept frame well-formed where it stands, and no two touching
/// spans of one reason (they are merged).
fn check_partition(data: &[u8], frames: &[Kept], spans: &[Span]) {
    let mut parts: Vec<(usize, usize, Option<Span>)> = frames
        .iter()
        .map(|f| (f.offset, f.len, None))
        .chain(spans.iter().map(|s| (s.offset, s.len, Some(*s))))
        .collect();
    parts.sort_by_key(|p| p.0);
    let mut offset = 0;
    let mut last_span: Option<Span> = None;
    for (start, len, span) in parts {
        assert_eq!(start, offset, "salvage left a gap or an overlap");
        assert!(len > 0);
        match span {
            None => {
                let (_, next) = decode_frame_at(data, start).expect("a kept frame is well-formed");
                assert_eq!(next, start + len);
                last_span = None;
            }
            Some(span) => {
                if let Some(prev) = last_span {
                    assert!(prev.reason != span.reason, "touching spans of one reason");
                }
                last_span = Some(span);
            }
        }
        offset += len;
    }
    assert_eq!(offset, data.len(), "salvage did not cover the bytes");
}

/// A bit flipped in one frame (frame, byte and bit picked from `src`) costs only that
/// frame's facts: salvage keeps every fact of the other frames, unless it found a frame
/// embedded in the damaged one's body (then nothing is asserted). `frames`: offset,
/// length and fact count of each frame of `segment`; `expected`: all its facts.
fn flipped_frame_keeps_the_others(
    segment: &[u8],
    frames: &[(usize, usize, usize)],
    src: &mut Source,
    salvage: impl Fn(&[u8]) -> Option<ledger_core::codec::segment_salvage::Salvaged<FactRecord>>,
    expected: &[FactRecord],
) {
    let pick = usize::from(src.byte()) << 8 | usize::from(src.byte());
    if frames.is_empty() {
        return;
    }
    let (start, len, _) = frames[pick % frames.len()];
    let mut damaged = segment.to_vec();
    damaged[start + (pick / frames.len()) % len] ^= 1 << (pick % 8);
    let Some(salvaged) = salvage(&damaged) else {
        return;
    };
    check_partition(&damaged, &salvaged.frames, &salvaged.spans);
    if salvaged
        .frames
        .iter()
        .any(|f| f.offset > start && f.offset < start + len)
    {
        return;
    }
    let mut first = 0;
    let mut want = Vec::new();
    for &(s, _, facts) in frames {
        if s != start {
            want.extend_from_slice(&expected[first..first + facts]);
        }
        first += facts;
    }
    assert!(
        same_facts_but_id(&salvaged.facts, &want),
        "damage to one frame cost facts of another"
    );
}

/// `json_crc32` segments written from fact records built from the bytes decode to those
/// records; cut anywhere, they decode to the facts of the whole frames before the cut.
pub fn check_codec_json_crc32_records(data: &[u8]) {
    let mut src = Source::new(data);
    let count = usize::from(src.byte() % 8);
    let mut records = Vec::new();
    let mut segment = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..count {
        let record = src.record();
        json_crc32::encode_fact_frame(&record, &mut segment)
            .expect("finite, shallow record must encode");
        records.push(record);
        ends.push(segment.len());
    }
    let decoded = json_crc32::decode_segment(&segment);
    assert_eq!(
        (decoded.valid_len, decoded.tail),
        (segment.len(), Tail::Clean)
    );
    assert!(
        same_records(&decoded.facts, &records),
        "segment round trip changed facts"
    );

    let cut = (usize::from(src.byte()) << 8 | usize::from(src.byte())) % (segment.len() + 1);
    let whole = ends.iter().take_while(|&&end| end <= cut).count();
    let torn = json_crc32::decode_segment(&segment[..cut]);
    assert_eq!(torn.valid_len, if whole == 0 { 0 } else { ends[whole - 1] });
    assert_eq!(torn.tail == Tail::Clean, torn.valid_len == cut);
    assert!(
        same_records(&torn.facts, &records[..whole]),
        "cut segment lost a whole frame"
    );

    let frames: Vec<(usize, usize, usize)> = ends
        .iter()
        .enumerate()
        .map(|(i, &end)| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            (start, end - start, 1)
        })
        .collect();
    flipped_frame_keeps_the_others(
        &segment,
        &frames,
        &mut src,
        |d| Some(json_crc32::salvage_segment(d)),
        &records,
    );
}

/// MessagePack reader on arbitrary bytes: never panics. An accepted value is
/// prefix-free (any shorter input is `Truncated`, one more byte is `ExtraBytes(1)`), and
/// when it fits the value model the writer's bytes read back to the same value (float32
/// widened, integers at any width) and writing that again is a fixpoint.
pub fn check_msgpack_unpack(data: &[u8]) {
    let value = match msgpack::unpack(data) {
        Ok(v) => v,
        Err(MpError::ExtraBytes(n)) => {
            assert!(n > 0 && n < data.len());
            assert!(msgpack::unpack(&data[..data.len() - n]).is_ok());
            return;
        }
        Err(MpError::Unencodable(why)) => panic!("reader reported a writer error: {why}"),
        Err(_) => return,
    };
    for cut in [0, data.len() / 2, data.len() - 1] {
        assert_eq!(msgpack::unpack(&data[..cut]), Err(MpError::Truncated));
    }
    let mut longer = data.to_vec();
    longer.push(0xC0);
    assert_eq!(msgpack::unpack(&longer), Err(MpError::ExtraBytes(1)));

    let Some(model) = mp_to_json(&value) else {
        return;
    };
    let mut bytes = Vec::new();
    msgpack::write(&model, &mut bytes).expect("a read value must write");
    let back = msgpack::unpack(&bytes).expect("writer output must read");
    assert!(same_mp(&back, &value), "write/read changed the value");
    let mut bytes2 = Vec::new();
    msgpack::write(&mp_to_json(&back).expect("same model"), &mut bytes2).expect("rewrite");
    assert_eq!(bytes, bytes2);
}

/// MessagePack writer on values built from the bytes: refuses exactly the integers
/// beyond 64 bits; everything else reads back as the same value (Symbols as strings,
/// unsigned 64-bit integers kept).
pub fn check_msgpack_write(data: &[u8]) {
    let mut src = Source::new(data);
    let wrap = usize::from(src.byte() % 128);
    let mut value = src.json(0);
    for _ in 0..wrap {
        value = Json::Array(vec![value]);
    }
    let mut bytes = Vec::new();
    match msgpack::write(&value, &mut bytes) {
        Err(MpError::Unencodable(_)) => assert!(has_wide_int(&value)),
        Err(e) => panic!("unexpected writer error: {e}"),
        Ok(()) => {
            assert!(!has_wide_int(&value));
            let back = msgpack::unpack(&bytes).expect("writer output must read");
            assert!(
                same_mp(&back, &json_to_mp(&value)),
                "write/read changed the value"
            );
        }
    }
}

/// `compact_delta_zlib` decoder on arbitrary bytes: never panics and either hands the
/// segment back (`Unsupported`) or returns facts that stop where the frame scanner
/// stops, carry the value hash of their value, and are storable (their bodies encode and
/// decode to themselves); the good prefix alone decodes to the same facts.
pub fn check_codec_compact_delta(data: &[u8]) {
    check_compact_segment(data);
    // Random bytes almost never carry valid CRCs and zlib streams; re-framed, the
    // fuzzer's bytes reach the header and batch MessagePack directly.
    check_compact_segment(&reframed(data, true));
}

fn check_compact_segment(data: &[u8]) {
    let scan = scan_frames(data);
    let (_, valid_len, tail) = compact::count_facts(data);
    assert_eq!((valid_len, tail), (scan.valid_len, scan.tail));
    let Ok(decoded) = compact::decode_segment(data) else {
        return;
    };
    assert_eq!(
        (decoded.valid_len, decoded.tail),
        (scan.valid_len, scan.tail)
    );
    for fact in &decoded.facts {
        assert!(matches!(fact.value, Json::Object(_)));
        assert_eq!(
            fact.value_hash.as_deref(),
            Some(value_hash(&fact.value).expect("hashable").as_str())
        );
        let mut body = Vec::new();
        encode_fact_body(fact, &mut body).expect("a decoded fact must be storable");
        let back = decode_fact_body(&body).expect("its body must decode");
        assert!(same_record(&back, fact), "stored fact changed");
    }
    let prefix = compact::decode_segment(&data[..scan.valid_len])
        .expect("the good prefix decodes like the whole");
    assert_eq!(prefix.tail, Tail::Clean);
    assert!(
        same_facts_but_id(&prefix.facts, &decoded.facts),
        "good prefix decodes differently"
    );

    let Ok(salvaged) = compact::salvage_segment(data) else {
        return;
    };
    check_partition(data, &salvaged.frames, &salvaged.spans);
    assert_eq!(
        salvaged.frames.iter().map(|f| f.facts).sum::<usize>(),
        salvaged.facts.len()
    );
    assert!(
        salvaged.facts.len() >= decoded.facts.len()
            && same_facts_but_id(&salvaged.facts[..decoded.facts.len()], &decoded.facts),
        "salvage lost a fact of the good prefix"
    );
}

/// Compact segments written with `CompactEncoder` from facts built from the bytes (keys
/// repeating across batches, odd times, Symbols, 64-bit unsigned and refused wide
/// integers, NaN, duplicate nested keys, missing and extra values) decode to the facts
/// 0.5.2's reader builds; cut anywhere, they decode to the facts of the whole batch
/// frames before the cut.
pub fn check_codec_compact_roundtrip(data: &[u8]) {
    let mut src = Source::new(data);
    let fields: Vec<String> = (0..src.byte() % 4).map(|i| format!("f{i}")).collect();
    let store = src.string();
    let valid_time = if src.byte().is_multiple_of(2) {
        None
    } else {
        Some(src.finite_float())
    };
    let schema_version = src.int();
    let header = Json::Object(vec![
        ("store".into(), Json::Str(store.clone())),
        (
            "fields".into(),
            Json::Array(fields.iter().map(|f| Json::Str(f.clone())).collect()),
        ),
        (
            "valid_time".into(),
            valid_time.map_or(Json::Null, Json::Float),
        ),
        ("schema_version".into(), Json::Int(schema_version)),
    ]);
    let mut header_body = Vec::new();
    msgpack::write(&header, &mut header_body).expect("header encodes");
    let mut segment = Vec::new();
    encode_frame(&header_body, &mut segment);

    let mut enc = CompactEncoder::new(&header_body);
    let mut expected: Vec<FactRecord> = Vec::new();
    let mut pending: Vec<FactRecord> = Vec::new();
    // (segment length, facts) after each whole frame
    let mut ends = vec![(segment.len(), 0)];
    let mut flush = |enc: &mut CompactEncoder,
                     pending: &mut Vec<FactRecord>,
                     expected: &mut Vec<FactRecord>,
                     segment: &mut Vec<u8>| {
        if let Some((count, payload)) = enc.batch() {
            let mut body = count.to_be_bytes().to_vec();
            body.extend_from_slice(&zlib_stored(&payload));
            encode_frame(&body, segment);
            enc.commit();
            expected.append(pending);
            ends.push((segment.len(), expected.len()));
        }
    };
    let mut base: f64 = 1_795_675_821.0;
    for _ in 0..src.byte() % 80 {
        let key = if src.byte().is_multiple_of(4) {
            src.string()
        } else {
            format!("k{}", src.byte() % 4)
        };
        let tt = match src.byte() % 8 {
            0 => src.finite_float(),
            1 => base - f64::from(src.byte()) / 7.0,
            _ => base + f64::from(src.byte()) / 1000.0,
        };
        let vals: Vec<Json> = (0..usize::from(src.byte()) % (fields.len() + 2))
            .map(|_| src.json(2))
            .collect();
        let before = enc.pending();
        if enc.push(&key, tt, &vals).is_err() {
            assert_eq!(enc.pending(), before, "a refused fact must change nothing");
            continue;
        }
        base = tt;
        let mut members: Vec<(String, Json)> = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            insert_last_wins(
                &mut members,
                field,
                vals.get(i).map_or(Json::Null, ruby_model),
            );
        }
        let value = Json::Object(members);
        if !has_non_finite(&value) {
            pending.push(FactRecord {
                id: String::new(),
                store: store.clone(),
                key,
                value_hash: Some(value_hash(&value).expect("finite value hashes")),
                value,
                causation: None,
                transaction_time: ((tt * 1000.0).round() as i64) as f64 / 1000.0,
                valid_time,
                schema_version: Json::Int(schema_version),
                producer: Json::Null,
                derivation: Json::Null,
            });
        }
        if enc.pending() == BATCH_SIZE || src.byte().is_multiple_of(16) {
            flush(&mut enc, &mut pending, &mut expected, &mut segment);
        }
    }
    flush(&mut enc, &mut pending, &mut expected, &mut segment);

    let decoded = compact::decode_segment(&segment).expect("encoder output must decode here");
    assert_eq!(
        (decoded.valid_len, decoded.tail),
        (segment.len(), Tail::Clean)
    );
    assert!(
        same_facts_but_id(&decoded.facts, &expected),
        "compact round trip changed facts"
    );

    let cut = (usize::from(src.byte()) << 8 | usize::from(src.byte())) % (segment.len() + 1);
    let (valid, facts) = ends
        .iter()
        .take_while(|(end, _)| *end <= cut)
        .last()
        .copied()
        .unwrap_or((0, 0));
    let torn = compact::decode_segment(&segment[..cut]).expect("a torn tail is not unsupported");
    assert_eq!(torn.valid_len, valid);
    assert_eq!(torn.tail == Tail::Clean, valid == cut);
    assert!(
        same_facts_but_id(&torn.facts, &expected[..facts]),
        "cut segment lost a whole batch"
    );

    // Every batch carries its header, times and keys: a bit flipped in any one frame
    // (the header frame included) costs the facts of that frame only.
    let frames: Vec<(usize, usize, usize)> = ends
        .iter()
        .enumerate()
        .map(|(i, &(end, facts))| match i {
            0 => (0, end, 0),
            _ => (ends[i - 1].0, end - ends[i - 1].0, facts - ends[i - 1].1),
        })
        .collect();
    flipped_frame_keeps_the_others(
        &segment,
        &frames,
        &mut src,
        |d| compact::salvage_segment(d).ok(),
        &expected,
    );
}

/// The input as a segment of well-formed frames: each body is a `u16 BE` length and that
/// many bytes (fewer at the end). With `batches`, every body after the first is read as
/// a compact batch frame — a 4-byte count, then the rest wrapped in a zlib stream.
fn reframed(data: &[u8], batches: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut first = true;
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let chunk = &rest[2..2 + n];
        rest = &rest[2 + n..];
        if batches && !first && chunk.len() >= 4 {
            let mut body = chunk[..4].to_vec();
            body.extend_from_slice(&zlib_stored(&chunk[4..]));
            encode_frame(&body, &mut out);
        } else {
            encode_frame(chunk, &mut out);
        }
        first = false;
    }
    out
}

/// A zlib stream of stored (uncompressed) blocks: what `Zlib::Inflate` reads like any
/// other, built with std only.
fn zlib_stored(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = payload.chunks(0xFFFF).collect();
    if chunks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let n = chunk.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in payload {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&(b << 16 | a).to_be_bytes());
    out
}

/// What the compact decoder rebuilds from a written value: Symbols as Strings, unsigned
/// 64-bit integers as big integers, objects as Ruby Hashes (a repeated key keeps its
/// first position and the last value).
fn ruby_model(v: &Json) -> Json {
    match v {
        Json::Sym(s) => Json::Str(s.clone()),
        Json::BigInt(t) => match t.parse::<u64>() {
            Ok(u) => i64::try_from(u).map_or_else(|_| Json::BigInt(u.to_string()), Json::Int),
            Err(_) => v.clone(),
        },
        Json::Array(items) => Json::Array(items.iter().map(ruby_model).collect()),
        Json::Object(members) => {
            let mut kept = Vec::new();
            for (k, item) in members {
                insert_last_wins(&mut kept, k, ruby_model(item));
            }
            Json::Object(kept)
        }
        _ => v.clone(),
    }
}

fn insert_last_wins(members: &mut Vec<(String, Json)>, name: &str, value: Json) {
    match members.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value,
        None => members.push((name.to_owned(), value)),
    }
}

/// Integers the MessagePack writer must refuse: beyond u64, or below i64.
fn has_wide_int(v: &Json) -> bool {
    match v {
        Json::BigInt(t) => t.parse::<u64>().is_err(),
        Json::Array(items) => items.iter().any(has_wide_int),
        Json::Object(members) => members.iter().any(|(_, v)| has_wide_int(v)),
        _ => false,
    }
}

/// The MessagePack value a JSON-model value is written as.
fn json_to_mp(v: &Json) -> Mp {
    match v {
        Json::Null => Mp::Nil,
        Json::Bool(b) => Mp::Bool(*b),
        Json::Int(i) => Mp::Int(*i),
        Json::BigInt(t) => {
            let u: u64 = t.parse().expect("only u64 big integers are written");
            i64::try_from(u).map_or(Mp::UInt(u), Mp::Int)
        }
        Json::Float(f) => Mp::Float(*f),
        Json::Str(s) | Json::Sym(s) => Mp::Str(s.as_bytes().to_vec()),
        Json::Array(items) => Mp::Array(items.iter().map(json_to_mp).collect()),
        Json::Object(members) => Mp::Map(
            members
                .iter()
                .map(|(k, v)| (Mp::Str(k.as_bytes().to_vec()), json_to_mp(v)))
                .collect(),
        ),
    }
}

/// The JSON-model value a MessagePack value is, when it has one (UTF-8 strings, string
/// map keys, no `bin`).
fn mp_to_json(v: &Mp) -> Option<Json> {
    Some(match v {
        Mp::Nil => Json::Null,
        Mp::Bool(b) => Json::Bool(*b),
        Mp::Int(i) => Json::Int(*i),
        Mp::UInt(u) => Json::BigInt(u.to_string()),
        Mp::Float(f) => Json::Float(*f),
        Mp::Str(s) => Json::Str(String::from_utf8(s.clone()).ok()?),
        Mp::Bin(_) => return None,
        Mp::Array(items) => Json::Array(items.iter().map(mp_to_json).collect::<Option<_>>()?),
        Mp::Map(pairs) => Json::Object(
            pairs
                .iter()
                .map(|(k, v)| match k {
                    Mp::Str(s) => Some((String::from_utf8(s.clone()).ok()?, mp_to_json(v)?)),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
    })
}

/// Structural equality with Floats compared bit for bit.
fn same_mp(a: &Mp, b: &Mp) -> bool {
    match (a, b) {
        (Mp::Float(x), Mp::Float(y)) => x.to_bits() == y.to_bits(),
        (Mp::Array(x), Mp::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_mp(p, q))
        }
        (Mp::Map(x), Mp::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| same_mp(k1, k2) && same_mp(v1, v2))
        }
        _ => a == b,
    }
}

fn same_records(a: &[FactRecord], b: &[FactRecord]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_record(x, y))
}

/// Compact segments carry no fact ids; the decoder makes fresh ones.
fn same_facts_but_id(a: &[FactRecord], b: &[FactRecord]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mut y = y.clone();
            y.id.clone_from(&x.id);
            same_record(x, &y)
        })
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

fn no_false(v: Json) -> Json {
    if v == Json::Bool(false) {
        Json::Null
    } else {
        v
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

    /// A fact record whose values are finite and whose objects have unique keys, so it
    /// must survive encode → decode exactly.
    fn record(&mut self) -> FactRecord {
        FactRecord {
            id: self.string(),
            store: self.string(),
            key: self.string(),
            value: self.json_unique_keys(0),
            value_hash: self.opt_string(),
            causation: self.opt_string(),
            transaction_time: self.finite_float(),
            valid_time: if self.byte().is_multiple_of(2) {
                None
            } else {
                Some(self.finite_float())
            },
            schema_version: Json::Int(self.int()),
            // A fact holds no `false` producer/derivation (falsy means none, format.md).
            producer: no_false(self.json_unique_keys(0)),
            derivation: no_false(self.json_unique_keys(0)),
        }
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
