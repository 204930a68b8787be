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
    /// Room for `n` more UUID ids (the common kind).
    pub fn reserve(&mut self, n: usize) {
        self.uuids.reserve(n);
    }

    /// Records `id` at `pos`; `uuid` is the id's UUID bytes (`uuid_bytes_of(id)`),
    /// parsed by the caller.
    pub fn insert_with(&mut self, id: &str, uuid: Option<[u8; 16]>, pos: u32) {
        debug_assert_eq!(uuid, uuid_bytes_of(id));
        match uuid {
            // The same 128 bits `uuid_bits` reads from the text, digit by digit.
            Some(bytes) => self.uuids.insert(u128::from_be_bytes(bytes), pos),
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

/// The bytes of a lowercase hyphenated UUID, as compact records keep them.
pub(super) fn uuid_bytes_of(id: &str) -> Option<[u8; 16]> {
    crate::fact::compact::uuid_bytes(id)
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
    use super::{uuid_bits, uuid_bytes_of, Ids};

    #[test]
    fn uuid_bytes_read_big_endian_are_the_bits() {
        for id in [
            "00000000-0000-4000-8000-00000000000f",
            "2022afec-b273-48d2-a230-bfd10c23fdd3",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ] {
            let bytes = uuid_bytes_of(id).unwrap();
            assert_eq!(Some(u128::from_be_bytes(bytes)), uuid_bits(id));
        }
        for id in [
            "2022AFEC-b273-48d2-a230-bfd10c23fdd3",
            "2022afec-b273-48d2-a230-bfd10c23fdd",
            "x",
        ] {
            assert_eq!(uuid_bytes_of(id), None);
            assert_eq!(uuid_bits(id), None);
        }
        let mut ids = Ids::default();
        ids.insert_with(
            "2022afec-b273-48d2-a230-bfd10c23fdd3",
            uuid_bytes_of("2022afec-b273-48d2-a230-bfd10c23fdd3"),
            7,
        );
        assert_eq!(ids.get("2022afec-b273-48d2-a230-bfd10c23fdd3"), Some(7));
    }

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
        for (id, pos) in [(lower, 0), (upper, 1), ("plain", 2), (lower, 3)] {
            ids.insert_with(id, uuid_bytes_of(id), pos);
        }
        assert_eq!(ids.get(lower), Some(3));
        assert_eq!(ids.get(upper), Some(1));
        assert_eq!(ids.get("plain"), Some(2));
        assert_eq!(ids.get("other"), None);
    }
}
