//! The FactLog's Rust-side index: per-(store, key) timelines of positions
//! into the facts Array with their transaction times, per-store key order,
//! and the id index. Plain data, no Ruby.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's hasher): the index's keys are store names, fact keys and
/// ids that callers do not choose adversarially per lookup, and SipHash cost
/// more than the rest of a point lookup.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Positions (into the facts Array) in append order, with their times.
/// `sorted` stays true while times never decrease, which lets `as_of` and
/// `since` binary-search; a clock step back falls back to a scan.
#[derive(Default)]
pub(super) struct Timeline {
    pub(super) positions: Vec<u32>,
    times: Vec<f64>,
    sorted: bool,
}

impl Timeline {
    pub(super) fn push(&mut self, pos: u32, tt: f64) {
        if self.positions.is_empty() {
            self.sorted = true;
        } else if self.times.last().is_some_and(|last| tt < *last) {
            self.sorted = false;
        }
        self.positions.push(pos);
        self.times.push(tt);
    }

    /// Index range of entries with `since <= tt <= as_of`, when sorted.
    pub(super) fn window(
        &self,
        since: Option<f64>,
        as_of: Option<f64>,
    ) -> Option<std::ops::Range<usize>> {
        if !self.sorted {
            return None;
        }
        let lo = since.map_or(0, |s| self.times.partition_point(|t| *t < s));
        let hi = as_of.map_or(self.times.len(), |a| {
            self.times.partition_point(|t| *t <= a)
        });
        Some(lo..hi.max(lo))
    }

    pub(super) fn select(&self, since: Option<f64>, as_of: Option<f64>) -> Vec<u32> {
        match self.window(since, as_of) {
            Some(range) => self.positions[range].to_vec(),
            None => self
                .positions
                .iter()
                .zip(&self.times)
                .filter(|(_, t)| since.is_none_or(|s| **t >= s) && as_of.is_none_or(|a| **t <= a))
                .map(|(p, _)| *p)
                .collect(),
        }
    }

    /// The last appended entry with `tt <= as_of` (or the last one).
    pub(super) fn latest(&self, as_of: Option<f64>) -> Option<u32> {
        let Some(as_of) = as_of else {
            return self.positions.last().copied();
        };
        match self.window(None, Some(as_of)) {
            Some(range) => range.end.checked_sub(1).map(|i| self.positions[i]),
            None => self
                .positions
                .iter()
                .zip(&self.times)
                .rev()
                .find(|(_, t)| **t <= as_of)
                .map(|(p, _)| *p),
        }
    }
}

#[derive(Default)]
pub(super) struct StoreIndex {
    pub(super) keys: FxMap<Box<str>, usize>,
    /// Buckets in first-appearance order of their key.
    pub(super) buckets: Vec<Timeline>,
    pub(super) all: Timeline,
}

#[derive(Default)]
pub(super) struct Index {
    pub(super) stores: FxMap<Box<str>, StoreIndex>,
    /// UUID ids as 128-bit numbers (the common case), anything else as text.
    uuids: FxMap<u128, u32>,
    other_ids: FxMap<Box<str>, u32>,
    pub(super) len: u32,
}

/// The 128 bits of a lowercase hyphenated UUID (8-4-4-4-12 hex digits).
fn uuid_bits(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits: u128 = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if *b != b'-' {
                return None;
            }
            continue;
        }
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        bits = (bits << 4) | u128::from(digit);
    }
    Some(bits)
}

impl Index {
    /// Indexes the fact at the next position; `None` once positions run out
    /// (u32::MAX facts), so the caller refuses the append instead of wrapping.
    pub(super) fn insert(&mut self, store: &str, key: &str, id: &str, tt: f64) -> Option<u32> {
        let pos = self.len;
        self.len = self.len.checked_add(1)?;
        let entry = match self.stores.get_mut(store) {
            Some(entry) => entry,
            None => self.stores.entry(store.into()).or_default(),
        };
        let bucket = match entry.keys.get(key) {
            Some(b) => *b,
            None => {
                entry.buckets.push(Timeline::default());
                entry.keys.insert(key.into(), entry.buckets.len() - 1);
                entry.buckets.len() - 1
            }
        };
        entry.buckets[bucket].push(pos, tt);
        entry.all.push(pos, tt);
        match uuid_bits(id) {
            Some(bits) => self.uuids.insert(bits, pos),
            None => self.other_ids.insert(id.into(), pos),
        };
        Some(pos)
    }

    pub(super) fn bucket(&self, store: &str, key: &str) -> Option<&Timeline> {
        let entry = self.stores.get(store)?;
        entry.keys.get(key).map(|b| &entry.buckets[*b])
    }

    pub(super) fn by_id(&self, id: &str) -> Option<u32> {
        match uuid_bits(id) {
            Some(bits) => self.uuids.get(&bits).copied(),
            None => self.other_ids.get(id).copied(),
        }
    }
}
