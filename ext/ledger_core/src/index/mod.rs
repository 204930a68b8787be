//! The index of an in-memory fact log: for each store, the facts of each key
//! and of the whole store as [`Timeline`]s of log positions, the keys in the
//! order they first appeared, and the id index. Plain data: the Ruby binding
//! keeps the facts themselves in a Ruby Array and looks them up by position.
//!
//! Maps hash with FxHash (`rustc-hash`): the keys are store names, fact keys
//! and ids, and SipHash cost more than the rest of a point lookup. The inputs
//! come from the application writing facts, not from a party choosing keys to
//! collide.

mod ids;
mod timeline;
mod valid;

pub use timeline::Timeline;
pub use valid::ValidOrder;

use ids::Ids;
use rustc_hash::FxHashMap;

/// The facts of one store.
#[derive(Debug, Clone, Default)]
struct StoreIndex {
    keys: FxHashMap<Box<str>, usize>,
    /// One timeline per key, in first-appearance order of the key.
    by_key: Vec<Timeline>,
    /// The valid-time order of each key's facts, aligned with `by_key`.
    valid: Vec<ValidOrder>,
    all: Timeline,
}

/// The index of a log of at most `u32::MAX` facts, filled in append order.
#[derive(Debug, Clone, Default)]
pub struct Index {
    stores: FxHashMap<Box<str>, StoreIndex>,
    ids: Ids,
    len: u32,
}

impl Index {
    /// The number of facts indexed (the next position is this one).
    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room for `n` more ids in the id map (the per-key timelines grow as they go).
    pub fn reserve(&mut self, n: usize) {
        self.ids.reserve(n);
    }

    /// Whether no further fact fits (positions are `u32`).
    pub fn is_full(&self) -> bool {
        self.len == u32::MAX
    }

    /// Indexes the fact at the next position and returns that position;
    /// `None` once positions run out, so the caller refuses the append
    /// instead of wrapping around. `vt` is the fact's valid time; without
    /// one, its transaction time is its valid time (doc/bitemporal.md).
    pub fn insert(
        &mut self,
        store: &str,
        key: &str,
        id: &str,
        tt: f64,
        vt: Option<f64>,
    ) -> Option<u32> {
        self.insert_with(store, key, id, ids::uuid_bytes_of(id), tt, vt)
    }

    /// [`Index::insert`] of an id already parsed: `uuid` is the bytes of `id`'s
    /// canonical UUID spelling (`compact::uuid_bytes`), `None` when it has none.
    /// A replay parses ids on its decode threads, so the append under the log's
    /// lock does not parse them again.
    pub fn insert_with(
        &mut self,
        store: &str,
        key: &str,
        id: &str,
        uuid: Option<[u8; 16]>,
        tt: f64,
        vt: Option<f64>,
    ) -> Option<u32> {
        let pos = self.len;
        self.len = self.len.checked_add(1)?;
        let entry = match self.stores.get_mut(store) {
            Some(entry) => entry,
            None => self.stores.entry(store.into()).or_default(),
        };
        let slot = match entry.keys.get(key) {
            Some(slot) => *slot,
            None => {
                entry.by_key.push(Timeline::default());
                entry.valid.push(ValidOrder::default());
                entry.keys.insert(key.into(), entry.by_key.len() - 1);
                entry.by_key.len() - 1
            }
        };
        entry.by_key[slot].push(pos, tt);
        entry.valid[slot].push(vt.unwrap_or(tt));
        entry.all.push(pos, tt);
        self.ids.insert_with(id, uuid, pos);
        Some(pos)
    }

    /// The facts of (store, key).
    pub fn key_timeline(&self, store: &str, key: &str) -> Option<&Timeline> {
        let entry = self.stores.get(store)?;
        entry.keys.get(key).map(|slot| &entry.by_key[*slot])
    }

    /// The facts of (store, key) with their valid-time order.
    pub fn key_valid(&self, store: &str, key: &str) -> Option<(&Timeline, &ValidOrder)> {
        let entry = self.stores.get(store)?;
        entry
            .keys
            .get(key)
            .map(|slot| (&entry.by_key[*slot], &entry.valid[*slot]))
    }

    /// Every fact of the store.
    pub fn store_timeline(&self, store: &str) -> Option<&Timeline> {
        self.stores.get(store).map(|entry| &entry.all)
    }

    /// The store's per-key timelines, keys in first-appearance order (empty
    /// for an unknown store).
    pub fn key_timelines(&self, store: &str) -> impl Iterator<Item = &Timeline> {
        self.stores
            .get(store)
            .into_iter()
            .flat_map(|entry| entry.by_key.iter())
    }

    /// The position of the last fact appended with this id.
    pub fn by_id(&self, id: &str) -> Option<u32> {
        self.ids.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::Index;

    #[test]
    fn facts_are_found_by_key_by_store_and_by_id() {
        let mut index = Index::default();
        assert_eq!(index.insert("s", "a", "id-0", 1.0, None), Some(0));
        assert_eq!(index.insert("s", "b", "id-1", 2.0, None), Some(1));
        assert_eq!(index.insert("t", "a", "id-2", 3.0, None), Some(2));
        assert_eq!(index.insert("s", "a", "id-3", 4.0, None), Some(3));
        assert_eq!(index.len(), 4);
        assert_eq!(index.key_timeline("s", "a").unwrap().positions(), [0, 3]);
        assert_eq!(index.store_timeline("s").unwrap().positions(), [0, 1, 3]);
        assert!(index.key_timeline("s", "c").is_none());
        assert!(index.store_timeline("u").is_none());
        let latest: Vec<_> = index.key_timelines("s").map(|t| t.latest(None)).collect();
        assert_eq!(latest, [Some(3), Some(1)]);
        assert_eq!(index.key_timelines("u").count(), 0);
        assert_eq!(index.by_id("id-2"), Some(2));
        assert_eq!(index.by_id("id-9"), None);
    }

    #[test]
    fn a_full_index_refuses_the_next_fact() {
        let mut index = Index {
            len: u32::MAX - 1,
            ..Index::default()
        };
        assert!(!index.is_full());
        assert_eq!(
            index.insert("s", "k", "last", 1.0, None),
            Some(u32::MAX - 1)
        );
        assert!(index.is_full());
        assert_eq!(index.insert("s", "k", "past", 2.0, None), None);
        assert_eq!(index.by_id("past"), None);
    }
}
