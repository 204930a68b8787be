//! Strict JSON parser (RFC 8259) producing [`Json`].
//!
//! Hand-written because the model must keep things serde_json would blur: integers beyond
//! i64 as exact decimal text, `-0.0` as a Float, duplicate object keys in order. It never
//! panics and never recurses deeper than [`MAX_PARSE_NESTING`].

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::json::encode::MAX_NESTING;
use crate::json::Json;

/// Deepest container nesting the parser accepts. Two more than the encoder's limit because
/// a fact body wraps the value (the body object, then the value's own containers), so any
/// value the encoder accepted parses back.
pub const MAX_PARSE_NESTING: usize = MAX_NESTING + 2;

/// Parses one JSON text; whitespace may surround tokens, nothing else may follow.
/// Integers that fit i64 → `Int`, larger ones → `BigInt`; literals with '.', 'e' or 'E' →
/// `Float` (non-finite results such as `1e400` are refused). Never produces `Sym`.
pub fn parse(bytes: &[u8]) -> Result<Json> {
    parse_nested(bytes, MAX_PARSE_NESTING)
}

/// [`parse`] with another nesting limit: containers deeper than `max_nesting` (the
/// outermost one is depth 1) are an [`Error::Nesting`] carrying the refused depth.
pub fn parse_nested(bytes: &[u8], max_nesting: usize) -> Result<Json> {
    // One validation pass over the whole text (fast on long ASCII runs) lets every
    // escape-free string be sliced out as `str` without validating it again; invalid
    // input falls back to per-string validation, which reports the exact offset.
    let mut p = Parser::over(bytes, max_nesting);
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected trailing characters"));
    }
    Ok(v)
}

/// An object's members in order, names borrowed where they hold no escape.
pub type Members<'a> = Vec<(Cow<'a, str>, Json)>;

/// [`parse_nested`] of a text whose top level should be an object (a fact body): its
/// members, the names borrowed from `bytes` where they hold no escape, so a decoder that
/// only sorts them allocates nothing for them. `Ok(None)` when the text parses but is not
/// an object; errors are those of [`parse_nested`].
pub fn parse_members(bytes: &[u8], max_nesting: usize) -> Result<Option<Members<'_>>> {
    let mut p = Parser::over(bytes, max_nesting);
    p.skip_ws();
    if p.peek() != Some(b'{') || p.max_nesting == 0 {
        return parse_nested(bytes, max_nesting).map(|_| None);
    }
    let members = p.members(1)?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected trailing characters"));
    }
    Ok(Some(members))
}

struct Parser<'a> {
    b: &'a [u8],
    /// `b` as text when the whole input is valid UTF-8.
    text: Option<&'a str>,
    i: usize,
    /// Deepest container accepted (never above [`MAX_PARSE_NESTING`]: it bounds recursion).
    max_nesting: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `bytes`, with its one UTF-8 validation pass (see
    /// [`parse_nested`]) and the nesting bound capped at [`MAX_PARSE_NESTING`].
    fn over(bytes: &'a [u8], max_nesting: usize) -> Parser<'a> {
        Parser {
            b: bytes,
            text: std::str::from_utf8(bytes).ok(),
            i: 0,
            max_nesting: max_nesting.min(MAX_PARSE_NESTING),
        }
    }

    /// [`Parser::over`] of a text already known to be UTF-8: no validation pass.
    fn over_text(text: &'a str, max_nesting: usize) -> Parser<'a> {
        Parser {
            b: text.as_bytes(),
            text: Some(text),
            i: 0,
            max_nesting: max_nesting.min(MAX_PARSE_NESTING),
        }
    }

    /// Enters a top-level object: past its `{` (counted as one level of nesting) and
    /// the blanks after it. `Some(true)` when the object is empty (its `}` consumed
    /// too), `Some(false)` when a member follows, `None` when the input is no object.
    fn open_object(&mut self) -> Option<bool> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return None;
        }
        self.check_depth(1).ok()?;
        self.i += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(true);
        }
        Some(false)
    }

    /// Between a member's name and its value: past blanks, the `:` and blanks, or
    /// `None` when the `:` is missing.
    fn name_separator(&mut self) -> Option<()> {
        self.skip_ws();
        if self.peek() != Some(b':') {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        Some(())
    }

    /// After an object member: `Some(false)` past a `,` (another member follows),
    /// `Some(true)` past the closing `}`, `None` for anything else.
    fn object_next(&mut self) -> Option<bool> {
        self.skip_ws();
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(false)
            }
            b'}' => {
                self.i += 1;
                Some(true)
            }
            _ => None,
        }
    }

    fn err(&self, message: &str) -> Error {
        Error::Parse {
            offset: self.i,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// Consumes `lit` if the input continues with it.
    fn eat_literal(&mut self, lit: &[u8]) -> bool {
        let end = self.i.saturating_add(lit.len());
        if self.b.get(self.i..end) == Some(lit) {
            self.i = end;
            true
        } else {
            false
        }
    }

    /// `depth` is the depth of the enclosing container (0 at the top).
    fn value(&mut self, depth: usize) -> Result<Json> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') if self.eat_literal(b"true") => Ok(Json::Bool(true)),
            Some(b'f') if self.eat_literal(b"false") => Ok(Json::Bool(false)),
            Some(b'n') if self.eat_literal(b"null") => Ok(Json::Null),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > self.max_nesting {
            return Err(Error::Nesting(depth));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Json> {
        self.check_depth(depth)?;
        self.i += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json> {
        let members = self.members(depth)?;
        Ok(Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v))
                .collect(),
        ))
    }

    /// An object's members, names borrowed where they hold no escape.
    fn members(&mut self, depth: usize) -> Result<Members<'a>> {
        self.check_depth(depth)?;
        self.i += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(members);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string_cow()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.skip_ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(members);
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Json> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("expected a digit")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after '.'"));
            }
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
            is_float = true;
        }
        // The grammar above admitted only ASCII, so this cannot fail; cut from the
        // validated whole text when there is one (no second validation).
        let text = match self.text {
            Some(t) => t.get(start..self.i),
            None => self
                .b
                .get(start..self.i)
                .and_then(|t| std::str::from_utf8(t).ok()),
        }
        .ok_or_else(|| self.err("invalid number"))?;
        if is_float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Json::Float(f)),
                _ => Err(Error::Parse {
                    offset: start,
                    message: format!("number out of range: {text}"),
                }),
            }
        } else {
            // Only overflow can make this fail: the text is a valid integer literal, and
            // without leading zeros it is already the normalized decimal form.
            Ok(text
                .parse::<i64>()
                .map(Json::Int)
                .unwrap_or_else(|_| Json::BigInt(text.to_string())))
        }
    }

    fn string(&mut self) -> Result<String> {
        self.string_cow().map(Cow::into_owned)
    }

    /// A string, borrowed from the input when it holds no escape.
    fn string_cow(&mut self) -> Result<Cow<'a, str>> {
        let start = self.i;
        self.i += 1; // opening quote
                     // Most strings (keys, ids, plain text) hold no escape: their bytes are copied once
                     // into an exactly sized String instead of growing a buffer byte run by byte run.
        let run_end = self.run_end(self.i);
        if self.b.get(run_end) == Some(&b'"') {
            let from = self.i;
            self.i = run_end + 1;
            // Both ends sit next to ASCII quotes, so they are char boundaries.
            if let Some(text) = self.text.and_then(|t| t.get(from..run_end)) {
                return Ok(Cow::Borrowed(text));
            }
            let raw = self.b.get(from..run_end).unwrap_or(&[]);
            return match std::str::from_utf8(raw) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(e) => Err(Error::Parse {
                    offset: start + 1 + e.valid_up_to(),
                    message: "invalid UTF-8 in string".to_string(),
                }),
            };
        }
        let mut out: Vec<u8> = Vec::with_capacity(run_end - self.i + 16);
        loop {
            let run_end = self.run_end(self.i);
            out.extend_from_slice(self.b.get(self.i..run_end).unwrap_or(&[]));
            self.i = run_end;
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    // Raw runs end only at ASCII bytes and escapes emit whole characters,
                    // so validating the assembled bytes is the same as validating the input.
                    return String::from_utf8(out)
                        .map(Cow::Owned)
                        .map_err(|e| Error::Parse {
                            offset: start + 1 + e.utf8_error().valid_up_to(),
                            message: "invalid UTF-8 in string".to_string(),
                        });
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    /// Index of the first byte at or after `from` that ends a raw string run (quote,
    /// backslash or control character), or the input length.
    fn run_end(&self, from: usize) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let rest = self.b.get(from..).unwrap_or(&[]);
        let mut at = 0;
        // Eight bytes at a time: a word is skipped whole when it holds no quote, no
        // backslash and no byte below 0x20 (the classic "has zero byte" tests). A
        // borrow can only flag a byte *above* a true hit, so the lowest flagged byte
        // is the first one that ends the run.
        while let Some(chunk) = rest.get(at..at + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            let quote = w ^ (ONES * u64::from(b'"'));
            let backslash = w ^ (ONES * u64::from(b'\\'));
            let hit = ((quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (w.wrapping_sub(ONES * 0x20) & !w))
                & HIGHS;
            if hit != 0 {
                return from + at + (hit.trailing_zeros() / 8) as usize;
            }
            at += 8;
        }
        let tail = rest.get(at..).unwrap_or(&[]);
        from + at
            + tail
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(tail.len())
    }

    /// Decodes one escape (the backslash already consumed) into `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let c = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
        self.i += 1;
        let simple = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let ch = self.unicode_escape()?;
                let mut tmp = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                return Ok(());
            }
            _ => return Err(self.err("invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    /// After "\u": four hex digits, and for a high surrogate a following "\uDC00-DFFF".
    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if !self.eat_literal(b"\\u") {
                    return Err(self.err("lone high surrogate"));
                }
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.err("invalid low surrogate"));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.err("lone low surrogate")),
            _ => hi,
        };
        char::from_u32(code).ok_or_else(|| self.err("invalid code point"))
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let c = self.peek().ok_or_else(|| self.err("short \\u escape"))?;
            let d = char::from(c)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid hex digit in \\u escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }
}

mod fact_fields;
mod packed_value;
pub use fact_fields::{for_each_symbol_path, scan_fact_fields, FactFields, Scalar, Step};
pub use packed_value::{parse_body_packed, parse_packed, Member};

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scan must stop at a quote, backslash or control byte wherever
    /// it falls in or across an eight-byte word, and pass every other byte (UTF-8 too).
    #[test]
    fn a_run_ends_at_its_first_special_byte_whatever_surrounds_it() {
        // Bytes next to the tested ranges (0x1f/0x20, 0x21/0x23, 0x5b/0x5d, high
        // bits), so a borrow-induced false flag would show up as a wrong position.
        let fill = [b'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xc3, 0xff];
        for len in 0..20 {
            for &end in &[b'"', b'\\', 0x00, 0x1f, 0x0a] {
                for &f in &fill {
                    let mut b = vec![f; len];
                    b.push(end);
                    b.extend_from_slice(&[0x00, b'"', 0x1f, b'\\', 0x00, 0x00, 0x00, 0x00]);
                    let p = Parser {
                        b: &b,
                        text: None,
                        i: 0,
                        max_nesting: 1,
                    };
                    assert_eq!(p.run_end(0), len, "len {len} end {end:#x} fill {f:#x}");
                }
            }
        }
    }

    #[test]
    fn strings_end_and_escape_at_every_offset() {
        for len in 0..24 {
            let prefix = "aé€".repeat(len / 3) + &"x".repeat(len % 3);
            let plain = format!("\"{prefix}\"");
            assert_eq!(parse(plain.as_bytes()).unwrap(), Json::Str(prefix.clone()));
            let escaped = format!("\"{prefix}\\n{prefix}\\\"\"");
            assert_eq!(
                parse(escaped.as_bytes()).unwrap(),
                Json::Str(format!("{prefix}\n{prefix}\""))
            );
            let control = format!("\"{prefix}\u{1f}\"");
            assert!(parse(control.as_bytes()).is_err());
            let unterminated = format!("\"{prefix}");
            assert!(parse(unterminated.as_bytes()).is_err());
        }
    }

    /// Invalid UTF-8 is still reported at its offset when the whole-text check fails.
    #[test]
    fn invalid_utf8_reports_its_offset() {
        let bytes = b"[\"ok\",\"abcdefghij\xff\"]";
        match parse(bytes) {
            Err(Error::Parse { offset, message }) => {
                assert_eq!(offset, 17);
                assert!(message.contains("UTF-8"));
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }
}
