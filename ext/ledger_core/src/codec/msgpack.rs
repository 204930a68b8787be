//! The MessagePack subset of the compact segment codec (doc/format.md "Segmented
//! storage"), with the exact bytes of the msgpack gem 0.5.2 used: Strings as `str`, Floats as float64, Integers in
//! the smallest width. The reader also accepts `bin`, float32 and every integer width.
//! Mirrors `lib/igniter/store/codecs/message_pack.rb`.

use crate::json::Json;

/// A decoded MessagePack value. Kept apart from [`Json`] because maps may have
/// non-string keys and `bin`/unsigned 64-bit values exist; the compact decoder decides
/// what it can represent.
#[derive(Debug, Clone, PartialEq)]
pub enum Mp {
    Nil,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX` (only `uint 64` can hold it).
    UInt(u64),
    Float(f64),
    /// `str` bytes; Ruby forces them to UTF-8 without validating.
    Str(Vec<u8>),
    Bin(Vec<u8>),
    Array(Vec<Mp>),
    Map(Vec<(Mp, Mp)>),
}

/// Why bytes are not one MessagePack value of the subset (Ruby's `MalformedFormatError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpError {
    Truncated,
    UnsupportedType(u8),
    ExtraBytes(usize),
    /// Containers nested deeper than the reader allows (Ruby would recurse on).
    TooDeep,
    /// A value the writer cannot encode (a number beyond 64 bits).
    Unencodable(String),
}

/// Deepest container nesting the reader follows; deeper input is refused rather than
/// risking the native stack.
const MAX_DEPTH: usize = 512;

/// Appends the MessagePack form of a JSON-model value. Symbols are written as strings,
/// integers beyond 64 bits are refused (as the Ruby writer refuses them).
pub fn write(v: &Json, out: &mut Vec<u8>) -> Result<(), MpError> {
    match v {
        Json::Null => out.push(0xC0),
        Json::Bool(false) => out.push(0xC2),
        Json::Bool(true) => out.push(0xC3),
        Json::Int(i) => write_int(*i, out),
        Json::BigInt(text) => match text.parse::<u64>() {
            Ok(u) => {
                out.push(0xCF);
                out.extend_from_slice(&u.to_be_bytes());
            }
            Err(_) => {
                return Err(MpError::Unencodable(format!(
                    "integer {text} out of MessagePack range"
                )))
            }
        },
        Json::Float(f) => {
            out.push(0xCB);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Json::Str(s) | Json::Sym(s) => write_str(s, out),
        Json::Array(items) => {
            write_len(items.len(), 0x90, 0xDC, 0xDD, out);
            for item in items {
                write(item, out)?;
            }
        }
        Json::Object(members) => {
            write_len(members.len(), 0x80, 0xDE, 0xDF, out);
            for (k, item) in members {
                write_str(k, out);
                write(item, out)?;
            }
        }
    }
    Ok(())
}

/// Smallest encoding, the msgpack gem's choice: positive fixint, uint 8..64, negative
/// fixint, int 8..64.
pub fn write_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        let u = i as u64;
        if u < 128 {
            out.push(u as u8);
        } else if u < 0x100 {
            out.extend_from_slice(&[0xCC, u as u8]);
        } else if u < 0x1_0000 {
            out.push(0xCD);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u < 0x1_0000_0000 {
            out.push(0xCE);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xCF);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as i8 as u8);
    } else if i >= -0x80 {
        out.extend_from_slice(&[0xD0, i as i8 as u8]);
    } else if i >= -0x8000 {
        out.push(0xD1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -0x8000_0000 {
        out.push(0xD2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xD3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// A `str` value: fixstr, str 8, str 16 or str 32 by length.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xA0 | n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0xD9, n as u8]);
    } else if n < 0x1_0000 {
        out.push(0xDA);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xDB);
        out.extend_from_slice(&(u32::try_from(n).unwrap_or(u32::MAX)).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

/// Array/map header: fix form below 16 entries, then 16- or 32-bit length.
pub fn write_len(n: usize, fix: u8, head16: u8, head32: u8, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n < 0x1_0000 {
        out.push(head16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(head32);
        out.extend_from_slice(&(u32::try_from(n).unwrap_or(u32::MAX)).to_be_bytes());
    }
}

/// Exactly one value filling `bytes`.
pub fn unpack(bytes: &[u8]) -> Result<Mp, MpError> {
    let mut reader = Reader { buf: bytes, pos: 0 };
    let value = reader.read(0)?;
    match bytes.len() - reader.pos {
        0 => Ok(value),
        extra => Err(MpError::ExtraBytes(extra)),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MpError> {
        let end = self.pos.checked_add(n).ok_or(MpError::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(MpError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], MpError> {
        self.take(N)?.try_into().map_err(|_| MpError::Truncated)
    }

    fn read(&mut self, depth: usize) -> Result<Mp, MpError> {
        let [t] = self.fixed::<1>()?;
        Ok(match t {
            0x00..=0x7F => Mp::Int(i64::from(t)),
            0x80..=0x8F => self.map(usize::from(t & 0x0F), depth)?,
            0x90..=0x9F => self.array(usize::from(t & 0x0F), depth)?,
            0xA0..=0xBF => Mp::Str(self.take(usize::from(t & 0x1F))?.to_vec()),
            0xE0..=0xFF => Mp::Int(i64::from(t as i8)),
            0xC0 => Mp::Nil,
            0xC2 => Mp::Bool(false),
            0xC3 => Mp::Bool(true),
            0xC4 | 0xD9 => {
                let n = usize::from(self.fixed::<1>()?[0]);
                self.sized(n, t == 0xC4)?
            }
            0xC5 | 0xDA => {
                let n = usize::from(u16::from_be_bytes(self.fixed()?));
                self.sized(n, t == 0xC5)?
            }
            0xC6 | 0xDB => {
                let n = u32::from_be_bytes(self.fixed()?) as usize;
                self.sized(n, t == 0xC6)?
            }
            0xCA => Mp::Float(f64::from(f32::from_be_bytes(self.fixed()?))),
            0xCB => Mp::Float(f64::from_be_bytes(self.fixed()?)),
            0xCC => Mp::Int(i64::from(self.fixed::<1>()?[0])),
            0xCD => Mp::Int(i64::from(u16::from_be_bytes(self.fixed()?))),
            0xCE => Mp::Int(i64::from(u32::from_be_bytes(self.fixed()?))),
            0xCF => {
                let u = u64::from_be_bytes(self.fixed()?);
                i64::try_from(u).map_or(Mp::UInt(u), Mp::Int)
            }
            0xD0 => Mp::Int(i64::from(i8::from_be_bytes(self.fixed()?))),
            0xD1 => Mp::Int(i64::from(i16::from_be_bytes(self.fixed()?))),
            0xD2 => Mp::Int(i64::from(i32::from_be_bytes(self.fixed()?))),
            0xD3 => Mp::Int(i64::from_be_bytes(self.fixed()?)),
            0xDC => {
                let n = usize::from(u16::from_be_bytes(self.fixed()?));
                self.array(n, depth)?
            }
            0xDD => {
                let n = u32::from_be_bytes(self.fixed()?) as usize;
                self.array(n, depth)?
            }
            0xDE => {
                let n = usize::from(u16::from_be_bytes(self.fixed()?));
                self.map(n, depth)?
            }
            0xDF => {
                let n = u32::from_be_bytes(self.fixed()?) as usize;
                self.map(n, depth)?
            }
            other => return Err(MpError::UnsupportedType(other)),
        })
    }

    fn sized(&mut self, n: usize, binary: bool) -> Result<Mp, MpError> {
        let bytes = self.take(n)?.to_vec();
        Ok(if binary {
            Mp::Bin(bytes)
        } else {
            Mp::Str(bytes)
        })
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Mp, MpError> {
        if depth >= MAX_DEPTH {
            return Err(MpError::TooDeep);
        }
        // Every element takes at least one byte (the Ruby reader's rule too).
        if n > self.buf.len().saturating_sub(self.pos) {
            return Err(MpError::Truncated);
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.read(depth + 1)?);
        }
        Ok(Mp::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Mp, MpError> {
        if depth >= MAX_DEPTH {
            return Err(MpError::TooDeep);
        }
        if n.saturating_mul(2) > self.buf.len().saturating_sub(self.pos) {
            return Err(MpError::Truncated);
        }
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.read(depth + 1)?;
            let v = self.read(depth + 1)?;
            pairs.push((k, v));
        }
        Ok(Mp::Map(pairs))
    }
}

impl Mp {
    /// The value of string key `key` of a map (last one wins, as in a Ruby Hash; a `bin`
    /// key with the same ASCII bytes is the same Hash key in Ruby).
    pub fn get(&self, key: &str) -> Option<&Mp> {
        match self {
            Mp::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| matches!(k, Mp::Str(s) | Mp::Bin(s) if s == key.as_bytes()))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(v: &Json) -> Vec<u8> {
        let mut out = Vec::new();
        write(v, &mut out).expect("encodable");
        out
    }

    #[test]
    fn integers_take_the_smallest_width() {
        let cases: [(i64, &[u8]); 10] = [
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0xCC, 0x80]),
            (256, &[0xCD, 0x01, 0x00]),
            (65_536, &[0xCE, 0, 1, 0, 0]),
            (
                1_700_000_000_125,
                &[0xCF, 0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x7D],
            ),
            (-1, &[0xFF]),
            (-32, &[0xE0]),
            (-33, &[0xD0, 0xDF]),
            (-129, &[0xD1, 0xFF, 0x7F]),
        ];
        for (i, bytes) in cases {
            assert_eq!(packed(&Json::Int(i)), bytes, "{i}");
            assert_eq!(unpack(bytes), Ok(Mp::Int(i)));
        }
    }

    #[test]
    fn strings_floats_and_containers_round_trip() {
        let v = Json::Object(vec![
            (
                "km".into(),
                Json::Object(vec![("0".into(), Json::Str("k".repeat(40)))]),
            ),
            (
                "e".into(),
                Json::Array(vec![
                    Json::Float(1.5),
                    Json::Null,
                    Json::Bool(true),
                    Json::Sym("s".into()),
                ]),
            ),
        ]);
        let bytes = packed(&v);
        assert_eq!(&bytes[..4], &[0x82, 0xA2, b'k', b'm']);
        let back = unpack(&bytes).expect("valid");
        assert_eq!(
            back.get("e"),
            Some(&Mp::Array(vec![
                Mp::Float(1.5),
                Mp::Nil,
                Mp::Bool(true),
                Mp::Str(b"s".to_vec())
            ]))
        );
        assert_eq!(
            back.get("km").and_then(|m| m.get("0")),
            Some(&Mp::Str(vec![b'k'; 40]))
        );
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        assert_eq!(unpack(&[]), Err(MpError::Truncated));
        assert_eq!(
            unpack(&[0xDD, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(MpError::Truncated)
        );
        assert_eq!(unpack(&[0xC1]), Err(MpError::UnsupportedType(0xC1)));
        assert_eq!(unpack(&[0x01, 0x02]), Err(MpError::ExtraBytes(1)));
        assert_eq!(unpack(&[0x91; 2000]), Err(MpError::TooDeep));
        assert!(write(
            &Json::BigInt("-99999999999999999999".into()),
            &mut Vec::new()
        )
        .is_err());
    }
}
