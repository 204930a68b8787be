//! The value model shared by the encoder, the parser and the binding.

use std::collections::{HashMap, HashSet};

/// A JSON-model value as the ledger stores it.
///
/// Objects keep insertion order and may hold duplicate keys (the parser keeps what the text
/// says); readers that need one value per key take the last one, as a Ruby Hash would.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer beyond i64, as decimal text with an optional leading '-'.
    BigInt(String),
    Float(f64),
    Str(String),
    /// A Ruby Symbol used as a value. Encodes as a JSON string; fact bodies record where
    /// Symbols stood (the "symbols" member) so they can be restored on decode.
    Sym(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an Object, the last one when the key repeats (Ruby Hash
    /// semantics); `None` for a missing key or a non-Object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mutable form of [`Json::get`], same last-wins rule.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(members) => members
                .iter_mut()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Object members with each repeated key reduced to one member, at the position where the
/// key first appeared, holding the value of its last occurrence: what assigning the
/// members one by one into a Ruby Hash gives. Linear in the number of members (one hashed
/// pass), so a value with many keys costs no pairwise search.
pub fn last_wins(members: Vec<(String, Json)>) -> Vec<(String, Json)> {
    let mut slot_of: HashMap<String, usize> = HashMap::with_capacity(members.len());
    let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
    for (name, value) in members {
        match slot_of.get(&name).and_then(|&i| out.get_mut(i)) {
            Some(slot) => slot.1 = value,
            None => {
                slot_of.insert(name.clone(), out.len());
                out.push((name, value));
            }
        }
    }
    out
}

/// True when no key repeats among `members`. Small objects compare pairwise (no
/// allocation); larger ones through one hashed pass.
pub fn keys_distinct(members: &[(String, Json)]) -> bool {
    if members.len() <= 8 {
        return members
            .iter()
            .enumerate()
            .all(|(i, (k, _))| members.iter().skip(i + 1).all(|(other, _)| other != k));
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(members.len());
    members.iter().all(|(k, _)| seen.insert(k.as_str()))
}

/// Applies [`last_wins`] to every object under `v` (a parsed document may repeat keys;
/// the ledger's data model, like a Ruby Hash, does not). Depth is bounded by the parser.
pub fn dedup_keys(v: &mut Json) {
    match v {
        Json::Array(items) => items.iter_mut().for_each(dedup_keys),
        Json::Object(members) => {
            if !keys_distinct(members) {
                *members = last_wins(std::mem::take(members));
            }
            members.iter_mut().for_each(|(_, item)| dedup_keys(item));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, i64)]) -> Vec<(String, Json)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Json::Int(*v)))
            .collect()
    }

    /// Ruby Hash assignment: first position, last value, whatever the object's size.
    #[test]
    fn last_wins_keeps_first_positions_and_last_values() {
        assert_eq!(
            last_wins(obj(&[("a", 1), ("b", 2), ("a", 3)])),
            obj(&[("a", 3), ("b", 2)])
        );
        let many: Vec<(String, Json)> = (0..10_000)
            .map(|i| (format!("k{}", i % 5_000), Json::Int(i)))
            .collect();
        let out = last_wins(many);
        assert_eq!(out.len(), 5_000);
        assert_eq!(out.first(), Some(&("k0".to_string(), Json::Int(5_000))));
        assert!(keys_distinct(&out));
    }

    #[test]
    fn keys_distinct_small_and_large() {
        assert!(keys_distinct(&obj(&[("a", 1), ("b", 2)])));
        assert!(!keys_distinct(&obj(&[("a", 1), ("a", 2)])));
        let mut large: Vec<(String, Json)> =
            (0..100).map(|i| (i.to_string(), Json::Null)).collect();
        assert!(keys_distinct(&large));
        large.push(("42".to_string(), Json::Null));
        assert!(!keys_distinct(&large));
    }

    #[test]
    fn dedup_keys_reaches_every_depth() {
        let mut v = Json::Array(vec![Json::Object(vec![
            ("x".into(), Json::Object(obj(&[("a", 1), ("a", 2)]))),
            ("x".into(), Json::Object(obj(&[("b", 1), ("b", 2)]))),
        ])]);
        dedup_keys(&mut v);
        assert_eq!(
            v,
            Json::Array(vec![Json::Object(vec![(
                "x".into(),
                Json::Object(obj(&[("b", 2)]))
            )])])
        );
    }
}
