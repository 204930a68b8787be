//! The `compact_delta_zlib` segment codec (doc/format.md "Segmented storage"), byte
//! for byte with 0.5.2: a MessagePack header frame, then batch frames of
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

use crate::codec::msgpack::{self as mp, Mp, MpError};
use crate::codec::segment_salvage::{self as salvage, Kept, Reason, Resync, Salvaged, Span};
use crate::error::Error;
use crate::fact::{new_uuid, FactRecord, PackedRecord};
use crate::json::encode::MAX_NESTING;
use crate::json::hash::value_hash;
use crate::json::packed;
use crate::json::Json;
use crate::wal::frame::{scan_frames, Tail};
use crate::wal::replay::pool;

/// Facts per batch frame.
pub const BATCH_SIZE: usize = 64;

/// Below this many entries records are built on the calling thread.
const PARALLEL_THRESHOLD: usize = 256;

/// Largest inflated batch accepted; a bigger one is treated as not decodable here.
const MAX_INFLATED: usize = 256 * 1024 * 1024;

/// The write side of one segment: key dictionary, timestamp deltas and the pending
/// batch, with every entry MessagePack-encoded as it arrives (so a value that cannot be
/// encoded is refused at once instead of poisoning the batch).
///
/// Batches survive the loss of any one other frame (format.md "Segments: salvage"):
/// besides 0.5.2's `km` and `e`, every batch carries its first entry's absolute time
/// as `t`, its `km` also names the keys the batch before it introduced, and the first
/// batch of a segment carries the header as `h`. 0.5.2's reader ignores `t` and `h`
/// and merges `km`, so it reads these batches as its own.
#[derive(Debug)]
pub struct CompactEncoder {
    /// The header frame's body, repeated in the first batch.
    header: Vec<u8>,
    keys: HashMap<String, usize>,
    key_names: Vec<String>,
    /// Keys below this index were introduced before the previous batch.
    keys_named: usize,
    /// Keys below this index were introduced before the pending batch.
    keys_written: usize,
    batches: u64,
    batch_t0: Option<i64>,
    last_ts: Option<i64>,
    entries: Vec<u8>,
    pending: usize,
    undo: Option<Undo>,
}

/// What the last [`CompactEncoder::push`] changed, for [`CompactEncoder::rollback`].
#[derive(Debug, Clone, Copy)]
struct Undo {
    entries_len: usize,
    last_ts: Option<i64>,
    batch_t0: Option<i64>,
    added_key: bool,
}

impl CompactEncoder {
    /// `header`: the MessagePack body of the segment's header frame.
    pub fn new(header: &[u8]) -> Self {
        Self {
            header: header.to_vec(),
            keys: HashMap::new(),
            key_names: Vec::new(),
            keys_named: 0,
            keys_written: 0,
            batches: 0,
            batch_t0: None,
            last_ts: None,
            entries: Vec::new(),
            pending: 0,
            undo: None,
        }
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

        let added_key = idx == self.key_names.len();
        if added_key {
            self.keys.insert(key.to_owned(), idx);
            self.key_names.push(key.to_owned());
        }
        self.undo = Some(Undo {
            entries_len: self.entries.len(),
            last_ts: self.last_ts,
            batch_t0: self.batch_t0,
            added_key,
        });
        self.batch_t0.get_or_insert(ts);
        self.last_ts = Some(ts);
        self.entries.extend_from_slice(&entry);
        self.pending += 1;
        Ok(())
    }

    /// Takes back the last [`CompactEncoder::push`] (its fact could not be written).
    /// Does nothing when there is none since the last rollback or commit.
    pub fn rollback(&mut self) {
        let Some(undo) = self.undo.take() else {
            return;
        };
        self.entries.truncate(undo.entries_len);
        self.last_ts = undo.last_ts;
        self.batch_t0 = undo.batch_t0;
        self.pending -= 1;
        if undo.added_key {
            if let Some(name) = self.key_names.pop() {
                self.keys.remove(&name);
            }
        }
    }

    /// Facts accepted but not yet taken as a batch.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// The pending facts as `(count, uncompressed MessagePack payload)`, or `None` when
    /// nothing is pending. The caller compresses and frames it, writes it, and only then
    /// calls [`CompactEncoder::commit`], so a failed write loses nothing.
    ///
    /// The payload: `{"km" => keys from index keys_named on, "e" => entries,
    /// "t" => first entry's ms, "h" => header (first batch only)}`.
    pub fn batch(&self) -> Option<(u32, Vec<u8>)> {
        let t0 = self.batch_t0?;
        if self.pending == 0 {
            return None;
        }
        let named = self.key_names.get(self.keys_named..).unwrap_or(&[]);
        let first = self.batches == 0;
        let mut out =
            Vec::with_capacity(self.entries.len() + 32 * named.len() + self.header.len() + 32);
        out.push(if first { 0x84 } else { 0x83 });
        mp::write_str("km", &mut out);
        mp::write_len(named.len(), 0x80, 0xDE, 0xDF, &mut out);
        for (i, name) in named.iter().enumerate() {
            mp::write_str(&(self.keys_named + i).to_string(), &mut out);
            mp::write_str(name, &mut out);
        }
        mp::write_str("e", &mut out);
        mp::write_len(self.pending, 0x90, 0xDC, 0xDD, &mut out);
        out.extend_from_slice(&self.entries);
        mp::write_str("t", &mut out);
        mp::write_int(t0, &mut out);
        if first {
            mp::write_str("h", &mut out);
            out.extend_from_slice(&self.header);
        }
        Some((u32::try_from(self.pending).unwrap_or(u32::MAX), out))
    }

    /// Marks the pending batch as written.
    pub fn commit(&mut self) {
        self.keys_named = self.keys_written;
        self.keys_written = self.key_names.len();
        self.batches += 1;
        self.batch_t0 = None;
        self.entries.clear();
        self.pending = 0;
        self.undo = None;
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
    /// No field name repeats.
    distinct: bool,
    valid_time: Option<f64>,
    schema_version: i64,
}

/// One entry with its key and absolute time resolved.
struct Entry {
    /// `None`: the key index is named by no `km` read so far (a frame naming it was lost).
    key: Option<String>,
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
    utf8_str(bytes).map(str::to_owned)
}

fn utf8_str(bytes: &[u8]) -> Result<&str, Unsupported> {
    std::str::from_utf8(bytes).map_err(|_| Unsupported("string is not UTF-8"))
}

/// The text a map key stands for in the value model (nested keys as text).
fn key_name(k: &Mp) -> Result<std::borrow::Cow<'_, str>, Unsupported> {
    match k {
        Mp::Str(s) => utf8_str(s).map(std::borrow::Cow::Borrowed),
        Mp::Int(i) => Ok(std::borrow::Cow::Owned(i.to_string())),
        _ => unsupported("map key is not a string or integer"),
    }
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

/// The members of a header map (the header frame's, or a batch's `h`).
fn header_from(doc: &Mp) -> Result<Header, Unsupported> {
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
    let distinct = fields
        .iter()
        .enumerate()
        .all(|(i, f)| !fields[i + 1..].contains(f));
    Ok(Header {
        store,
        fields,
        distinct,
        valid_time,
        schema_version,
    })
}

/// A header-like frame body: a MessagePack map with a `fields` member. `Ok(None)` when
/// it certainly is not one (no map marker, or a map without `fields`).
fn header_like(body: &[u8]) -> Result<Option<Header>, Unsupported> {
    if !salvage::msgpack_map_start(body) {
        return Ok(None);
    }
    match mp::unpack(body) {
        Ok(doc) if doc.get("fields").is_some() => header_from(&doc).map(Some),
        Ok(_) => Ok(None),
        Err(_) => unsupported("header is not MessagePack"),
    }
}

/// A batch-like frame body: count prefix and a zlib stream of a MessagePack map.
/// `Ok(None)` when it certainly is not one (too short, or no zlib header).
fn batch_like(body: &[u8]) -> Result<Option<Mp>, Unsupported> {
    match body.get(4..) {
        Some(stream) if salvage::zlib_header(stream) => unpack_batch(body).map(Some),
        _ => Ok(None),
    }
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

/// What decoding one batch needs from the frames before it.
#[derive(Default)]
struct ChainState {
    /// The segment header: the header frame, else the first batch `h` read.
    header: Option<usize>,
    /// A header or batch frame was accepted: later header-like frames are not headers.
    accepted: bool,
    key_names: HashMap<i64, Option<Mp>>,
    /// Time of the last entry; `None` with `broken` = unknown since damage.
    ts: Option<i64>,
    broken: bool,
}

/// The members of a batch map that the decoder reads (last occurrence winning, as Ruby
/// Hash lookups do).
struct BatchParts {
    km: Option<Mp>,
    e: Option<Mp>,
    t: Option<i64>,
    h: Option<Header>,
}

fn batch_parts(batch: Mp) -> Result<BatchParts, Unsupported> {
    let t = match batch.get("t") {
        None | Some(Mp::Nil) => None,
        Some(Mp::Int(t)) => Some(*t),
        Some(_) => return unsupported("t is not a 64-bit integer"),
    };
    let h = match batch.get("h") {
        Some(doc @ Mp::Map(_)) if doc.get("fields").is_some() => Some(header_from(doc)?),
        _ => None,
    };
    let Mp::Map(members) = batch else {
        return unsupported("batch is not a map");
    };
    let mut km = None;
    let mut e = None;
    for (k, v) in members {
        match &k {
            Mp::Str(s) | Mp::Bin(s) if s == b"km" => km = Some(v),
            Mp::Str(s) | Mp::Bin(s) if s == b"e" => e = Some(v),
            _ => {}
        }
    }
    Ok(BatchParts { km, e, t, h })
}

/// Merges a batch's key dictionary into `key_names`; true when it names key index 0.
fn merge_keys(
    km: Option<Mp>,
    key_names: &mut HashMap<i64, Option<Mp>>,
) -> Result<bool, Unsupported> {
    match km {
        None | Some(Mp::Nil | Mp::Bool(false)) => Ok(false),
        Some(Mp::Map(pairs)) => {
            let mut first_key = false;
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
                first_key |= idx == 0;
                key_names.insert(idx, Some(key));
            }
            Ok(first_key)
        }
        Some(_) => unsupported("km is not a map"),
    }
}

/// The entries of one batch with keys and absolute times resolved, or `None` when their
/// times are unknown (an earlier frame was lost and the batch has no `t`). The running
/// time in `st` moves on whenever it is known.
///
/// A batch without `t` that names key index 0 in its `km` is the first batch of a
/// 0.5.2 segment (its writer names only keys new to the segment there), so its first
/// delta is absolute whatever damage came before it.
fn batch_entries(
    parts: BatchParts,
    st: &mut ChainState,
) -> Result<Option<Vec<Entry>>, Unsupported> {
    if merge_keys(parts.km, &mut st.key_names)? && parts.t.is_none() {
        st.ts = None;
        st.broken = false;
    }
    let items = match parts.e {
        None | Some(Mp::Nil | Mp::Bool(false)) => Vec::new(),
        Some(Mp::Array(items)) => items,
        Some(_) => return unsupported("e is not an array"),
    };
    if items.is_empty() {
        return Ok(Some(Vec::new()));
    }
    if st.broken && parts.t.is_none() {
        return Ok(None);
    }
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        entries.push(entry(i, item, parts.t, st)?);
    }
    st.broken = false;
    Ok(Some(entries))
}

/// Entry `i` of a batch, `[key_idx, delta_ms, values]`: its time is the batch's
/// own `t` for the first entry when the batch has one, else the running time
/// plus its delta (the delta alone when the running time is unknown); its key
/// is the name some `km` gave the index.
fn entry(i: usize, item: Mp, t: Option<i64>, st: &mut ChainState) -> Result<Entry, Unsupported> {
    let Mp::Array(entry) = item else {
        return unsupported("entry is not an array");
    };
    let mut entry = entry.into_iter();
    let (key_idx, delta, vals) = (entry.next(), entry.next(), entry.next());
    let Some(Mp::Int(delta)) = delta else {
        return unsupported("delta is not an integer");
    };
    let next = match (i, t, st.ts) {
        (0, Some(t), _) => t,
        (_, _, None) => delta,
        (_, _, Some(prev)) => prev
            .checked_add(delta)
            .ok_or(Unsupported("timestamp out of range"))?,
    };
    st.ts = Some(next);
    let key = match key_idx {
        Some(Mp::Int(i)) => match st.key_names.get(&i) {
            Some(name) => Some(to_s(name.as_ref())?),
            None => None,
        },
        _ => None,
    };
    let vals = match vals {
        Some(Mp::Array(v)) => v,
        _ => Vec::new(),
    };
    Ok(Entry {
        key,
        ts_ms: next,
        vals,
    })
}

/// The members as a Ruby Hash assigned one by one keeps them: a repeated key keeps
/// its first position and takes the last value. Distinct keys, the usual case, are
/// checked without allocating.
fn ruby_hash(members: Vec<(String, Json)>) -> Vec<(String, Json)> {
    if crate::json::keys_distinct(&members) {
        members
    } else {
        crate::json::last_wins(members)
    }
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
                members.push((key_name(k)?.into_owned(), to_json(item, depth + 1)?));
            }
            Json::Object(ruby_hash(members))
        }
    })
}

/// What [`pack_mp`] found besides the bytes.
#[derive(Clone, Copy)]
struct Packing {
    /// Every float is finite (else the value has no hash: the fact is skipped).
    finite: bool,
    /// No map repeats a key (else the model's Ruby Hash rule applies: see `ruby_hash`).
    distinct: bool,
}

impl Packing {
    const CLEAN: Packing = Packing {
        finite: true,
        distinct: true,
    };

    fn and(self, other: Packing) -> Packing {
        Packing {
            finite: self.finite && other.finite,
            distinct: self.distinct && other.distinct,
        }
    }
}

/// Whether the names at `spans` of `out` (name byte ranges) are all different.
fn names_distinct(out: &[u8], spans: &[(usize, usize)]) -> bool {
    let name = |&(start, end): &(usize, usize)| &out[start..end];
    if spans.len() <= 8 {
        return spans
            .iter()
            .enumerate()
            .all(|(i, a)| spans[i + 1..].iter().all(|b| name(a) != name(b)));
    }
    let mut seen = std::collections::HashSet::with_capacity(spans.len());
    spans.iter().all(|s| seen.insert(name(s)))
}

/// Appends `packed::pack(&to_json(v, depth)?)` to `out` without building the model:
/// the same bytes when the result says every map's keys are distinct, and the same
/// refusals either way.
fn pack_mp(v: &Mp, depth: usize, out: &mut Vec<u8>) -> Result<Packing, Unsupported> {
    match v {
        Mp::Nil => out.push(packed::NULL),
        Mp::Bool(true) => out.push(packed::TRUE),
        Mp::Bool(false) => out.push(packed::FALSE),
        Mp::Int(n) => {
            out.push(packed::INT);
            packed::varint(((*n << 1) ^ (*n >> 63)) as u64, out);
        }
        Mp::UInt(u) => packed::text(packed::BIG_INT, &u.to_string(), out),
        Mp::Float(f) => {
            out.push(packed::FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
            return Ok(Packing {
                finite: f.is_finite(),
                distinct: true,
            });
        }
        Mp::Str(s) => packed::text(packed::STR, utf8_str(s)?, out),
        Mp::Bin(_) => return unsupported("binary value"),
        Mp::Array(items) => {
            if depth > MAX_NESTING {
                return unsupported("value nested too deep");
            }
            out.push(packed::ARRAY);
            packed::varint(items.len() as u64, out);
            let mut found = Packing::CLEAN;
            for item in items {
                found = found.and(pack_mp(item, depth + 1, out)?);
            }
            return Ok(found);
        }
        Mp::Map(pairs) => {
            if depth > MAX_NESTING {
                return unsupported("value nested too deep");
            }
            out.push(packed::OBJECT);
            packed::varint(pairs.len() as u64, out);
            let mut found = Packing::CLEAN;
            let mut names = Vec::with_capacity(pairs.len());
            for (k, item) in pairs {
                let name = key_name(k)?;
                packed::varint(name.len() as u64, out);
                let start = out.len();
                out.extend_from_slice(name.as_bytes());
                names.push((start, out.len()));
                found = found.and(pack_mp(item, depth + 1, out)?);
            }
            found.distinct &= names_distinct(out, &names);
            return Ok(found);
        }
    }
    Ok(Packing::CLEAN)
}

/// One fact as [`record`] without its hash builds it, its value packed straight from
/// the entry (through the model only when a map or the header repeats a key).
fn packed_record(header: &Header, entry: &Entry) -> Result<Option<PackedRecord>, Unsupported> {
    let mut value = Vec::with_capacity(64);
    value.push(packed::OBJECT);
    packed::varint(header.fields.len() as u64, &mut value);
    let mut found = Packing::CLEAN;
    for (i, field) in header.fields.iter().enumerate() {
        packed::varint(field.len() as u64, &mut value);
        value.extend_from_slice(field.as_bytes());
        found = found.and(match entry.vals.get(i) {
            Some(v) => pack_mp(v, 2, &mut value)?,
            None => {
                value.push(packed::NULL);
                Packing::CLEAN
            }
        });
    }
    if !(found.distinct && header.distinct) {
        let Some(rec) = record(header, entry, false)? else {
            return Ok(None);
        };
        value.clear();
        packed::pack(&rec.value, &mut value);
    } else if !found.finite {
        return Ok(None);
    }
    Ok(Some(PackedRecord {
        id: new_uuid(),
        store: header.store.clone(),
        key: entry.key.clone().unwrap_or_default(),
        value,
        value_hash: None,
        causation: None,
        transaction_time: entry.ts_ms as f64 / 1000.0,
        valid_time: header.valid_time,
        schema_version: Json::Int(header.schema_version),
        producer: None,
        derivation: None,
    }))
}

/// Whether every float of `v` is finite (`value_hash` of a value `to_json` built
/// fails on nothing else: its nesting is bounded there, its BigInts are digits).
fn finite(v: &Json) -> bool {
    match v {
        Json::Float(f) => f.is_finite(),
        Json::Array(items) => items.iter().all(finite),
        Json::Object(members) => members.iter().all(|(_, v)| finite(v)),
        _ => true,
    }
}

/// One fact, as `CompactDelta#decode_entry` builds it; `None` = skipped (Ruby
/// rescued). Without `hash`, `value_hash` is left `None` (see [`salvage_segment_with`]).
fn record(header: &Header, entry: &Entry, hash: bool) -> Result<Option<FactRecord>, Unsupported> {
    let mut members = Vec::with_capacity(header.fields.len());
    for (i, field) in header.fields.iter().enumerate() {
        let v = match entry.vals.get(i) {
            Some(v) => to_json(v, 2)?,
            None => Json::Null,
        };
        members.push((field.clone(), v));
    }
    // Ruby Hash assignment: a repeated key keeps its first position, takes the new value.
    let value = Json::Object(ruby_hash(members));
    let hash = if hash {
        match value_hash(&value) {
            Ok(h) => Some(h),
            Err(Error::NonFinite(_)) => return Ok(None),
            Err(_) => return unsupported("value cannot be hashed"),
        }
    } else if finite(&value) {
        None
    } else {
        return Ok(None);
    };
    Ok(Some(FactRecord {
        id: new_uuid(),
        store: header.store.clone(),
        key: entry.key.clone().unwrap_or_default(),
        value,
        value_hash: hash,
        causation: None,
        transaction_time: entry.ts_ms as f64 / 1000.0,
        valid_time: header.valid_time,
        schema_version: Json::Int(header.schema_version),
        producer: Json::Null,
        derivation: Json::Null,
    }))
}

/// After damage, the next frame is a header or a batch.
struct CompactFrames;

impl Resync for CompactFrames {
    type Error = Unsupported;

    fn plausible(&self, body: &[u8]) -> bool {
        salvage::msgpack_map_start(body) || body.get(4..).is_some_and(salvage::zlib_header)
    }

    fn accepts(&self, body: &[u8]) -> Result<bool, Unsupported> {
        Ok(header_like(body)?.is_some() || batch_like(body)?.is_some())
    }
}

/// Salvages a whole compact segment (format.md "Segments: salvage"): the facts of every
/// batch whose header (the header frame, else the first batch's `h`), keys (every `km`
/// read so far) and times (the running delta chain, else the batch's own `t`) are
/// known, plus the damaged spans.
/// Batches are inflated in parallel; keys and times are resolved in file order.
///
/// `Err(Unsupported)` when a CRC-valid frame holds something only the Ruby decoder
/// reproduces exactly (it then salvages the segment).
pub fn salvage_segment(buf: &[u8]) -> Result<Salvaged<FactRecord>, Unsupported> {
    salvage_walk(buf, |h, e| record(h, e, true), |rec| rec)
}

/// [`salvage_segment`] with each fact as a [`PackedRecord`] whose value is packed
/// straight from the MessagePack entry (no model tree, the bytes `packed::pack` of
/// the model gives) and whose `value_hash` is `None`, for a caller that computes it
/// when it is read (the same facts are skipped: a value with a non-finite float has
/// no hash). Each fact goes to `each` in file order as soon as its window of frames
/// is decoded, so a segment's decoded records and inflated batches are never all
/// alive at once (a 64 MB segment holds millions of facts); the result holds what
/// `each` returned. On `Err` some facts may have been handed over already: the
/// caller drops them with the rest.
pub fn salvage_segment_packed<T>(
    buf: &[u8],
    each: impl FnMut(PackedRecord) -> T,
) -> Result<Salvaged<T>, Unsupported> {
    salvage_walk(buf, packed_record, each)
}

/// The salvage of [`salvage_segment`], each fact built by `build` (in parallel) and
/// handed to `each` (in file order), one window of frames at a time.
fn salvage_walk<R: Send, T>(
    buf: &[u8],
    build: impl Fn(&Header, &Entry) -> Result<Option<R>, Unsupported> + Sync,
    mut each: impl FnMut(R) -> T,
) -> Result<Salvaged<T>, Unsupported> {
    let (frames, spans) = salvage::split(buf, &CompactFrames)?;
    let mut chain = Chain {
        headers: Vec::new(),
        kept: vec![false; frames.len()],
        st: ChainState::default(),
        prev_end: 0,
    };
    let mut built = Vec::new();
    for (w, window) in frames.chunks(WINDOW).enumerate() {
        let batches = inflate_batches(buf, window);
        let decoded = chain.follow(buf, w * WINDOW, window, batches)?;
        for (i, rec) in build_facts(&chain.headers, &decoded, &build)? {
            built.push((i, rec.map(&mut each)));
        }
    }
    Ok(assemble(&frames, &chain.kept, built, spans))
}

/// Frames inflated and decoded per round: 1,024 batches of 64 facts.
const WINDOW: usize = 1024;

/// What reading the frames in file order found so far.
struct Chain {
    headers: Vec<Header>,
    /// Per frame: kept (a header, a batch that gives facts, an empty batch).
    kept: Vec<bool>,
    st: ChainState,
    /// End of the last frame read.
    prev_end: usize,
}

/// (frame index, header index, entries) of the batches of one window that give facts.
type Batches = Vec<(usize, usize, Vec<Entry>)>;

/// Each frame's batch, when it is one, inflated and unpacked in parallel.
fn inflate_batches(buf: &[u8], frames: &[salvage::Frame]) -> Vec<Result<Option<Mp>, Unsupported>> {
    let classify = |f: &salvage::Frame| batch_like(&buf[f.body.clone()]);
    if frames.len() < 4 {
        frames.iter().map(classify).collect()
    } else {
        pool(|| frames.par_iter().map(classify).collect())
    }
}

impl Chain {
    /// Walks the window's frames (the first is frame `base`) in file order, resolving
    /// the header, the key names and the running time of each batch; damage between
    /// two frames (a gap) or a frame that is no batch breaks the time chain until a
    /// batch with its own `t`.
    fn follow(
        &mut self,
        buf: &[u8],
        base: usize,
        frames: &[salvage::Frame],
        batches: Vec<Result<Option<Mp>, Unsupported>>,
    ) -> Result<Batches, Unsupported> {
        let mut decoded = Vec::new();
        let st = &mut self.st;
        for ((n, frame), batch) in frames.iter().enumerate().zip(batches) {
            let i = base + n;
            if frame.offset != self.prev_end {
                st.broken = true; // damaged bytes lie between this frame and the last one
            }
            self.prev_end = frame.offset + frame.len;
            if !st.accepted {
                if let Some(h) = header_like(&buf[frame.body.clone()])? {
                    self.headers.push(h);
                    st.header = Some(self.headers.len() - 1);
                    st.accepted = true;
                    self.kept[i] = true;
                    continue;
                }
            }
            let Some(batch) = batch? else {
                st.broken = true;
                continue;
            };
            st.accepted = true;
            let mut parts = batch_parts(batch)?;
            if let (None, Some(own)) = (st.header, parts.h.take()) {
                self.headers.push(own);
                st.header = Some(self.headers.len() - 1);
            }
            let Some(entries) = batch_entries(parts, st)? else {
                continue; // times unknown: the chain stays broken
            };
            // Facts need the header and every key; else the batch is undecodable.
            match st.header {
                Some(h) if entries.iter().all(|e| e.key.is_some()) => {
                    self.kept[i] = true;
                    decoded.push((i, h, entries));
                }
                _ => self.kept[i] = entries.is_empty(),
            }
        }
        Ok(decoded)
    }
}

/// The facts of the decoded batches, built (and hashed) in parallel, each with
/// the index of its frame; `None` for an entry Ruby's decoder skips too.
fn build_facts<R: Send>(
    headers: &[Header],
    decoded: &Batches,
    build: &(impl Fn(&Header, &Entry) -> Result<Option<R>, Unsupported> + Sync),
) -> Result<Vec<(usize, Option<R>)>, Unsupported> {
    let jobs: Vec<(usize, &Header, &Entry)> = decoded
        .iter()
        .flat_map(|(i, h, entries)| entries.iter().map(|e| (*i, &headers[*h], e)))
        .collect();
    let build = |(i, h, e): &(usize, &Header, &Entry)| build(h, e).map(|rec| (*i, rec));
    if jobs.len() < PARALLEL_THRESHOLD {
        jobs.iter().map(build).collect()
    } else {
        pool(|| jobs.par_iter().map(build).collect())
    }
}

/// The salvage result: the facts in file order, the kept frames with their
/// fact counts, and every other frame as an undecodable span beside the
/// damage `split` found.
fn assemble<T>(
    frames: &[salvage::Frame],
    kept: &[bool],
    built: Vec<(usize, Option<T>)>,
    mut spans: Vec<Span>,
) -> Salvaged<T> {
    let mut counts = vec![0; frames.len()];
    let mut out = Salvaged::default();
    for (i, rec) in built {
        if let Some(rec) = rec {
            counts[i] += 1;
            out.facts.push(rec);
        }
    }
    for (i, frame) in frames.iter().enumerate() {
        if kept[i] {
            out.frames.push(Kept {
                offset: frame.offset,
                len: frame.len,
                facts: counts[i],
            });
        } else {
            spans.push(Span {
                offset: frame.offset,
                len: frame.len,
                reason: Reason::Undecodable,
            });
        }
    }
    out.spans = salvage::merge(spans);
    out
}

/// Decodes the good prefix of a compact segment (the frames before the first damaged
/// one), as 0.5.2 read segments; no header frame = no facts.
pub fn decode_segment(buf: &[u8]) -> Result<Decoded, Unsupported> {
    let scan = scan_frames(buf);
    let salvaged = salvage_segment(&buf[..scan.valid_len])?;
    Ok(Decoded {
        facts: salvaged.facts,
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
    use crate::wal::frame::encode_frame;
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

    /// Re-encoding the fixture's facts reproduces its batch payload's `km` and `e`
    /// members exactly (0.5.2's bytes, so 0.5.2 reads the batch as before) and adds `t`
    /// (the first entry's absolute time) and `h` (the header frame's body).
    #[test]
    fn records_hashed_on_read_are_the_salvaged_facts() {
        use crate::fact::compact::CompactFacts;
        let (bytes, _) = batches(WINDOW * 2 + 3);
        for buf in [fixture(), bytes] {
            let whole = salvage_segment(&buf).expect("supported");
            let mut kept = CompactFacts::default();
            let lazy = salvage_segment_packed(&buf, |rec| {
                assert!(rec.value_hash.is_none());
                kept.push_packed_hash_on_read(&rec);
            })
            .expect("supported");
            assert_eq!((lazy.frames, lazy.spans), (whole.frames, whole.spans));
            assert_eq!(kept.len(), whole.facts.len());
            for (pos, rec) in whole.facts.iter().enumerate() {
                let back = kept.view(pos as u32).unwrap().to_record();
                assert_eq!(
                    FactRecord {
                        id: rec.id.clone(),
                        ..back
                    },
                    *rec
                );
            }
        }
    }

    #[test]
    fn a_value_without_a_hash_is_skipped_either_way() {
        let header = Header {
            store: "s".into(),
            fields: vec!["x".into()],
            distinct: true,
            valid_time: None,
            schema_version: 1,
        };
        let entry = Entry {
            key: Some("k".into()),
            ts_ms: 1,
            vals: vec![Mp::Array(vec![Mp::Float(f64::NAN)])],
        };
        assert!(record(&header, &entry, true).unwrap().is_none());
        assert!(record(&header, &entry, false).unwrap().is_none());
        assert!(packed_record(&header, &entry).unwrap().is_none());
    }

    #[test]
    fn a_value_packed_from_messagepack_is_the_packed_model() {
        let s = |t: &str| Mp::Str(t.as_bytes().to_vec());
        let map = |pairs: Vec<(Mp, Mp)>| Mp::Map(pairs);
        let values = [
            vec![Mp::Int(-3), s("a"), Mp::Float(1.5), Mp::Nil, Mp::Bool(true)],
            vec![
                Mp::UInt(u64::MAX),
                Mp::Array(vec![s("x"), Mp::Int(7)]),
                Mp::Bool(false),
            ],
            vec![map(vec![(s("x"), Mp::Int(1)), (Mp::Int(2), s("y"))])],
            // Repeated keys: "1" twice (as Integer and String), and "a" twice.
            vec![map(vec![(Mp::Int(1), s("p")), (s("1"), s("q"))])],
            vec![map(vec![
                (s("a"), Mp::Int(1)),
                (s("b"), Mp::Int(2)),
                (s("a"), Mp::Int(3)),
            ])],
            vec![map((0..12)
                .map(|i| (s(&format!("k{}", i % 10)), Mp::Int(i)))
                .collect())],
            vec![],
        ];
        for fields in [vec!["f", "g", "h", "i", "j"], vec!["f", "g", "f"]] {
            let header = Header {
                store: "s".into(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
                distinct: fields
                    .iter()
                    .enumerate()
                    .all(|(i, f)| !fields[i + 1..].contains(f)),
                valid_time: Some(2.0),
                schema_version: 3,
            };
            for vals in &values {
                let entry = Entry {
                    key: Some("k".into()),
                    ts_ms: 1_500,
                    vals: vals.clone(),
                };
                let rec = record(&header, &entry, false).unwrap().unwrap();
                let got = packed_record(&header, &entry).unwrap().unwrap();
                let mut want = Vec::new();
                packed::pack(&rec.value, &mut want);
                assert_eq!(got.value, want, "{vals:?}");
                assert_eq!(
                    (
                        got.store,
                        got.key,
                        got.transaction_time,
                        got.valid_time,
                        got.schema_version
                    ),
                    (
                        rec.store,
                        rec.key,
                        rec.transaction_time,
                        rec.valid_time,
                        rec.schema_version
                    )
                );
            }
        }
        let bad = Entry {
            key: Some("k".into()),
            ts_ms: 1,
            vals: vec![Mp::Bin(vec![1])],
        };
        let header = Header {
            store: "s".into(),
            fields: vec!["x".into()],
            distinct: true,
            valid_time: None,
            schema_version: 1,
        };
        assert!(record(&header, &bad, false).is_err() && packed_record(&header, &bad).is_err());
    }

    #[test]
    fn re_encodes_the_0_5_2_batch_members_byte_for_byte_and_adds_t_and_h() {
        let bytes = fixture();
        let scan = scan_frames(&bytes);
        let header_body = &bytes[scan.bodies[0].clone()];
        let original = inflate(&bytes[scan.bodies[1].clone()]).expect("inflates");
        let decoded = decode_segment(&bytes).expect("supported");
        let mut enc = CompactEncoder::new(header_body);
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
        // 0.5.2's map has two members: 0x82, then km and e; ours has four.
        assert_eq!(original[0], 0x82);
        assert_eq!(payload[0], 0x84);
        assert_eq!(&payload[1..original.len()], &original[1..]);
        let mut tail = Vec::new();
        mp::write_str("t", &mut tail);
        mp::write_int(1_795_675_821_461, &mut tail);
        mp::write_str("h", &mut tail);
        tail.extend_from_slice(header_body);
        assert_eq!(&payload[original.len()..], &tail[..]);
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

    fn encoder() -> CompactEncoder {
        CompactEncoder::new(&header_doc(&["n"]))
    }

    #[test]
    fn deltas_and_key_dictionary_carry_across_batches() {
        let mut enc = encoder();
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
        let mut enc = encoder();
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
        let mut enc = encoder();
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
        let mut cut_zlib = Vec::new();
        encode_frame(&header, &mut cut_zlib);
        encode_frame(b"\0\0\0\x01\x78\xDA\x01", &mut cut_zlib);
        assert!(decode_segment(&cut_zlib).is_err());
        let bin_value = [
            0x82, 0xA2, b'k', b'm', 0x81, 0xA1, b'0', 0xA1, b'k', 0xA1, b'e', 0x91, 0x93, 0x00,
            0x01, 0x91, 0xC4, 0x01, 0xFF,
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

    /// A CRC-valid frame that cannot be a header (no map marker) nor a batch (no zlib
    /// header after the count) is undecodable on both paths: decided here.
    #[test]
    fn a_frame_that_is_neither_header_nor_batch_is_an_undecodable_span() {
        let header = header_doc(&["n"]);
        let mut enc = encoder();
        enc.push("a", 1.0, &[Json::Int(1)]).expect("ok");
        let (_, payload) = enc.batch().expect("batch");
        let mut bytes = segment(&header, &[&payload]);
        let junk_at = bytes.len();
        encode_frame(b"\0\0\0\x01not zlib", &mut bytes);
        let salvaged = salvage_segment(&bytes).expect("decided in Rust");
        assert_eq!(salvaged.facts.len(), 1);
        assert_eq!(
            salvaged.spans,
            vec![Span {
                offset: junk_at,
                len: 20,
                reason: Reason::Undecodable
            }]
        );
    }

    /// A segment of `n` one-fact batches written by the encoder, and the frame offsets.
    fn batches(n: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
        let header = header_doc(&["n"]);
        let mut enc = encoder();
        let mut out = Vec::new();
        encode_frame(&header, &mut out);
        let mut frames = vec![(0, out.len())];
        for i in 0..n {
            enc.push(
                &format!("k{}", i % 3),
                1_700_000_000.0 + i as f64 * 0.25,
                &[Json::Int(i as i64)],
            )
            .expect("ok");
            let (count, payload) = enc.batch().expect("batch");
            enc.commit();
            let mut z = ZlibEncoder::new(count.to_be_bytes().to_vec(), Compression::best());
            z.write_all(&payload).expect("in memory");
            let start = out.len();
            encode_frame(&z.finish().expect("in memory"), &mut out);
            frames.push((start, out.len() - start));
        }
        (out, frames)
    }

    fn signature(facts: &[FactRecord]) -> Vec<(String, f64, Json)> {
        facts
            .iter()
            .map(|f| (f.key.clone(), f.transaction_time, f.value.clone()))
            .collect()
    }

    /// Self-contained batches: flipping a bit in any one frame (the header included)
    /// loses exactly the facts of that frame; keys and times of the others are exact.
    #[test]
    fn damage_to_any_one_frame_costs_only_its_facts() {
        let (bytes, frames) = batches(6);
        let all = signature(&salvage_segment(&bytes).expect("ok").facts);
        assert_eq!(all.len(), 6);
        for (i, (offset, len)) in frames.iter().enumerate() {
            let mut damaged = bytes.clone();
            damaged[offset + len / 2] ^= 0x10;
            let salvaged = salvage_segment(&damaged).expect("ok");
            let mut expected = all.clone();
            if i > 0 {
                expected.remove(i - 1);
            }
            assert_eq!(signature(&salvaged.facts), expected, "frame {i}");
            assert_eq!(
                salvaged.spans,
                vec![Span {
                    offset: *offset,
                    len: *len,
                    reason: Reason::BadCrc
                }],
                "frame {i}"
            );
            assert_eq!(salvaged.frames.len(), frames.len() - 1);
        }
    }

    #[test]
    fn damage_in_two_places_and_a_torn_tail_after_it() {
        let (bytes, frames) = batches(6);
        let all = signature(&salvage_segment(&bytes).expect("ok").facts);
        let mut damaged = bytes.clone();
        damaged[frames[0].0] ^= 0x80; // header length beyond MAX_FRAME_LEN
        damaged[frames[3].0 + 9] ^= 0x01; // third batch
        damaged.truncate(frames[6].0 + 5); // last batch torn
        let salvaged = salvage_segment(&damaged).expect("ok");
        assert_eq!(
            signature(&salvaged.facts),
            vec![
                all[0].clone(),
                all[1].clone(),
                all[3].clone(),
                all[4].clone()
            ]
        );
        let reasons: Vec<Reason> = salvaged.spans.iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            vec![Reason::Oversized, Reason::BadCrc, Reason::Torn]
        );
    }

    /// 0.5.2's batches carry neither `t` nor `h`: after a lost batch the running time
    /// is unknown, so the later batches are reported undecodable (their bytes stay),
    /// and a lost header leaves no batch decodable.
    #[test]
    fn legacy_batches_after_a_lost_one_are_undecodable_not_mistimed() {
        let header = header_doc(&["n"]);
        let legacy = |km: Vec<(String, Json)>, key: i64, delta: i64, v: i64| {
            packed(&Json::Object(vec![
                ("km".into(), Json::Object(km)),
                (
                    "e".into(),
                    Json::Array(vec![Json::Array(vec![
                        Json::Int(key),
                        Json::Int(delta),
                        Json::Array(vec![Json::Int(v)]),
                    ])]),
                ),
            ]))
        };
        let one = legacy(vec![("0".into(), Json::Str("a".into()))], 0, 1_000, 1);
        let two = legacy(vec![], 0, 5, 2);
        let three = legacy(vec![], 0, 5, 3);
        let bytes = segment(&header, &[&one, &two, &three]);
        let clean = salvage_segment(&bytes).expect("ok");
        let times: Vec<f64> = clean.facts.iter().map(|f| f.transaction_time).collect();
        assert_eq!(times, vec![1.0, 1.005, 1.01]);
        let starts: Vec<usize> = scan_frames(&bytes)
            .bodies
            .iter()
            .map(|b| b.start - 4)
            .collect();
        let mut damaged = bytes.clone();
        damaged[starts[1] + 7] ^= 0x01;
        let salvaged = salvage_segment(&damaged).expect("ok");
        assert!(salvaged.facts.is_empty());
        let reasons: Vec<Reason> = salvaged.spans.iter().map(|s| s.reason).collect();
        assert_eq!(reasons, vec![Reason::BadCrc, Reason::Undecodable]);
        assert_eq!(salvaged.spans[1].offset, starts[2]);
        let mut headless = bytes.clone();
        headless[starts[0] + 5] ^= 0x01;
        let salvaged = salvage_segment(&headless).expect("ok");
        assert!(salvaged.facts.is_empty());
        assert_eq!(salvaged.frames.len(), 0);
        // Garbage before the first batch (the one naming key 0) loses nothing.
        let mut shifted = bytes[..starts[1]].to_vec();
        shifted.extend_from_slice(b"\x00\x01\x02\x03");
        shifted.extend_from_slice(&bytes[starts[1]..]);
        let salvaged = salvage_segment(&shifted).expect("ok");
        assert_eq!(salvaged.facts.len(), 3);
        assert_eq!(salvaged.spans[0].reason, Reason::Garbage);
    }

    #[test]
    fn garbage_between_frames_is_skipped() {
        let (bytes, frames) = batches(3);
        let all = signature(&salvage_segment(&bytes).expect("ok").facts);
        let mut damaged = bytes[..frames[2].0].to_vec();
        damaged.extend_from_slice(b"\x00\x01junk\xFF");
        damaged.extend_from_slice(&bytes[frames[2].0..]);
        let salvaged = salvage_segment(&damaged).expect("ok");
        assert_eq!(signature(&salvaged.facts), all);
        assert_eq!(
            salvaged.spans,
            vec![Span {
                offset: frames[2].0,
                len: 7,
                reason: Reason::Garbage
            }]
        );
    }

    #[test]
    fn a_rollback_takes_back_exactly_the_last_push() {
        let mut enc = encoder();
        enc.push("a", 1.0, &[Json::Int(1)]).expect("ok");
        let (_, one) = enc.batch().expect("batch");
        enc.push("b", 2.0, &[Json::Int(2)]).expect("ok");
        enc.rollback();
        enc.rollback(); // only one push can be taken back
        assert_eq!(enc.batch().expect("batch").1, one);
        enc.commit();
        enc.push("b", 2.0, &[Json::Int(2)]).expect("ok");
        enc.rollback();
        assert!(enc.batch().is_none());
        enc.push("a", 3.0, &[Json::Int(3)]).expect("ok");
        let (_, two) = enc.batch().expect("batch");
        let km = mp::unpack(&two).expect("map");
        assert_eq!(
            km.get("km"),
            Some(&Mp::Map(vec![(
                Mp::Str(b"0".to_vec()),
                Mp::Str(b"a".to_vec())
            )]))
        );
        assert_eq!(km.get("t"), Some(&Mp::Int(3_000)));
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
