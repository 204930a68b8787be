//! A bounded least-recently-used map whose entries live in one slab: the
//! recency order is an intrusive doubly-linked list through the slots, and the
//! lookup table maps a caller-computed 64-bit hash to the first slot of a
//! collision chain, so a probe compares keys the caller borrows (no owned key
//! is built to look one up) and an insert or eviction allocates nothing once
//! the slab has grown to the cap.
//!
//! Each entry also carries a *group* hash (entries that are dropped together,
//! chained through their slots) and a *tag* hash (counted, so "does any entry
//! carry this tag" is one lookup). The binding crate's time-travel read cache
//! uses the group for (kind, store, key) and the tag for (kind, store)
//! (doc/performance.md, "Native time-travel cache").
//!
//! Slot numbers are stable while an entry lives, so a caller may keep data of
//! its own (Ruby objects, say) in a parallel array indexed by slot.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

/// No slot.
const NIL: u32 = u32::MAX;

/// One entry, or a free slot (`key` None).
#[derive(Debug)]
struct Slot<K, V> {
    key: Option<K>,
    value: V,
    hash: u64,
    group: u64,
    tag: u64,
    /// Recency list: older / newer neighbour.
    older: u32,
    newer: u32,
    /// Next slot with the same `hash`.
    chain: u32,
    /// Group list: previous / next slot of the same `group`.
    group_prev: u32,
    group_next: u32,
}

type FxMap<T> = HashMap<u64, T, BuildHasherDefault<FxHasher>>;

/// The map; see the module documentation.
#[derive(Debug)]
pub struct LruMap<K, V> {
    slots: Vec<Slot<K, V>>,
    free: Vec<u32>,
    oldest: u32,
    newest: u32,
    by_hash: FxMap<u32>,
    groups: FxMap<u32>,
    tags: FxMap<u32>,
    len: usize,
}

impl<K, V> Default for LruMap<K, V> {
    fn default() -> Self {
        LruMap {
            slots: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
            by_hash: FxMap::default(),
            groups: FxMap::default(),
            tags: FxMap::default(),
            len: 0,
        }
    }
}

/// What an insert needs besides the key and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hashes {
    /// Hash of the whole key.
    pub key: u64,
    /// Hash of the entry's group.
    pub group: u64,
    /// Hash of the entry's tag.
    pub tag: u64,
}

impl<K, V> LruMap<K, V> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot of the entry whose key hashes to `hash` and satisfies `is`.
    pub fn find(&self, hash: u64, mut is: impl FnMut(&K) -> bool) -> Option<u32> {
        let mut at = *self.by_hash.get(&hash)?;
        while at != NIL {
            let slot = &self.slots[at as usize];
            if slot.key.as_ref().is_some_and(&mut is) {
                return Some(at);
            }
            at = slot.chain;
        }
        None
    }

    /// The key and value at a live slot.
    pub fn get(&self, slot: u32) -> Option<(&K, &V)> {
        let s = self.slots.get(slot as usize)?;
        s.key.as_ref().map(|k| (k, &s.value))
    }

    /// The value at a live slot, mutably.
    pub fn value_mut(&mut self, slot: u32) -> Option<&mut V> {
        let s = self.slots.get_mut(slot as usize)?;
        s.key.as_ref()?;
        Some(&mut s.value)
    }

    /// True when some entry carries `tag` (or a tag with the same hash).
    pub fn has_tag(&self, tag: u64) -> bool {
        self.tags.contains_key(&tag)
    }

    /// The slots of the entries whose group hashes to `group`, newest first.
    pub fn group(&self, group: u64) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = self.groups.get(&group).copied().unwrap_or(NIL);
        while at != NIL {
            out.push(at);
            at = self.slots[at as usize].group_next;
        }
        out
    }

    /// Every live slot, oldest first.
    pub fn slots_oldest_first(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.len);
        let mut at = self.oldest;
        while at != NIL {
            out.push(at);
            at = self.slots[at as usize].newer;
        }
        out
    }

    /// The least recently used slot.
    pub fn oldest(&self) -> Option<u32> {
        (self.oldest != NIL).then_some(self.oldest)
    }

    /// Adds an entry as the most recently used; the caller has checked that
    /// no entry has an equal key. Returns its slot.
    pub fn insert(&mut self, hashes: Hashes, key: K, value: V) -> u32 {
        let chain = self.by_hash.get(&hashes.key).copied().unwrap_or(NIL);
        let group_next = self.groups.get(&hashes.group).copied().unwrap_or(NIL);
        let slot = Slot {
            key: Some(key),
            value,
            hash: hashes.key,
            group: hashes.group,
            tag: hashes.tag,
            older: self.newest,
            newer: NIL,
            chain,
            group_prev: NIL,
            group_next,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at as usize] = slot;
                at
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.by_hash.insert(hashes.key, at);
        self.groups.insert(hashes.group, at);
        if group_next != NIL {
            self.slots[group_next as usize].group_prev = at;
        }
        *self.tags.entry(hashes.tag).or_insert(0) += 1;
        self.link_newest(at);
        self.len += 1;
        at
    }

    /// Makes a live slot the most recently used.
    pub fn touch(&mut self, at: u32) {
        if self.newest == at || self.get(at).is_none() {
            return;
        }
        self.unlink(at);
        self.link_newest(at);
    }

    /// Removes the entry at a live slot and returns its key and value.
    pub fn remove(&mut self, at: u32) -> Option<(K, V)>
    where
        V: Default,
    {
        let s = self.slots.get_mut(at as usize)?;
        let key = s.key.take()?;
        let value = std::mem::take(&mut s.value);
        let (hash, group, tag) = (s.hash, s.group, s.tag);
        let (chain, group_prev, group_next) = (s.chain, s.group_prev, s.group_next);
        self.unlink(at);
        self.unchain(hash, at, chain);
        if group_prev == NIL {
            if group_next == NIL {
                self.groups.remove(&group);
            } else {
                self.groups.insert(group, group_next);
            }
        } else {
            self.slots[group_prev as usize].group_next = group_next;
        }
        if group_next != NIL {
            self.slots[group_next as usize].group_prev = group_prev;
        }
        if let Some(count) = self.tags.get_mut(&tag) {
            *count -= 1;
            if *count == 0 {
                self.tags.remove(&tag);
            }
        }
        self.free.push(at);
        self.len -= 1;
        Some((key, value))
    }

    /// Drops every entry; the slab keeps its memory.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
        self.by_hash.clear();
        self.groups.clear();
        self.tags.clear();
        self.oldest = NIL;
        self.newest = NIL;
        self.len = 0;
    }

    fn link_newest(&mut self, at: u32) {
        let old_newest = self.newest;
        {
            let s = &mut self.slots[at as usize];
            s.older = old_newest;
            s.newer = NIL;
        }
        if old_newest == NIL {
            self.oldest = at;
        } else {
            self.slots[old_newest as usize].newer = at;
        }
        self.newest = at;
    }

    fn unlink(&mut self, at: u32) {
        let (older, newer) = {
            let s = &self.slots[at as usize];
            (s.older, s.newer)
        };
        if older == NIL {
            self.oldest = newer;
        } else {
            self.slots[older as usize].newer = newer;
        }
        if newer == NIL {
            self.newest = older;
        } else {
            self.slots[newer as usize].older = older;
        }
    }

    /// Takes `at` out of the collision chain of `hash`.
    fn unchain(&mut self, hash: u64, at: u32, next: u32) {
        let Some(first) = self.by_hash.get(&hash).copied() else {
            return;
        };
        if first == at {
            if next == NIL {
                self.by_hash.remove(&hash);
            } else {
                self.by_hash.insert(hash, next);
            }
            return;
        }
        let mut prev = first;
        while prev != NIL {
            let after = self.slots[prev as usize].chain;
            if after == at {
                self.slots[prev as usize].chain = next;
                return;
            }
            prev = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(key: u64, group: u64, tag: u64) -> Hashes {
        Hashes { key, group, tag }
    }

    fn keys(m: &LruMap<&'static str, u32>) -> Vec<&'static str> {
        m.slots_oldest_first()
            .into_iter()
            .map(|s| *m.get(s).unwrap().0)
            .collect()
    }

    #[test]
    fn finds_through_collision_chains() {
        let mut m: LruMap<&str, u32> = LruMap::default();
        let a = m.insert(h(7, 1, 1), "a", 1);
        let b = m.insert(h(7, 1, 1), "b", 2);
        assert_eq!(m.find(7, |k| *k == "a"), Some(a));
        assert_eq!(m.find(7, |k| *k == "b"), Some(b));
        assert_eq!(m.find(7, |k| *k == "c"), None);
        assert_eq!(m.find(8, |_| true), None);
        m.remove(b);
        assert_eq!(m.find(7, |k| *k == "a"), Some(a));
        m.remove(a);
        assert_eq!(m.find(7, |_| true), None);
        assert!(m.is_empty());
    }

    #[test]
    fn keeps_recency_order_through_touch_and_remove() {
        let mut m: LruMap<&str, u32> = LruMap::default();
        let a = m.insert(h(1, 1, 1), "a", 0);
        m.insert(h(2, 2, 1), "b", 0);
        let c = m.insert(h(3, 3, 1), "c", 0);
        m.touch(a);
        assert_eq!(keys(&m), ["b", "c", "a"]);
        m.touch(a);
        assert_eq!(keys(&m), ["b", "c", "a"]);
        m.remove(c);
        assert_eq!(keys(&m), ["b", "a"]);
        let oldest = m.oldest().unwrap();
        assert_eq!(m.remove(oldest).unwrap().0, "b");
        assert_eq!(keys(&m), ["a"]);
        m.insert(h(4, 4, 1), "d", 0);
        assert_eq!(keys(&m), ["a", "d"]);
    }

    #[test]
    fn reuses_freed_slots() {
        let mut m: LruMap<u32, u32> = LruMap::default();
        for i in 0..3 {
            m.insert(h(i.into(), 0, 0), i, i);
        }
        for i in 3..1000 {
            let oldest = m.oldest().unwrap();
            m.remove(oldest);
            m.insert(h(i.into(), 0, 0), i, i);
        }
        assert_eq!(m.slots.len(), 3);
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn groups_and_tags_follow_the_entries() {
        let mut m: LruMap<&str, u32> = LruMap::default();
        let a1 = m.insert(h(1, 10, 100), "a1", 0);
        let b = m.insert(h(2, 20, 100), "b", 0);
        let a2 = m.insert(h(3, 10, 200), "a2", 0);
        assert_eq!(m.group(10), vec![a2, a1]);
        assert_eq!(m.group(20), vec![b]);
        assert!(m.has_tag(100) && m.has_tag(200));
        m.remove(a2);
        assert_eq!(m.group(10), vec![a1]);
        assert!(!m.has_tag(200));
        let a3 = m.insert(h(4, 10, 100), "a3", 0);
        m.remove(a1);
        assert_eq!(m.group(10), vec![a3]);
        m.remove(b);
        m.remove(a3);
        assert!(m.group(10).is_empty() && !m.has_tag(100));
        m.clear();
        assert!(m.is_empty() && m.oldest().is_none());
    }
}
