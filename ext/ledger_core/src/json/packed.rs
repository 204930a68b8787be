//! A compact binary form of [`Json`], for values kept in memory rather than on disk
//! (the in-memory log's fact records, doc/performance.md "Native fact records"): a
//! tag byte per node, lengths and integers as LEB128 varints, floats as their 8
//! bytes. It holds every model variant exactly (Symbols, integers of any size, object
//! members in order, repeated keys included), so [`unpack`] gives back the very
//! model [`pack`] was given. Never written to a file: its layout may change freely.

use crate::json::Json;

/// Node tags.
pub const NULL: u8 = 0;
pub const TRUE: u8 = 1;
pub const FALSE: u8 = 2;
/// A zigzag varint.
pub const INT: u8 = 3;
/// Length, then the decimal text.
pub const BIG_INT: u8 = 4;
/// 8 bytes, little-endian IEEE 754.
pub const FLOAT: u8 = 5;
/// Length, then UTF-8 bytes.
pub const STR: u8 = 6;
pub const SYM: u8 = 7;
/// Count, then the items.
pub const ARRAY: u8 = 8;
/// Count, then per member: name length, name bytes, value.
pub const OBJECT: u8 = 9;

/// Appends the packed form of `v` to `out`.
pub fn pack(v: &Json, out: &mut Vec<u8>) {
    match v {
        Json::Null => out.push(NULL),
        Json::Bool(true) => out.push(TRUE),
        Json::Bool(false) => out.push(FALSE),
        Json::Int(n) => int(*n, out),
        Json::BigInt(t) => text(BIG_INT, t, out),
        Json::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Json::Str(s) => text(STR, s, out),
        Json::Sym(s) => text(SYM, s, out),
        Json::Array(items) => {
            out.push(ARRAY);
            varint(items.len() as u64, out);
            for item in items {
                pack(item, out);
            }
        }
        Json::Object(members) => {
            out.push(OBJECT);
            varint(members.len() as u64, out);
            for (name, item) in members {
                varint(name.len() as u64, out);
                out.extend_from_slice(name.as_bytes());
                pack(item, out);
            }
        }
    }
}

/// Appends an [`INT`] node (zigzag varint): [`pack`] of `Json::Int(n)`, for a
/// caller that has the number and no model.
pub fn int(n: i64, out: &mut Vec<u8>) {
    out.push(INT);
    varint(((n << 1) ^ (n >> 63)) as u64, out);
}

/// Appends a length-prefixed text node with tag `tag` ([`STR`], [`SYM`], [`BIG_INT`]).
pub fn text(tag: u8, s: &str, out: &mut Vec<u8>) {
    out.push(tag);
    varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// Appends `n` as a LEB128 varint.
pub fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A reader over packed bytes. Every method returns `None` on bytes [`pack`] did not
/// write (truncated, bad tag, bad UTF-8), never panics.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    pub fn tag(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.tag()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    /// The value of an [`INT`] node (its tag already read).
    pub fn int(&mut self) -> Option<i64> {
        let z = self.varint()?;
        Some(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    /// The value of a [`FLOAT`] node (its tag already read).
    pub fn float(&mut self) -> Option<f64> {
        let end = self.at.checked_add(8)?;
        let bytes: [u8; 8] = self.bytes.get(self.at..end)?.try_into().ok()?;
        self.at = end;
        Some(f64::from_le_bytes(bytes))
    }

    /// The text of a length-prefixed node (its tag already read), or of a member name.
    pub fn text(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(len)?;
        let bytes = self.bytes.get(self.at..end)?;
        self.at = end;
        std::str::from_utf8(bytes).ok()
    }

    /// A length-prefixed text's bytes, not checked to be UTF-8: for a caller that
    /// only compares them with a `str` (equal bytes are then that `str`).
    pub fn text_bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(len)?;
        let bytes = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    /// Reads past a length-prefixed text without checking it is UTF-8.
    fn skip_text(&mut self) -> Option<()> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(len)?;
        if end > self.bytes.len() {
            return None;
        }
        self.at = end;
        Some(())
    }

    /// The next whole node as a model.
    pub fn json(&mut self) -> Option<Json> {
        Some(match self.tag()? {
            NULL => Json::Null,
            TRUE => Json::Bool(true),
            FALSE => Json::Bool(false),
            INT => Json::Int(self.int()?),
            BIG_INT => Json::BigInt(self.text()?.to_owned()),
            FLOAT => Json::Float(self.float()?),
            STR => Json::Str(self.text()?.to_owned()),
            SYM => Json::Sym(self.text()?.to_owned()),
            ARRAY => {
                let n = usize::try_from(self.varint()?).ok()?;
                let mut items = Vec::with_capacity(n.min(self.rest().len()));
                for _ in 0..n {
                    items.push(self.json()?);
                }
                Json::Array(items)
            }
            OBJECT => {
                let n = usize::try_from(self.varint()?).ok()?;
                let mut members = Vec::with_capacity(n.min(self.rest().len()));
                for _ in 0..n {
                    let name = self.text()?.to_owned();
                    members.push((name, self.json()?));
                }
                Json::Object(members)
            }
            _ => return None,
        })
    }
}

/// The end of the node starting at `at`, `None` for bytes [`pack`] did not write.
pub fn node_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut r = Reader::new(bytes.get(at..)?);
    r.skip()?;
    Some(bytes.len() - r.rest().len())
}

impl Reader<'_> {
    /// Reads past the next whole node, building nothing.
    pub fn skip(&mut self) -> Option<()> {
        match self.tag()? {
            NULL | TRUE | FALSE => {}
            INT => {
                self.varint()?;
            }
            FLOAT => {
                self.float()?;
            }
            BIG_INT | STR | SYM => self.skip_text()?,
            ARRAY => {
                for _ in 0..self.varint()? {
                    self.skip()?;
                }
            }
            OBJECT => {
                for _ in 0..self.varint()? {
                    self.skip_text()?;
                    self.skip()?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

/// The model `bytes` hold (the first node), `None` for bytes [`pack`] did not write.
pub fn unpack(bytes: &[u8]) -> Option<Json> {
    Reader::new(bytes).json()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Json) {
        let mut out = Vec::new();
        pack(&v, &mut out);
        assert_eq!(unpack(&out), Some(v));
    }

    #[test]
    fn every_variant_comes_back_exactly() {
        round_trip(Json::Null);
        round_trip(Json::Bool(true));
        round_trip(Json::Bool(false));
        for n in [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN] {
            round_trip(Json::Int(n));
        }
        round_trip(Json::BigInt("-123456789012345678901234567890".into()));
        for f in [0.0, -0.0, 1.5, f64::MAX, f64::MIN_POSITIVE] {
            round_trip(Json::Float(f));
        }
        round_trip(Json::Str("héllo\0".into()));
        round_trip(Json::Sym("open".into()));
        round_trip(Json::Object(vec![
            (
                "a".into(),
                Json::Array(vec![Json::Int(1), Json::Sym("x".into())]),
            ),
            ("a".into(), Json::Object(vec![])),
            (String::new(), Json::Str(String::new())),
        ]));
    }

    #[test]
    fn minus_zero_keeps_its_sign() {
        let mut out = Vec::new();
        pack(&Json::Float(-0.0), &mut out);
        match unpack(&out) {
            Some(Json::Float(f)) => assert!(f.is_sign_negative()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn foreign_bytes_are_refused_not_panicked_on() {
        assert_eq!(unpack(&[]), None);
        assert_eq!(unpack(&[42]), None);
        assert_eq!(unpack(&[STR, 5, b'a']), None);
        assert_eq!(unpack(&[ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f]), None);
        assert_eq!(unpack(&[STR, 2, 0xff, 0xfe]), None);
        assert_eq!(unpack(&[FLOAT, 1, 2]), None);
    }
}
