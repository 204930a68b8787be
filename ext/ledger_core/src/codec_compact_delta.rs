//! The `compact_delta_zlib` segment codec (spec 03 §6.3), byte for byte with 0.5.2:
//! a MessagePack header frame, then batch frames of
//! `u32 BE count + zlib-9(MessagePack {"km" => new keys, "e" => [[key_idx, delta_ms, values]]})`.
//! Mirrors `lib/igniter/store/codecs/compact_delta.rb`.
//!
//! Compression stays with the caller (Ruby's `Zlib`, i.e. the system zlib): no pure-Rust
//! deflate produces zlib's exact level-9 bytes, and segment files must be identical on
//! both paths. The encoder therefore hands out the uncompressed batch payload. Inflating
//! is deterministic, so decoding runs here in full.
//!
//! The decoder handles every segment 0.5.2 or this gem writes. Input it cannot mirror
//! exactly (a value Ruby would turn into something odd, a malformed batch whose Ruby
//! exception class matters for the quarantine receipt) is reported as
//! [`Unsupported`] so the caller runs the Ruby decoder on that segment instead.

use std::collections::HashMap;

use flate2::{Decompress, FlushDecompress, Status};
use rayon::prelude::*;

use crate::codec_msgpack::{self as mp, Mp, MpError};
use crate::encode::MAX_NESTING;
use crate::error::Error;
use crate::fact_record::{new_uuid, FactRecord};
use crate::frame::{scan_frames, Tail};
use crate::hash::value_hash;
use crate::json::Json;
use crate::replay::pool;

/// Facts per batch frame.
pub const BATCH_SIZE: usize = 64;

/// Below this many entries records are built on the calling thread.
const PARALLEL_THRESHOLD: usize = 256;

/// Largest inflated batch accepted; a bigger one is treated as not decodable here.
const MAX_INFLATED: usize = 256 * 1024 * 1024;

/// The write side of one segment: key dictionary, timestamp deltas and the pending
/// batch, with every entry MessagePack-encoded as it arrives (so a value that cannot be
/// encoded is refused at once instead of poisoning the batch).
#[derive(Debug, Default)]
pub struct CompactEncoder {
    keys: HashMap<String, usize>,
    key_names: Vec<String>,
    keys_written: usize,
    last_ts: Option<i64>,
    entries: Vec<u8>,
    pending: usize,
}

impl CompactEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one fact: `vals` are its values in header-field order (Symbols already
    /// allowed, as they encode as strings). Nothing changes when it fails.
    pub fn push(&mut self, key: &str, transaction_time: f64, vals: &[Json]) -> Result<(), MpError> {
        // Ruby: (tt * 1000).round, half away from zero.
        let ms = (transaction_time * 1000.0).round();
        if !ms.is_finite() || ms.abs() >= 9.2e18 {
            return Err(MpError::Unencodable(format!(
                "transaction_time {transaction_time} out of range"
            )));
        }
        let ts = ms as i64;
        let delta = match self.last_ts {
            None => ts,
            Some(last) => ts
                .checked_sub(last)
                .ok_or_else(|| MpError::Unencodable("timestamp delta out of range".into()))?,
        };
        let idx = self.keys.get(key).copied().unwrap_or(self.key_names.len());

        let mut entry = Vec::with_capacity(16 + 12 * vals.len());
        entry.push(0x93);
        mp::write_int(idx as i64, &mut entry);
        mp::write_int(delta, &mut entry);
        mp::write_len(vals.len(), 0x90, 0xDC, 0xDD, &mut entry);
        for v in vals {
            mp::write(v, &mut entry)?;
        }

        if idx == self.key_names.len() {
            self.keys.insert(key.to_owned(), idx);
            self.key_names.push(key.to_owned());
        }
        self.last_ts = Some(ts);
        self.entries.extend_from_slice(&entry);
        self.pending += 1;
        Ok(())
    }

    /// Facts accepted but not yet taken as a batch.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// The pending facts as `(count, uncompressed MessagePack payload)`, or `None` when
    /// nothing is pending. The caller compresses and frames it, writes it, and only then
    /// calls [`CompactEncoder::commit`], so a failed write loses nothing.
    pub fn batch(&self) -> Option<(u32, Vec<u8>)> {
        if self.pending == 0 {
            return None;
        }
        let fresh = self.key_names.get(self.keys_written..).unwrap_or(&[]);
        let mut out = Vec::with_capacity(self.entries.len() + 32 * fresh.len() + 16);
        out.push(0x82);
        mp::write_str("km", &mut out);
        mp::write_len(fresh.len(), 0x80, 0xDE, 0xDF, &mut out);
        for (i, name) in fresh.iter().enumerate() {
            mp::write_str(&(self.keys_written + i).to_string(), &mut out);
            mp::write_str(name, &mut out);
        }
        mp::write_str("e", &mut out);
        mp::write_len(self.pending, 0x90, 0xDC, 0xDD, &mut out);
        out.extend_from_slice(&self.entries);
        Some((u32::try_from(self.pending).unwrap_or(u32::MAX), out))
    }

    /// Marks the pending batch as written.
    pub fn commit(&mut self) {
        self.keys_written = self.key_names.len();
        self.entries.clear();
        self.pending = 0;
    }
}

impl std::fmt::Display for MpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MpError::Truncated => f.write_str("truncated MessagePack data"),
            MpError::UnsupportedType(t) => write!(f, "unsupported MessagePack type byte 0x{t:02X}"),
            MpError::ExtraBytes(n) => write!(f, "{n} extra bytes after MessagePack value"),
            MpError::TooDeep => f.write_str("MessagePack value nested too deep"),
            MpError::Unencodable(why) => f.write_str(why),
        }
    }
}

/// A segment this decoder does not mirror exactly; the caller decodes it the Ruby way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

/// The facts of a compact segment, up to the first damaged frame.
#[derive(Debug)]
pub struct Decoded {
    pub facts: Vec<FactRecord>,
    pub valid_len: usize,
    pub tail: Tail,
}

/// The header frame's members that every fact of the segment shares.
struct Header {
    store: String,
    fields: Vec<String>,
    valid_time: Option<f64>,
    schema_version: i64,
}

/// One entry with its key and absolute time resolved.
struct Entry {
    key: String,
    ts_ms: i64,
    vals: Vec<Mp>,
}

fn unsupported<T>(why: &'static str) -> Result<T, Unsupported> {
    Err(Unsupported(why))
}

/// Ruby truthiness: nil and false are "absent".
fn truthy(v: Option<&Mp>) -> Option<&Mp> {
    v.filter(|v| !matches!(v, Mp::Nil | Mp::Bool(false)))
}

fn utf8(bytes: &[u8]) -> Result<String, Unsupported> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Unsupported("string is not UTF-8"))
}

/// `obj.to_s` for the types whose text we can reproduce.
fn to_s(v: Option<&Mp>) -> Result<String, Unsupported> {
    match v {
        None | Some(Mp::Nil) => Ok(String::new()),
        Some(Mp::Str(s)) => utf8(s),
        Some(Mp::Int(i)) => Ok(i.to_string()),
        Some(Mp::UInt(u)) => Ok(u.to_string()),
        Some(_) => unsupported("key is not a string or integer"),
    }
}

fn header(body: &[u8]) -> Result<Header, Unsupported> {
    let doc = mp::unpack(body).map_err(|_| Unsupported("header is not MessagePack"))?;
    let doc = if matches!(doc, Mp::Map(_)) {
        doc
    } else {
        Mp::Map(Vec::new())
    };
    let fields = match truthy(doc.get("fields")) {
        None => Vec::new(),
        Some(Mp::Array(items)) => items
            .iter()
            .map(|f| match f {
                Mp::Str(s) => utf8(s),
                _ => unsupported("field name is not a string"),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return unsupported("fields is not an array"),
    };
    let store = to_s(doc.get("store"))?;
    let valid_time = match truthy(doc.get("valid_time")).or_else(|| truthy(doc.get("term"))) {
        None => None,
        Some(Mp::Int(i)) => Some(*i as f64),
        Some(Mp::UInt(u)) => Some(*u as f64),
        Some(Mp::Float(f)) => Some(*f),
        Some(_) => return unsupported("valid_time is not a number"),
    };
    let schema_version = match truthy(doc.get("schema_version")) {
        None => 1,
        Some(Mp::Int(i)) => *i,
        Some(_) => return unsupported("schema_version is not an integer"),
    };
    Ok(Header {
        store,
        fields,
        valid_time,
        schema_version,
    })
}

/// `Zlib::Inflate.inflate(body[4..])`, exactly one complete zlib stream.
fn inflate(body: &[u8]) -> Result<Vec<u8>, Unsupported> {
    let Some(stream) = body.get(4..).filter(|s| !s.is_empty()) else {
        return unsupported("batch frame too short");
    };
    let mut z = Decompress::new(true);
    let mut out = Vec::with_capacity(stream.len() * 4 + 64);
    loop {
        if out.capacity() - out.len() < 4096 {
            if out.len() >= MAX_INFLATED {
                return unsupported("batch inflates too large");
            }
            out.reserve(out.len().max(4096));
        }
        let before = (z.total_in(), z.total_out());
        let Some(rest) = stream.get(z.total_in() as usize..) else {
            return unsupported("inflate overran its input");
        };
        // Streaming mode: miniz's Finish mode needs all output room up front.
        match z.decompress_vec(rest, &mut out, FlushDecompress::None) {
            Ok(Status::StreamEnd) => break,
            // No progress with room to spare: the stream is cut short.
            Ok(_) if (z.total_in(), z.total_out()) != before => {}
            _ => return unsupported("batch is not a complete zlib stream"),
        }
    }
    if z.total_in() as usize != stream.len() {
        return unsupported("bytes after the zlib stream");
    }
    Ok(out)
}

fn unpack_batch(body: &[u8]) -> Result<Mp, Unsupported> {
    let batch = mp::unpack(&inflate(body)?).map_err(|_| Unsupported("batch is not MessagePack"))?;
    if matches!(batch, Mp::Map(_)) {
        Ok(batch)
    } else {
        unsupported("batch is not a map")
    }
}

/// Sequential part: the key dictionary and the running timestamp carry across batches.
fn resolve(batches: Vec<Mp>) -> Result<Vec<Entry>, Unsupported> {
    let mut key_names: HashMap<i64, Option<Mp>> = HashMap::new();
    let mut ts: Option<i64> = None;
    let mut entries = Vec::new();
    for batch in batches {
        let Mp::Map(members) = batch else {
            return unsupported("batch is not a map");
        };
        // Ruby reads batch["km"] and batch["e"], last occurrence winning.
        let mut km = None;
        let mut e = None;
        for (k, v) in members {
            match &k {
                Mp::Str(s) | Mp::Bin(s) if s == b"km" => km = Some(v),
                Mp::Str(s) | Mp::Bin(s) if s == b"e" => e = Some(v),
                _ => {}
            }
        }
        match km {
            None | Some(Mp::Nil | Mp::Bool(false)) => {}
            Some(Mp::Map(pairs)) => {
                for (idx, key) in pairs {
                    let idx = match idx {
                        Mp::Int(i) => i,
                        Mp::Str(s) => std::str::from_utf8(&s)
                            .ok()
                            .and_then(|t| t.parse::<i64>().ok())
                            .filter(|i| i.to_string().as_bytes() == s.as_slice())
                            .ok_or(Unsupported("key index is not a decimal string"))?,
                        _ => return unsupported("key index is not a string"),
                    };
                    key_names.insert(idx, Some(key));
                }
            }
            Some(_) => return unsupported("km is not a map"),
        }
        let items = match e {
            None | Some(Mp::Nil | Mp::Bool(false)) => Vec::new(),
            Some(Mp::Array(items)) => items,
            Some(_) => return unsupported("e is not an array"),
        };
        for item in items {
            let Mp::Array(parts) = item else {
                return unsupported("entry is not an array");
            };
            let mut parts = parts.into_iter();
            let (key_idx, delta, vals) = (parts.next(), parts.next(), parts.next());
            let Some(Mp::Int(delta)) = delta else {
                return unsupported("delta is not an integer");
            };
            let next = match ts {
                None => delta,
                Some(t) => t
                    .checked_add(delta)
                    .ok_or(Unsupported("timestamp out of range"))?,
            };
            ts = Some(next);
            let key = match key_idx {
                Some(Mp::Int(i)) => to_s(key_names.get(&i).and_then(Option::as_ref))?,
                _ => String::new(),
            };
            let vals = match vals {
                Some(Mp::Array(v)) => v,
                _ => Vec::new(),
            };
            entries.push(Entry {
                key,
                ts_ms: next,
                vals,
            });
        }
    }
    Ok(entries)
}

/// A decoded MessagePack value as the ledger's value model (nested keys as text).
fn to_json(v: &Mp, depth: usize) -> Result<Json, Unsupported> {
    Ok(match v {
        Mp::Nil => Json::Null,
        Mp::Bool(b) => Json::Bool(*b),
        Mp::Int(i) => Json::Int(*i),
        Mp::UInt(u) => Json::BigInt(u.to_string()),
        Mp::Float(f) => Json::Float(*f),
        Mp::Str(s) => Json::Str(utf8(s)?),
        Mp::Bin(_) => return unsupported("binary value"),
        Mp::Array(items) => {
            if depth > MAX_NESTING {
                return unsupported("value nested too deep");
            }
            Json::Array(
                items
                    .iter()
                    .map(|i| to_json(i, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Mp::Map(pairs) => {
            if depth > MAX_NESTING {
                return unsupported("value nested too deep");
            }
            let mut members: Vec<(String, Json)> = Vec::with_capacity(pairs.len());
            for (k, item) in pairs {
                let name = match k {
                    Mp::Str(s) => utf8(s)?,
                    Mp::Int(i) => i.to_string(),
                    _ => return unsupported("map key is not a string or integer"),
                };
                members.push((name, to_json(item, depth + 1)?));
            }
            Json::Object(crate::json::last_wins(members))
        }
    })
}

/// One fact, as `CompactDelta#decode_entry` builds it; `None` = skipped (Ruby rescued).
fn record(header: &Header, entry: &Entry) -> Result<Option<FactRecord>, Unsupported> {
    let mut members = Vec::with_capacity(header.fields.len());
    for (i, field) in header.fields.iter().enumerate() {
        let v = match entry.vals.get(i) {
            Some(v) => to_json(v, 2)?,
            None => Json::Null,
        };
        members.push((field.clone(), v));
    }
    // Ruby Hash assignment: a repeated key keeps its first position, takes the new value.
    let value = Json::Object(crate::json::last_wins(members));
    let hash = match value_hash(&value) {
        Ok(h) => h,
        Err(Error::NonFinite(_)) => return Ok(None),
        Err(_) => return unsupported("value cannot be hashed"),
    };
    Ok(Some(FactRecord {
        id: new_uuid(),
        store: header.store.clone(),
        key: entry.key.clone(),
        value,
        value_hash: Some(hash),
        causation: None,
        transaction_time: entry.ts_ms as f64 / 1000.0,
        valid_time: header.valid_time,
        schema_version: Json::Int(header.schema_version),
        producer: Json::Null,
        derivation: Json::Null,
    }))
}

/// Decodes a whole compact segment (no header frame = no facts).
pub fn decode_segment(buf: &[u8]) -> Result<Decoded, Unsupported> {
    let scan = scan_frames(buf);
    let Some((first, rest)) = scan.bodies.split_first() else {
        return Ok(Decoded {
            facts: Vec::new(),
            valid_len: scan.valid_len,
            tail: scan.tail,
        });
    };
    let header = header(&buf[first.clone()])?;
    let unpack = |r: &std::ops::Range<usize>| unpack_batch(&buf[r.clone()]);
    let batches: Vec<Mp> = if rest.len() < 4 {
        rest.iter().map(unpack).collect::<Result<_, _>>()?
    } else {
        pool(|| rest.par_iter().map(unpack).collect::<Result<_, _>>())?
    };
    let entries = resolve(batches)?;
    let build = |e: &Entry| record(&header, e);
    let built: Vec<Option<FactRecord>> = if entries.len() < PARALLEL_THRESHOLD {
        entries.iter().map(build).collect::<Result<_, _>>()?
    } else {
        pool(|| entries.par_iter().map(build).collect::<Result<_, _>>())?
    };
    Ok(Decoded {
        facts: built.into_iter().flatten().collect(),
        valid_len: scan.valid_len,
        tail: scan.tail,
    })
}

/// Facts stored in a compact segment without decoding batches (orphan recovery): the
/// count prefixes of the good frames after the header.
pub fn count_facts(buf: &[u8]) -> (u64, usize, Tail) {
    let scan = scan_frames(buf);
    let count = scan
        .bodies
        .iter()
        .skip(1)
        .filter_map(|r| buf.get(r.start..r.start + 4))
        .map(|p| u64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])))
        .sum();
    (count, scan.valid_len, scan.tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::encode_frame;
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write;
    use std::path::PathBuf;

    fn fixture() -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
            "../../spec/fixtures/igniter-ledger-0.5.2/segmented_compact_delta_zlib/wal/store=gps/date=2026-11-26/segment-000001.wal",
        );
        std::fs::read(path).expect("fixture present")
    }

    fn f(v: f64) -> Json {
        Json::Float(v)
    }

    #[test]
    fn decodes_the_0_5_2_segment() {
        let bytes = fixture();
        let decoded = decode_segment(&bytes).expect("supported");
        assert_eq!(decoded.tail, Tail::Clean);
        assert_eq!(decoded.valid_len, bytes.len());
        assert_eq!(decoded.facts.len(), 12);
        let first = &decoded.facts[0];
        assert_eq!(
            (first.store.as_str(), first.key.as_str()),
            ("gps", "tech_0")
        );
        assert_eq!(first.transaction_time, 1_795_675_821.461);
        assert_eq!(
            first.value,
            Json::Object(vec![
                ("battery".into(), Json::Int(80)),
                ("lat".into(), f(33.9)),
                ("lng".into(), f(-118.2))
            ])
        );
        assert_eq!(
            first.value_hash.as_deref(),
            Some("7ad6c24f733c9eb8b60a1a0a3ad41d0fa3e73e345e8022b950e0d404857a7b67")
        );
        assert_eq!(count_facts(&bytes), (12, bytes.len(), Tail::Clean));
    }

    /// Re-encoding the fixture's facts reproduces its batch payload exactly; compressed
    /// with zlib level 9 (what the Ruby side does) that is the fixture's frame.
    #[test]
    fn re_encodes_the_0_5_2_batch_payload_byte_for_byte() {
        let bytes = fixture();
        let scan = scan_frames(&bytes);
        let original = inflate(&bytes[scan.bodies[1].clone()]).expect("inflates");
        let decoded = decode_segment(&bytes).expect("supported");
        let mut enc = CompactEncoder::new();
        for fact in &decoded.facts {
            let Json::Object(members) = &fact.value else {
                panic!("object value")
            };
            let vals: Vec<Json> = members.iter().map(|(_, v)| v.clone()).collect();
            enc.push(&fact.key, fact.transaction_time, &vals)
                .expect("encodable");
        }
        assert_eq!(enc.pending(), 12);
        let (count, payload) = enc.batch().expect("a batch");
        assert_eq!(count, 12);
        assert_eq!(payload, original);
        assert_eq!(
            enc.batch(),
            Some((count, payload)),
            "nothing changes before commit"
        );
        enc.commit();
        assert!(enc.batch().is_none());
    }

    /// Why compression stays in Ruby: miniz_oxide's level-9 stream differs from the
    /// system zlib's that 0.5.2 (and Ruby) wrote, so a Rust-compressed segment would not
    /// be byte-identical. Inflating either gives the same payload.
    #[test]
    fn miniz_deflate_is_not_byte_identical_to_zlib_but_inflates_the_same() {
        let bytes = fixture();
        let body = &bytes[scan_frames(&bytes).bodies[1].clone()];
        let payload = inflate(body).expect("inflates");
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&payload).expect("in memory");
        let ours = z.finish().expect("in memory");
        let mut framed = body[..4].to_vec();
        framed.extend_from_slice(&ours);
        assert_eq!(inflate(&framed).expect("inflates"), payload);
        assert_ne!(
            &ours[..],
            &body[4..],
            "if this starts matching, compression can move to Rust"
        );
    }

    fn segment(header: &[u8], batches: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(header, &mut out);
        for payload in batches {
            let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
            z.write_all(payload).expect("in memory");
            let mut body = 1u32.to_be_bytes().to_vec();
            body.extend_from_slice(&z.finish().expect("in memory"));
            encode_frame(&body, &mut out);
        }
        out
    }

    fn packed(v: &Json) -> Vec<u8> {
        let mut out = Vec::new();
        mp::write(v, &mut out).expect("encodable");
        out
    }

    fn header_doc(fields: &[&str]) -> Vec<u8> {
        packed(&Json::Object(vec![
            ("store".into(), Json::Str("s".into())),
            (
                "fields".into(),
                Json::Array(fields.iter().map(|f| Json::Str((*f).into())).collect()),
            ),
            ("valid_time".into(), Json::Null),
            ("schema_version".into(), Json::Int(2)),
        ]))
    }

    #[test]
    fn deltas_and_key_dictionary_carry_across_batches() {
        let mut enc = CompactEncoder::new();
        enc.push("a", 1.0, &[Json::Int(1)]).expect("ok");
        enc.push("b", 1.5, &[Json::Sym("x".into())]).expect("ok");
        let (_, one) = enc.batch().expect("batch");
        enc.commit();
        enc.push("a", 1.25, &[Json::Null]).expect("ok");
        let (_, two) = enc.batch().expect("batch");
        let bytes = segment(&header_doc(&["n"]), &[&one, &two]);
        let facts = decode_segment(&bytes).expect("supported").facts;
        let got: Vec<(&str, f64, &Json)> = facts
            .iter()
            .map(|f| {
                (
                    f.key.as_str(),
                    f.transaction_time,
                    f.value.get("n").expect("n"),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", 1.0, &Json::Int(1)),
                ("b", 1.5, &Json::Str("x".into())),
                ("a", 1.25, &Json::Null)
            ]
        );
        assert!(facts
            .iter()
            .all(|f| f.schema_version == Json::Int(2) && f.store == "s"));
        assert_ne!(facts[0].id, facts[2].id);
    }

    /// A batch that compresses far better than 4:1 needs the output buffer to grow
    /// several times while inflating.
    #[test]
    fn highly_compressible_batches_inflate_in_full() {
        let mut enc = CompactEncoder::new();
        for i in 0..BATCH_SIZE {
            enc.push(
                &format!("k{}", i % 2),
                1.0 + i as f64,
                &[Json::Str("x".repeat(2000))],
            )
            .expect("ok");
        }
        let (_, payload) = enc.batch().expect("batch");
        let bytes = segment(&header_doc(&["n"]), &[&payload]);
        assert!(payload.len() > 40 * bytes.len());
        let facts = decode_segment(&bytes).expect("supported").facts;
        assert_eq!(facts.len(), BATCH_SIZE);
        assert_eq!(facts[63].value.get("n"), Some(&Json::Str("x".repeat(2000))));
        let mut cut = bytes.clone();
        let body_len = u32::from_be_bytes([cut[0], cut[1], cut[2], cut[3]]) as usize;
        let batch_start = body_len + 8;
        // Same frame, zlib stream cut short (length and CRC fixed up): not ours to decode.
        let body = cut[batch_start + 4..batch_start + 4 + 24].to_vec();
        cut.truncate(batch_start);
        encode_frame(&body, &mut cut);
        assert!(decode_segment(&cut).is_err());
    }

    #[test]
    fn a_failed_push_changes_nothing() {
        let mut enc = CompactEncoder::new();
        let big = Json::BigInt("-99999999999999999999".into());
        assert!(enc.push("a", 1.0, &[big]).is_err());
        assert!(enc.push("a", f64::MAX, &[]).is_err());
        assert_eq!(enc.pending(), 0);
        assert!(enc.batch().is_none());
    }

    #[test]
    fn damaged_or_unusual_batches_are_left_to_the_ruby_decoder() {
        let header = header_doc(&["n"]);
        let not_a_map = packed(&Json::Array(vec![]));
        assert!(decode_segment(&segment(&header, &[&not_a_map])).is_err());
        let mut garbage = Vec::new();
        encode_frame(&header, &mut garbage);
        encode_frame(b"\0\0\0\x01not zlib", &mut garbage);
        assert!(decode_segment(&garbage).is_err());
        let bin_value = [
            0x82, 0xA2, b'k', b'm', 0x80, 0xA1, b'e', 0x91, 0x93, 0x00, 0x01, 0x91, 0xC4, 0x01,
            0xFF,
        ];
        assert_eq!(
            decode_segment(&segment(&header, &[&bin_value])).err(),
            Some(Unsupported("binary value"))
        );
    }

    /// Random damage with the CRC fixed up (so it reaches inflate and MessagePack) never
    /// panics: the decoder returns facts or hands the segment back.
    #[test]
    fn damaged_segments_never_panic() {
        let bytes = fixture();
        let bodies: Vec<Vec<u8>> = scan_frames(&bytes)
            .bodies
            .iter()
            .map(|r| bytes[r.clone()].to_vec())
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound.max(1) as u64) as usize
        };
        for _ in 0..3000 {
            let mut damaged = bodies.clone();
            let i = next(damaged.len());
            let body = &mut damaged[i];
            match next(3) {
                0 if !body.is_empty() => {
                    let at = next(body.len());
                    body[at] = next(256) as u8;
                }
                1 if i > 0 => {
                    let mut payload = inflate(body).expect("fixture inflates");
                    let at = next(payload.len());
                    payload[at] = next(256) as u8;
                    let mut z = ZlibEncoder::new(body[..4].to_vec(), Compression::best());
                    z.write_all(&payload).expect("in memory");
                    *body = z.finish().expect("in memory");
                }
                _ => body.truncate(next(body.len() + 1)),
            }
            let mut buf = Vec::new();
            for b in &damaged {
                encode_frame(b, &mut buf);
            }
            buf.truncate(buf.len() - next(6));
            if let Ok(decoded) = decode_segment(&buf) {
                assert!(decoded.valid_len <= buf.len());
                assert!(decoded.facts.len() <= 12);
            }
        }
    }

    #[test]
    fn a_header_only_or_empty_segment_has_no_facts() {
        assert!(decode_segment(&[]).expect("supported").facts.is_empty());
        let only_header = segment(&header_doc(&["n"]), &[]);
        let decoded = decode_segment(&only_header).expect("supported");
        assert!(decoded.facts.is_empty());
        assert_eq!(count_facts(&only_header).0, 0);
    }
}
