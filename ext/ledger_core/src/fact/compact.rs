//! The in-memory log's facts as compact records (doc/performance.md "Native fact
//! records"): a fixed 104-byte [`Compact`] per fact, store and key interned, ids,
//! causations and value hashes as their bytes when they have the canonical spelling
//! (text otherwise), and the data members packed ([`crate::json::packed`]) into
//! chunked arenas. A replay fills it without building anything else; the binding
//! builds a fact's Ruby object from its record on first touch.

use rustc_hash::FxHashMap;

use crate::fact::{FactRecord, FastRecord, PackedRecord};
use crate::json::packed;
use crate::json::packed_canonical::packed_value_hash;
use crate::json::Json;

/// Flag bits of a [`Compact`].
const BUILT: u32 = 1;
const HAS_VALID_TIME: u32 = 1 << 1;
const ID_TEXT: u32 = 1 << 2;
const CAUSATION_NONE: u32 = 1 << 3;
const CAUSATION_TEXT: u32 = 1 << 4;
const HASH_NONE: u32 = 1 << 5;
const HASH_TEXT: u32 = 1 << 6;
/// `schema_version` other than 1 (packed after the value).
const HAS_SCHEMA: u32 = 1 << 7;
const HAS_PRODUCER: u32 = 1 << 8;
const HAS_DERIVATION: u32 = 1 << 9;
/// `value_hash` not stored: computed from the packed value when read.
const HASH_ON_READ: u32 = 1 << 10;

/// Bytes per arena chunk. A chunk never grows past its capacity, so nothing is
/// ever moved; a larger data blob gets a chunk of its own.
const CHUNK: usize = 1 << 20;

/// One fact. A 16-byte field holds a canonical UUID's bits, or (with its `*_TEXT`
/// flag) the index of its text in `texts`; `hash` the 32 bytes of a lowercase hex
/// SHA-256, or likewise a text index.
#[derive(Debug, Clone, Copy)]
struct Compact {
    tt: f64,
    vt: f64,
    id: [u8; 16],
    causation: [u8; 16],
    hash: [u8; 32],
    store: u32,
    key: u32,
    chunk: u32,
    offset: u32,
    len: u32,
    flags: u32,
}

// The size doc/performance.md documents.
const _: () = assert!(std::mem::size_of::<Compact>() == 104);

/// Texts numbered in first-seen order.
#[derive(Debug, Default, Clone)]
struct Interner {
    names: Vec<Box<str>>,
    numbers: FxHashMap<Box<str>, u32>,
    /// The number [`Interner::intern_again`] returned last.
    last: u32,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(n) = self.numbers.get(s) {
            return *n;
        }
        let n = self.names.len() as u32;
        self.names.push(s.into());
        self.numbers.insert(s.into(), n);
        n
    }

    /// [`Interner::intern`] for texts that mostly repeat the one before (a log's
    /// stores): comparing with that one costs less than hashing the text.
    fn intern_again(&mut self, s: &str) -> u32 {
        if self
            .names
            .get(self.last as usize)
            .is_some_and(|name| **name == *s)
        {
            return self.last;
        }
        self.last = self.intern(s);
        self.last
    }
}

/// The id, causation and value hash of a fact as a record stores them: the bytes
/// of their canonical spellings, `None` for any other text (or none at all). A
/// replay computes it on its decode threads ([`crate::fact::decode_fast_body`]),
/// so the append under the log's lock and the id index parse nothing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdBytes {
    pub id: Option<[u8; 16]>,
    pub causation: Option<[u8; 16]>,
    pub value_hash: Option<[u8; 32]>,
}

impl IdBytes {
    pub fn of(id: &str, causation: Option<&str>, value_hash: Option<&str>) -> IdBytes {
        IdBytes {
            id: uuid_bytes(id),
            causation: causation.and_then(uuid_bytes),
            value_hash: value_hash.and_then(hash_bytes),
        }
    }
}

/// What [`CompactFacts::push_parts`] stores, borrowed from either decoded form.
struct Parts<'a> {
    bytes: IdBytes,
    id: &'a str,
    store: &'a str,
    key: &'a str,
    value_hash: Option<&'a str>,
    causation: Option<&'a str>,
    tt: f64,
    vt: Option<f64>,
    blob: &'a [u8],
    flags: u32,
}

/// The records of a log, by position.
#[derive(Debug, Default, Clone)]
pub struct CompactFacts {
    recs: Vec<Compact>,
    stores: Interner,
    keys: Interner,
    texts: Vec<Box<str>>,
    chunks: Vec<Vec<u8>>,
    scratch: Vec<u8>,
}

/// The canonical UUID spelling (lowercase, hyphenated 8-4-4-4-12) as its bytes.
pub fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    uuid_from_ascii(s.as_bytes())
}

/// [`uuid_bytes`] of bytes: `Some` only for the canonical spelling, which is
/// ASCII (so those bytes are also that text).
pub fn uuid_from_ascii(b: &[u8]) -> Option<[u8; 16]> {
    let b: &[u8; 36] = b.try_into().ok()?;
    if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    // The 32 digits without the hyphens, then eight digits at a time.
    let mut digits = [0u8; 32];
    digits[..8].copy_from_slice(&b[..8]);
    digits[8..12].copy_from_slice(&b[9..13]);
    digits[12..16].copy_from_slice(&b[14..18]);
    digits[16..20].copy_from_slice(&b[19..23]);
    digits[20..].copy_from_slice(&b[24..]);
    let mut out = [0u8; 16];
    hex_decode(&digits, &mut out)?;
    Some(out)
}

/// A lowercase 64-digit hex text as its 32 bytes.
pub fn hash_bytes(s: &str) -> Option<[u8; 32]> {
    hash_from_ascii(s.as_bytes())
}

/// [`hash_bytes`] of bytes (`Some` only for 64 lowercase hex digits).
pub fn hash_from_ascii(b: &[u8]) -> Option<[u8; 32]> {
    let text: &[u8; 64] = b.try_into().ok()?;
    let mut out = [0u8; 32];
    hex_decode(text, &mut out)?;
    Some(out)
}

/// Lowercase hex digits `text` (twice as many as `out` holds) into `out`; `None`
/// when a byte is no lowercase hex digit. Eight digits per step ([`hex_word`]):
/// a replay reads an id and a value hash per fact, and a digit at a time cost
/// about 400 instructions per fact (doc/performance.md "Open, round 2").
fn hex_decode(text: &[u8], out: &mut [u8]) -> Option<()> {
    for (digits, bytes) in text.chunks_exact(8).zip(out.chunks_exact_mut(4)) {
        let word = u64::from_le_bytes(digits.try_into().ok()?);
        bytes.copy_from_slice(&hex_word(word)?);
    }
    Some(())
}

/// Eight lowercase hex digits (the first one in the lowest byte) as four bytes.
fn hex_word(w: u64) -> Option<[u8; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    if w & HIGHS != 0 {
        return None;
    }
    // Every byte is below 0x80, so adding (0x80 - lo) sets a byte's high bit
    // exactly when it is >= lo, and adding (0x7f - hi) exactly when it is > hi,
    // with no carry into the next byte.
    let at_least = |lo: u64| (w + (0x80 - lo) * ONES) & HIGHS;
    let above = |hi: u64| (w + (0x7f - hi) * ONES) & HIGHS;
    let digit = at_least(0x30) & !above(0x39);
    let letter = at_least(0x61) & !above(0x66);
    if digit | letter != HIGHS {
        return None;
    }
    // '0'..'9' are their low nibble; 'a'..'f' their low nibble (1..6) plus 9.
    let v = (w & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Byte 2k of `t` is digit 2k times 16 plus digit 2k + 1.
    let t = (v << 4) | (v >> 8);
    Some([t as u8, (t >> 16) as u8, (t >> 32) as u8, (t >> 48) as u8])
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_into(bytes: &[u8], out: &mut String) {
    let mut text = Vec::with_capacity(bytes.len() * 2);
    hex_bytes(bytes, &mut text);
    // Hex digits are ASCII, so the check cannot fail.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

fn hex_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// The canonical spelling of UUID bytes, appended to `out`: built in a stack
/// buffer, since a String pushed a char at a time cost ~550 instructions per
/// id on the file write path (doc/performance.md "File writes").
pub fn write_uuid_text(bytes: &[u8; 16], out: &mut Vec<u8>) {
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1; // the dash already there
        }
        if let Some(pair) = text.get_mut(at..at + 2) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 15)];
        }
        at += 2;
    }
    out.extend_from_slice(&text);
}

/// The canonical spelling of UUID bytes.
pub fn uuid_text(bytes: &[u8; 16]) -> String {
    let mut out = Vec::with_capacity(36);
    write_uuid_text(bytes, &mut out);
    // Hex digits and dashes are ASCII, so the check cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

fn text_index(field: &[u8]) -> usize {
    u32::from_le_bytes([field[0], field[1], field[2], field[3]]) as usize
}

/// What a record says about one of its 16/32-byte members.
fn indexed(n: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&(n as u32).to_le_bytes());
    out
}

impl CompactFacts {
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Room for `n` more records.
    pub fn reserve(&mut self, n: usize) {
        self.recs.reserve(n);
    }

    /// Keeps only the first `len` records (their texts and data stay allocated).
    pub fn truncate(&mut self, len: usize) {
        self.recs.truncate(len);
    }

    fn text(&mut self, s: &str) -> usize {
        self.texts.push(s.into());
        self.texts.len() - 1
    }

    /// Appends the record of a fact whose object is built elsewhere and kept: only
    /// its times are recorded.
    pub fn push_built(&mut self, tt: f64, vt: Option<f64>) {
        self.recs.push(Compact {
            tt,
            vt: vt.unwrap_or(0.0),
            id: [0; 16],
            causation: [0; 16],
            hash: [0; 32],
            store: 0,
            key: 0,
            chunk: 0,
            offset: 0,
            len: 0,
            flags: BUILT | if vt.is_some() { HAS_VALID_TIME } else { 0 },
        });
    }

    /// Appends a decoded fact.
    pub fn push(&mut self, rec: &FactRecord) {
        let mut blob = std::mem::take(&mut self.scratch);
        blob.clear();
        packed::pack(&rec.value, &mut blob);
        let mut flags = 0;
        if rec.schema_version != Json::Int(1) {
            flags |= HAS_SCHEMA;
            packed::pack(&rec.schema_version, &mut blob);
        }
        if rec.producer != Json::Null {
            flags |= HAS_PRODUCER;
            packed::pack(&rec.producer, &mut blob);
        }
        if rec.derivation != Json::Null {
            flags |= HAS_DERIVATION;
            packed::pack(&rec.derivation, &mut blob);
        }
        self.push_parts(&Parts {
            bytes: IdBytes::of(&rec.id, rec.causation.as_deref(), rec.value_hash.as_deref()),
            id: &rec.id,
            store: &rec.store,
            key: &rec.key,
            value_hash: rec.value_hash.as_deref(),
            causation: rec.causation.as_deref(),
            tt: rec.transaction_time,
            vt: rec.valid_time,
            blob: &blob,
            flags,
        });
        self.scratch = blob;
    }

    /// Appends a decoded fact whose `value_hash` (`rec.value_hash` is not read) is
    /// computed from its packed value when read: a segment open need not hash
    /// millions of values nobody reads (doc/performance.md "Segmented open"). The
    /// hash read is `value_hash` of the unpacked value (packed_canonical.rs); the
    /// caller has checked that there is one (every float finite).
    pub fn push_hash_on_read(&mut self, rec: &FactRecord) {
        self.push(rec);
        self.hash_on_read_last();
    }

    /// [`Self::push_packed`] with the `value_hash` computed when read, as
    /// [`Self::push_hash_on_read`].
    pub fn push_packed_hash_on_read(&mut self, rec: &PackedRecord) {
        self.push_packed(rec);
        self.hash_on_read_last();
    }

    fn hash_on_read_last(&mut self) {
        if let Some(last) = self.recs.last_mut() {
            last.flags = (last.flags & !(HASH_NONE | HASH_TEXT)) | HASH_ON_READ;
            last.hash = [0; 32];
        }
    }

    /// Appends a fact decoded straight into packed data
    /// ([`crate::fact::decode::decode_packed_body`]): the same record as [`Self::push`]
    /// of the same body decoded by `decode_fact_body`.
    pub fn push_packed(&mut self, rec: &PackedRecord) {
        let mut blob = std::mem::take(&mut self.scratch);
        blob.clear();
        blob.extend_from_slice(&rec.value);
        let mut flags = 0;
        if rec.schema_version != Json::Int(1) {
            flags |= HAS_SCHEMA;
            packed::pack(&rec.schema_version, &mut blob);
        }
        if let Some(p) = &rec.producer {
            flags |= HAS_PRODUCER;
            blob.extend_from_slice(p);
        }
        if let Some(d) = &rec.derivation {
            flags |= HAS_DERIVATION;
            blob.extend_from_slice(d);
        }
        self.push_parts(&Parts {
            bytes: IdBytes::of(&rec.id, rec.causation.as_deref(), rec.value_hash.as_deref()),
            id: &rec.id,
            store: &rec.store,
            key: &rec.key,
            value_hash: rec.value_hash.as_deref(),
            causation: rec.causation.as_deref(),
            tt: rec.transaction_time,
            vt: rec.valid_time,
            blob: &blob,
            flags,
        });
        self.scratch = blob;
    }

    /// Appends a fact decoded by [`crate::fact::decode_fast_body`], its data ranges
    /// in `data`: the same record as [`Self::push`] of the same body decoded by
    /// `decode_fact_body`.
    pub fn push_fast(&mut self, rec: &FastRecord<'_>, data: &[u8]) {
        let mut flags = 0;
        let value = &data[rec.value.clone()];
        let mut blob = std::mem::take(&mut self.scratch);
        let common = rec.schema_version == 1 && rec.producer.is_none() && rec.derivation.is_none();
        if !common {
            blob.clear();
            blob.extend_from_slice(value);
            if rec.schema_version != 1 {
                flags |= HAS_SCHEMA;
                packed::pack(&Json::Int(rec.schema_version), &mut blob);
            }
            if let Some(p) = &rec.producer {
                flags |= HAS_PRODUCER;
                blob.extend_from_slice(&data[p.clone()]);
            }
            if let Some(d) = &rec.derivation {
                flags |= HAS_DERIVATION;
                blob.extend_from_slice(&data[d.clone()]);
            }
        }
        self.push_parts(&Parts {
            bytes: rec.bytes,
            id: rec.id,
            store: rec.store,
            key: rec.key,
            value_hash: rec.value_hash,
            causation: rec.causation,
            tt: rec.transaction_time,
            vt: rec.valid_time,
            // The common record is its value alone, copied once into the arena.
            blob: if common { value } else { &blob },
            flags,
        });
        self.scratch = blob;
    }

    fn push_parts(&mut self, rec: &Parts<'_>) {
        let mut flags = rec.flags;
        let id = match rec.bytes.id {
            Some(bits) => bits,
            None => {
                flags |= ID_TEXT;
                indexed(self.text(rec.id))
            }
        };
        let causation = match (rec.causation, rec.bytes.causation) {
            (None, _) => {
                flags |= CAUSATION_NONE;
                [0; 16]
            }
            (Some(_), Some(bits)) => bits,
            (Some(c), None) => {
                flags |= CAUSATION_TEXT;
                indexed(self.text(c))
            }
        };
        let hash = match (rec.value_hash, rec.bytes.value_hash) {
            (None, _) => {
                flags |= HASH_NONE;
                [0; 32]
            }
            (Some(_), Some(bytes)) => bytes,
            (Some(h), None) => {
                flags |= HASH_TEXT;
                let mut out = [0; 32];
                out[..16].copy_from_slice(&indexed(self.text(h)));
                out
            }
        };
        let (chunk, offset) = self.store_blob(rec.blob);
        if rec.vt.is_some() {
            flags |= HAS_VALID_TIME;
        }
        let store = self.stores.intern_again(rec.store);
        let key = self.keys.intern(rec.key);
        self.recs.push(Compact {
            tt: rec.tt,
            vt: rec.vt.unwrap_or(0.0),
            id,
            causation,
            hash,
            store,
            key,
            chunk,
            offset,
            len: rec.blob.len() as u32,
            flags,
        });
    }

    fn store_blob(&mut self, blob: &[u8]) -> (u32, u32) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= blob.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(blob.len())));
        }
        let n = self.chunks.len() - 1;
        let chunk = &mut self.chunks[n];
        let offset = chunk.len();
        chunk.extend_from_slice(blob);
        (n as u32, offset as u32)
    }

    /// The record at `pos`, `None` past the end or for a built fact.
    pub fn view(&self, pos: u32) -> Option<View<'_>> {
        let rec = self.recs.get(pos as usize)?;
        if rec.flags & BUILT != 0 {
            return None;
        }
        Some(View { log: self, rec })
    }

    /// Whether the fact at `pos` was appended built (no record to build from).
    pub fn is_built(&self, pos: u32) -> bool {
        self.recs
            .get(pos as usize)
            .is_some_and(|r| r.flags & BUILT != 0)
    }

    /// Stably sorts the records by transaction time (by value, as Ruby's `<=>`
    /// compares Floats: -0.0 and 0.0 tie).
    pub fn sort_by_time(&mut self) {
        self.recs
            .sort_by(|a, b| a.tt.partial_cmp(&b.tt).unwrap_or(std::cmp::Ordering::Equal));
    }

    /// Transaction and valid time of the fact at `pos`.
    pub fn times(&self, pos: u32) -> Option<(f64, Option<f64>)> {
        let rec = self.recs.get(pos as usize)?;
        Some((rec.tt, (rec.flags & HAS_VALID_TIME != 0).then_some(rec.vt)))
    }

    /// Appends every record of `other` (a segment's records decoded apart from the
    /// log, doc/performance.md "Segmented open"), as [`Self::push`] of the same facts
    /// would: store and key re-interned, texts re-indexed, data copied. A built
    /// record of `other` stays built.
    pub fn append(&mut self, other: &CompactFacts) {
        self.recs.reserve(other.recs.len());
        let stores: Vec<u32> = other
            .stores
            .names
            .iter()
            .map(|s| self.stores.intern(s))
            .collect();
        let keys: Vec<u32> = other
            .keys
            .names
            .iter()
            .map(|k| self.keys.intern(k))
            .collect();
        for rec in &other.recs {
            let mut out = *rec;
            if rec.flags & BUILT == 0 {
                out.store = stores[rec.store as usize];
                out.key = keys[rec.key as usize];
                let chunk = &other.chunks[rec.chunk as usize];
                let blob = &chunk[rec.offset as usize..(rec.offset + rec.len) as usize];
                (out.chunk, out.offset) = self.store_blob(blob);
                if rec.flags & ID_TEXT != 0 {
                    out.id = indexed(self.text(&other.texts[text_index(&rec.id)]));
                }
                if rec.flags & CAUSATION_TEXT != 0 {
                    out.causation = indexed(self.text(&other.texts[text_index(&rec.causation)]));
                }
                if rec.flags & HASH_TEXT != 0 {
                    let n = indexed(self.text(&other.texts[text_index(&rec.hash)]));
                    out.hash = [0; 32];
                    out.hash[..16].copy_from_slice(&n);
                }
            }
            self.recs.push(out);
        }
    }

    /// Whether the transaction times never step back, first to last.
    pub fn in_time_order(&self) -> bool {
        self.recs.windows(2).all(|w| w[0].tt <= w[1].tt)
    }

    /// Transaction time of the first and the last record.
    pub fn time_span(&self) -> Option<(f64, f64)> {
        Some((self.recs.first()?.tt, self.recs.last()?.tt))
    }
}

/// One record, read.
#[derive(Clone, Copy)]
pub struct View<'a> {
    log: &'a CompactFacts,
    rec: &'a Compact,
}

impl<'a> View<'a> {
    fn has(&self, flag: u32) -> bool {
        self.rec.flags & flag != 0
    }

    pub fn id(&self) -> String {
        if self.has(ID_TEXT) {
            return self.log.texts[text_index(&self.rec.id)].to_string();
        }
        uuid_text(&self.rec.id)
    }

    pub fn causation(&self) -> Option<String> {
        if self.has(CAUSATION_NONE) {
            return None;
        }
        if self.has(CAUSATION_TEXT) {
            return Some(self.log.texts[text_index(&self.rec.causation)].to_string());
        }
        Some(uuid_text(&self.rec.causation))
    }

    pub fn value_hash(&self) -> Option<String> {
        if self.has(HASH_ON_READ) {
            return packed_value_hash(self.data().value);
        }
        if self.has(HASH_NONE) {
            return None;
        }
        if self.has(HASH_TEXT) {
            return Some(self.log.texts[text_index(&self.rec.hash)].to_string());
        }
        let mut out = String::with_capacity(64);
        hex_into(&self.rec.hash, &mut out);
        Some(out)
    }

    pub fn store(&self) -> &'a str {
        &self.log.stores.names[self.rec.store as usize]
    }

    /// The store's number (first-seen order), for a per-store cache.
    pub fn store_number(&self) -> u32 {
        self.rec.store
    }

    pub fn key(&self) -> &'a str {
        &self.log.keys.names[self.rec.key as usize]
    }

    /// The key's number (first-seen order), for a per-key cache.
    pub fn key_number(&self) -> u32 {
        self.rec.key
    }

    pub fn transaction_time(&self) -> f64 {
        self.rec.tt
    }

    pub fn valid_time(&self) -> Option<f64> {
        self.has(HAS_VALID_TIME).then_some(self.rec.vt)
    }

    /// The packed data members: (value, schema_version, producer, derivation), the
    /// last three `None` when they are the defaults (1, null, null).
    pub fn data(&self) -> Data<'a> {
        let chunk = &self.log.chunks[self.rec.chunk as usize];
        let start = self.rec.offset as usize;
        let bytes = &chunk[start..start + self.rec.len as usize];
        if self.rec.flags & (HAS_SCHEMA | HAS_PRODUCER | HAS_DERIVATION) == 0 {
            // The common record: the value alone, no boundary to find.
            return Data {
                value: bytes,
                schema_version: None,
                producer: None,
                derivation: None,
            };
        }
        let mut rest = bytes;
        let mut take = |present: bool| -> Option<&'a [u8]> {
            if !present {
                return None;
            }
            let used = packed::node_end(rest, 0)?;
            let (node, tail) = rest.split_at(used);
            rest = tail;
            Some(node)
        };
        let flags = self.rec.flags;
        Data {
            value: take(true).unwrap_or(&[]),
            schema_version: take(flags & HAS_SCHEMA != 0),
            producer: take(flags & HAS_PRODUCER != 0),
            derivation: take(flags & HAS_DERIVATION != 0),
        }
    }

    /// The record as decoded.
    pub fn to_record(&self) -> FactRecord {
        let data = self.data();
        let model = |b: Option<&[u8]>| b.and_then(packed::unpack).unwrap_or(Json::Null);
        FactRecord {
            id: self.id(),
            store: self.store().to_owned(),
            key: self.key().to_owned(),
            value: packed::unpack(data.value).unwrap_or(Json::Null),
            value_hash: self.value_hash(),
            causation: self.causation(),
            transaction_time: self.transaction_time(),
            valid_time: self.valid_time(),
            schema_version: data
                .schema_version
                .and_then(packed::unpack)
                .unwrap_or(Json::Int(1)),
            producer: model(data.producer),
            derivation: model(data.derivation),
        }
    }
}

/// The packed data members of a record.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub value: &'a [u8],
    pub schema_version: Option<&'a [u8]>,
    pub producer: Option<&'a [u8]>,
    pub derivation: Option<&'a [u8]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit reading the look-up table replaced.
    fn reference(b: &[u8], dashes: &[usize]) -> Option<Vec<u8>> {
        let hex = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut digits = Vec::new();
        for (i, &c) in b.iter().enumerate() {
            if dashes.contains(&i) {
                (c == b'-').then_some(())?;
            } else {
                digits.push(hex(c)?);
            }
        }
        Some(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
    }

    #[test]
    fn uuid_and_hash_bytes_take_exactly_the_canonical_spelling() {
        let uuid = *b"0a1b2c3d-4e5f-4678-89ab-cdef01234567";
        let hash = *b"5d62cfb8af96546c5db4860c9ef04c156f6e8e5aecb05a03e77597fb5b28fb2c";
        let as_str = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(
            uuid_text(&uuid_bytes(&as_str(&uuid)).unwrap()),
            as_str(&uuid)
        );
        // Every byte value at every position: the table agrees with the match.
        for at in 0..uuid.len() {
            for c in 0..=255u8 {
                let mut b = uuid;
                b[at] = c;
                let Ok(s) = std::str::from_utf8(&b) else {
                    continue;
                };
                let want = reference(&b, &[8, 13, 18, 23]);
                assert_eq!(uuid_bytes(s).map(|o| o.to_vec()), want, "{s}");
            }
        }
        for at in 0..hash.len() {
            for c in 0..=255u8 {
                let mut b = hash;
                b[at] = c;
                let Ok(s) = std::str::from_utf8(&b) else {
                    continue;
                };
                assert_eq!(hash_bytes(s).map(|o| o.to_vec()), reference(&b, &[]), "{s}");
            }
        }
        assert_eq!(uuid_bytes("0a1b2c3d-4e5f-4678-89ab-cdef0123456"), None);
        assert_eq!(hash_bytes(&as_str(&hash[1..])), None);
    }

    fn record(id: &str, causation: Option<&str>, hash: Option<&str>) -> FactRecord {
        FactRecord {
            id: id.into(),
            store: "tasks".into(),
            key: "k1".into(),
            value: Json::Object(vec![
                ("title".into(), Json::Str("a".into())),
                ("status".into(), Json::Sym("open".into())),
            ]),
            value_hash: hash.map(Into::into),
            causation: causation.map(Into::into),
            transaction_time: 1.5,
            valid_time: None,
            schema_version: Json::Int(1),
            producer: Json::Null,
            derivation: Json::Null,
        }
    }

    #[test]
    fn the_record_comes_back_exactly() {
        let uuid = "0a1b2c3d-0000-4000-8000-00000000000f";
        let hash = "ab".repeat(32);
        let mut log = CompactFacts::default();
        let canonical = record(uuid, Some(uuid), Some(&hash));
        let other = FactRecord {
            schema_version: Json::BigInt("99999999999999999999".into()),
            producer: Json::Object(vec![("by".into(), Json::Str("x".into()))]),
            derivation: Json::Bool(true),
            valid_time: Some(-0.0),
            ..record(
                "0A1B2C3D-0000-4000-8000-00000000000F",
                Some("plain"),
                Some("AB"),
            )
        };
        let bare = record("x", None, None);
        for rec in [&canonical, &other, &bare] {
            log.push(rec);
        }
        log.push_built(3.0, Some(4.0));
        assert_eq!(log.view(0).unwrap().to_record(), canonical);
        assert_eq!(log.view(1).unwrap().to_record(), other);
        assert_eq!(log.view(2).unwrap().to_record(), bare);
        assert!(log.view(3).is_none() && log.is_built(3));
        assert_eq!(log.times(3), Some((3.0, Some(4.0))));
        assert!(log.view(4).is_none());
        assert_eq!(
            log.view(0).unwrap().key_number(),
            log.view(2).unwrap().key_number()
        );
    }

    #[test]
    fn a_sort_by_time_is_stable() {
        let mut log = CompactFacts::default();
        for (i, tt) in [2.0, 1.0, 2.0, 0.0, -0.0].iter().enumerate() {
            log.push(&FactRecord {
                transaction_time: *tt,
                ..record(&format!("id{i}"), None, None)
            });
        }
        log.sort_by_time();
        let ids: Vec<String> = (0..5).map(|p| log.view(p).unwrap().id()).collect();
        assert_eq!(ids, ["id3", "id4", "id1", "id0", "id2"]);
    }

    #[test]
    fn a_hash_on_read_is_the_value_hash_of_the_value() {
        let rec = record("x", None, None);
        let hash = crate::json::hash::value_hash(&rec.value).unwrap();
        let mut log = CompactFacts::default();
        log.push_hash_on_read(&FactRecord {
            value_hash: Some("ignored".into()),
            ..rec.clone()
        });
        let mut other = CompactFacts::default();
        other.append(&log);
        for l in [&log, &other] {
            let back = l.view(0).unwrap().to_record();
            assert_eq!(back.value_hash.as_deref(), Some(hash.as_str()));
            assert_eq!(back.value, rec.value);
        }
    }

    #[test]
    fn an_appended_log_reads_as_if_pushed_here() {
        let uuid = "0a1b2c3d-0000-4000-8000-00000000000f";
        let odd = FactRecord {
            store: "other".into(),
            key: "k9".into(),
            transaction_time: 0.5,
            ..record("not-a-uuid", Some("plain"), Some("AB"))
        };
        let recs = [
            record(uuid, Some(uuid), Some(&"ab".repeat(32))),
            odd,
            record("x", None, None),
        ];
        let mut here = CompactFacts::default();
        here.push(&record("first", None, None));
        let mut other = CompactFacts::default();
        for rec in &recs {
            other.push(rec);
        }
        here.append(&other);
        assert_eq!(here.len(), 4);
        for (i, rec) in recs.iter().enumerate() {
            assert_eq!(&here.view(i as u32 + 1).unwrap().to_record(), rec);
        }
        assert_eq!(
            here.view(1).unwrap().key_number(),
            here.view(0).unwrap().key_number()
        );
        assert!(!here.in_time_order() && other.time_span() == Some((1.5, 1.5)));
    }

    #[test]
    fn blobs_larger_than_a_chunk_get_their_own() {
        let mut log = CompactFacts::default();
        let big = FactRecord {
            value: Json::Str("x".repeat(CHUNK + 10)),
            ..record("a", None, None)
        };
        log.push(&record("s", None, None));
        log.push(&big);
        log.push(&record("t", None, None));
        assert_eq!(log.view(1).unwrap().to_record(), big);
        assert_eq!(log.view(2).unwrap().id(), "t");
    }
}
