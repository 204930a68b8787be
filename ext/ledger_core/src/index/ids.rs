//! The id index: which log position holds the fact with a given id.

use rustc_hash::FxHashMap;

/// Ids to positions; an id appended again points at its last position. The
/// common id, a lowercase hyphenated UUID, is kept as its 128 bits (a quarter
/// of the memory of the text and a cheaper hash); any other id as text.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    uuids: FxHashMap<u128, u32>,
    other: FxHashMap<Box<str>, u32>,
}

impl Ids {
    pub fn insert(&mut self, id: &str, pos: u32) {
        match uuid_bits(id) {
            Some(bits) => self.uuids.insert(bits, pos),
            None => self.other.insert(id.into(), pos),
        };
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        match uuid_bits(id) {
            Some(bits) => self.uuids.get(&bits).copied(),
            None => self.other.get(id).copied(),
        }
    }
}

/// The 128 bits of a lowercase hyphenated UUID (8-4-4-4-12 hex digits). Only
/// that exact spelling maps to bits, so two different texts never share them.
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

#[cfg(test)]
mod tests {
    use super::{uuid_bits, Ids};

    #[test]
    fn only_lowercase_hyphenated_uuids_become_bits() {
        assert_eq!(
            uuid_bits("00000000-0000-4000-8000-00000000000f"),
            Some(0x0000_0000_0000_4000_8000_0000_0000_000f)
        );
        assert_eq!(uuid_bits("00000000-0000-4000-8000-00000000000F"), None);
        assert_eq!(uuid_bits("000000000-000-4000-8000-00000000000f"), None);
        assert_eq!(uuid_bits("not-a-uuid"), None);
    }

    #[test]
    fn an_id_finds_its_last_position_whatever_its_spelling() {
        let mut ids = Ids::default();
        let lower = "0a1b2c3d-0000-4000-8000-000000000001";
        let upper = "0A1B2C3D-0000-4000-8000-000000000001";
        ids.insert(lower, 0);
        ids.insert(upper, 1);
        ids.insert("plain", 2);
        ids.insert(lower, 3);
        assert_eq!(ids.get(lower), Some(3));
        assert_eq!(ids.get(upper), Some(1));
        assert_eq!(ids.get("plain"), Some(2));
        assert_eq!(ids.get("other"), None);
    }
}
