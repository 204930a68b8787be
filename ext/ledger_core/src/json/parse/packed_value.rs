//! The parser writing [`crate::json::packed`] bytes instead of a [`Json`] tree: what
//! a replay into the in-memory log's compact records needs (doc/performance.md
//! "Native fact records"), without a node or a String allocated per value.

use std::borrow::Cow;

use super::Parser;
use crate::json::packed;
use crate::json::Json;

/// A count written before its items are known: a varint padded to 5 bytes
/// (a non-minimal LEB128 reads back as the same number).
const COUNT_BYTES: usize = 5;

/// Parses the JSON text `bytes` (whitespace around it allowed, nothing after) the way
/// [`super::parse_nested`] does, appending its packed form to `out`. `None` when
/// the text is not one [`super::parse_nested`] would give exactly that model for —
/// any parse error, or an object with a repeated name (which a reader resolves
/// last-wins) — so the caller takes the general route, which reports the error.
pub fn parse_packed(bytes: &[u8], max_nesting: usize, out: &mut Vec<u8>) -> Option<()> {
    let mut p = Parser::over(bytes, max_nesting);
    p.skip_ws();
    p.pack_value(0, out)?;
    p.skip_ws();
    (p.i == p.b.len()).then_some(())
}

fn put_count(out: &mut [u8], at: usize, n: usize) -> Option<()> {
    let mut n = u64::try_from(n).ok()?;
    if n >= 1 << (7 * COUNT_BYTES) {
        return None;
    }
    for (k, byte) in out[at..at + COUNT_BYTES].iter_mut().enumerate() {
        let more = if k + 1 < COUNT_BYTES { 0x80 } else { 0 };
        *byte = (n as u8 & 0x7f) | more;
        n >>= 7;
    }
    Some(())
}

/// A member of a body parsed by [`parse_body_packed`].
pub enum Member {
    Json(Json),
    Packed(Vec<u8>),
}

/// The members of a fact body (an object at the top level, which is depth 1), in
/// order, the ones named in `packed` parsed into packed bytes and the others into
/// models. `None` where [`parse_packed`] would give it, or when the top level is not
/// an object: the caller then takes the general route.
pub fn parse_body_packed<'a>(
    bytes: &'a [u8],
    max_nesting: usize,
    packed: &[&str],
) -> Option<Vec<(Cow<'a, str>, Member)>> {
    let mut p = Parser::over(bytes, max_nesting);
    let empty = p.open_object()?;
    let mut members = Vec::with_capacity(16);
    if !empty {
        loop {
            p.skip_ws();
            if p.peek() != Some(b'"') {
                return None;
            }
            let name = p.string_cow().ok()?;
            p.name_separator()?;
            let member = if packed.contains(&name.as_ref()) {
                let mut out = Vec::with_capacity(128);
                p.pack_value(1, &mut out)?;
                Member::Packed(out)
            } else {
                Member::Json(p.value(1).ok()?)
            };
            members.push((name, member));
            if p.object_next()? {
                break;
            }
        }
    }
    p.skip_ws();
    (p.i == p.b.len()).then_some(members)
}

impl Parser<'_> {
    /// [`Parser::value`], packed.
    pub(super) fn pack_value(&mut self, depth: usize, out: &mut Vec<u8>) -> Option<()> {
        match self.peek()? {
            b'{' => self.pack_object(depth + 1, out),
            b'[' => self.pack_array(depth + 1, out),
            b'"' => {
                match self.plain_string() {
                    Some(s) => packed::text(packed::STR, s, out),
                    None => packed::text(packed::STR, &self.string_cow().ok()?, out),
                }
                Some(())
            }
            b'-' | b'0'..=b'9' if self.small_int(out) => Some(()),
            // The literals as `value` reads them, without a model to drop.
            b'n' if self.eat_literal(b"null") => {
                out.push(packed::NULL);
                Some(())
            }
            b't' if self.eat_literal(b"true") => {
                out.push(packed::TRUE);
                Some(())
            }
            b'f' if self.eat_literal(b"false") => {
                out.push(packed::FALSE);
                Some(())
            }
            _ => {
                // Numbers and literals: scalars, no allocation but a BigInt's text.
                let v = self.value(depth).ok()?;
                packed::pack(&v, out);
                Some(())
            }
        }
    }

    /// An integer of up to 18 digits at the cursor, packed as [`Parser::number`]
    /// would give it (`-0` is 0); false, nothing moved or written, for any other
    /// number, which [`Parser::number`] then reads or refuses.
    fn small_int(&mut self, out: &mut Vec<u8>) -> bool {
        let b = self.b;
        let negative = b.get(self.i) == Some(&b'-');
        let first = self.i + usize::from(negative);
        let mut end = first;
        let mut n: i64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(end) {
            // A 19th digit could overflow: that number goes to `number`.
            if end - first == 18 {
                return false;
            }
            n = n * 10 + i64::from(c - b'0');
            end += 1;
        }
        let digits = end - first;
        let leading_zero = digits > 1 && b[first] == b'0';
        if digits == 0 || leading_zero || matches!(b.get(end), Some(b'.' | b'e' | b'E')) {
            return false;
        }
        self.i = end;
        packed::int(if negative { -n } else { n }, out);
        true
    }

    fn pack_array(&mut self, depth: usize, out: &mut Vec<u8>) -> Option<()> {
        self.check_depth(depth).ok()?;
        self.i += 1; // '['
        out.push(packed::ARRAY);
        let count_at = out.len();
        out.extend_from_slice(&[0; COUNT_BYTES]);
        let mut n = 0;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return put_count(out, count_at, 0);
        }
        loop {
            self.skip_ws();
            self.pack_value(depth, out)?;
            n += 1;
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return put_count(out, count_at, n);
                }
                _ => return None,
            }
        }
    }

    fn pack_object(&mut self, depth: usize, out: &mut Vec<u8>) -> Option<()> {
        self.check_depth(depth).ok()?;
        self.i += 1; // '{'
        out.push(packed::OBJECT);
        let count_at = out.len();
        out.extend_from_slice(&[0; COUNT_BYTES]);
        // Where each name's bytes sit in `out`, to refuse a repeated one: the first
        // few on the stack, so a small object allocates nothing.
        let mut names = Names::default();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return put_count(out, count_at, 0);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let name = match self.plain_string() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => self.string_cow().ok()?,
            };
            // A name is stored without a tag.
            let bytes = name.as_bytes();
            packed::varint(bytes.len() as u64, out);
            let at = out.len();
            out.extend_from_slice(bytes);
            if names.contains(out, bytes) {
                return None;
            }
            names.push(at, bytes.len())?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.i += 1;
            self.skip_ws();
            self.pack_value(depth, out)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return put_count(out, count_at, names.len);
                }
                _ => return None,
            }
        }
    }
}

/// Names stored inline before spilling to the heap.
const INLINE_NAMES: usize = 8;

/// The (offset, length) in `out` of each name of an object being packed.
#[derive(Default)]
struct Names {
    inline: [(u32, u32); INLINE_NAMES],
    spilled: Vec<(u32, u32)>,
    len: usize,
}

impl Names {
    /// `None` past 4 GiB of output (the caller then takes the general route).
    fn push(&mut self, at: usize, len: usize) -> Option<()> {
        let entry = (u32::try_from(at).ok()?, u32::try_from(len).ok()?);
        if self.len < INLINE_NAMES {
            self.inline[self.len] = entry;
        } else {
            self.spilled.push(entry);
        }
        self.len += 1;
        Some(())
    }

    fn contains(&self, out: &[u8], name: &[u8]) -> bool {
        let inline = &self.inline[..self.len.min(INLINE_NAMES)];
        inline.iter().chain(&self.spilled).any(|&(s, l)| {
            let (s, l) = (s as usize, l as usize);
            l == name.len() && out[s..s + l] == *name
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::packed::unpack;
    use crate::json::parse::parse_nested;

    #[test]
    fn packs_what_the_tree_parser_gives() {
        for text in [
            r#"{"a":1,"b":[true,false,null,-0.0,1.5e3,"x\u00e9\n"],"c":{},"d":[],"e":123456789012345678901234567890}"#,
            r#" [ {"k" : "v"} , 2 ] "#,
            r#""plain""#,
            "-7",
            "[-0,0,10,123456789012345678,-123456789012345678,1234567890123456789,9223372036854775808,1.5,2e3]",
        ] {
            let mut out = Vec::new();
            parse_packed(text.as_bytes(), 10, &mut out).unwrap();
            assert_eq!(
                unpack(&out),
                Some(parse_nested(text.as_bytes(), 10).unwrap()),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_else_is_left_to_the_tree_parser() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1"#,
            "[1,]",
            "[[[1]]]",
            "1 2",
            "1e400",
            "01",
            "-",
            "[-]",
            "1.",
        ] {
            let mut out = Vec::new();
            assert_eq!(parse_packed(text.as_bytes(), 2, &mut out), None, "{text}");
        }
    }
}
