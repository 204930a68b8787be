//! Strict JSON parser (RFC 8259) producing [`Json`].
//!
//! Hand-written because the model must keep things serde_json would blur: integers beyond
//! i64 as exact decimal text, `-0.0` as a Float, duplicate object keys in order. It never
//! panics and never recurses deeper than [`MAX_PARSE_NESTING`].

use crate::encode::MAX_NESTING;
use crate::error::{Error, Result};
use crate::json::Json;

/// Deepest container nesting the parser accepts. Two more than the encoder's limit because
/// a fact body wraps the value (the body object, then the value's own containers), so any
/// value the encoder accepted parses back.
pub const MAX_PARSE_NESTING: usize = MAX_NESTING + 2;

/// Parses one JSON text; whitespace may surround tokens, nothing else may follow.
/// Integers that fit i64 → `Int`, larger ones → `BigInt`; literals with '.', 'e' or 'E' →
/// `Float` (non-finite results such as `1e400` are refused). Never produces `Sym`.
pub fn parse(bytes: &[u8]) -> Result<Json> {
    let mut p = Parser { b: bytes, i: 0 };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
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
        if depth > MAX_PARSE_NESTING {
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
        self.check_depth(depth)?;
        self.i += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = self.string()?;
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
                    return Ok(Json::Object(members));
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
        // The grammar above admitted only ASCII, so this cannot fail.
        let text = self
            .b
            .get(start..self.i)
            .and_then(|t| std::str::from_utf8(t).ok())
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
        let start = self.i;
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let run_start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.extend_from_slice(self.b.get(run_start..self.i).unwrap_or(&[]));
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    // Raw runs end only at ASCII bytes and escapes emit whole characters,
                    // so validating the assembled bytes is the same as validating the input.
                    return String::from_utf8(out).map_err(|e| Error::Parse {
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
