//! One pass over a fact body that allocates nothing (doc/performance.md "Replay"):
//! the scalar members are borrowed from the body's bytes, the data members packed
//! ([`crate::json::packed`]) into a buffer the caller reuses, and the `symbols`
//! member only checked, its text kept for [`crate::fact::decode_fast`]. Anything
//! outside that narrow shape — an escaped string, a big integer, `true` where a
//! scalar member stands, an unknown or repeated member, a `symbols` entry that is
//! not a plain path — is `None`, and the caller takes the general route.

use std::ops::Range;

use super::{Parser, MAX_PARSE_NESTING};
use crate::fact::compact::{hash_from_ascii, uuid_from_ascii, IdBytes};
use crate::fact::decode_fast::mark_symbol_in;
use crate::json::Json;

/// A scalar member, borrowed: what a fact body's non-data members hold.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Scalar<'a> {
    #[default]
    Absent,
    Null,
    False,
    Str(&'a str),
    Int(i64),
    Float(f64),
}

/// The members of a fact body as [`scan_fact_fields`] found them. The data members
/// are ranges of the caller's buffer; `symbols` is the member's JSON text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FactFields<'a> {
    pub id: Scalar<'a>,
    pub store: Scalar<'a>,
    pub key: Scalar<'a>,
    pub value_hash: Scalar<'a>,
    pub causation: Scalar<'a>,
    pub transaction_time: Scalar<'a>,
    pub timestamp: Scalar<'a>,
    pub valid_time: Scalar<'a>,
    pub term: Scalar<'a>,
    pub schema_version: Scalar<'a>,
    pub value: Option<Range<usize>>,
    pub producer: Option<Range<usize>>,
    pub derivation: Option<Range<usize>>,
    pub symbols: Option<&'a str>,
    /// Whether the `symbols` paths were already applied to the packed data (when
    /// every data member came before them); else the caller applies them.
    pub symbols_marked: bool,
    /// The bytes of `id`, `causation` and `value_hash` when they are Strings in
    /// the canonical UUID (hash) spelling, read in the same pass as the String.
    pub bytes: IdBytes,
}

/// Scans the fact body `bytes` (a JSON object at depth 1, whitespace around it
/// allowed), packing its data members onto the end of `out`. `None` when the body
/// is not in the shape this pass takes; `out` may then hold a partial value past
/// its old length, which the caller truncates.
pub fn scan_fact_fields<'a>(
    bytes: &'a [u8],
    max_nesting: usize,
    out: &mut Vec<u8>,
) -> Option<FactFields<'a>> {
    let mut p = Parser::over(bytes, max_nesting);
    let empty = p.open_object()?;
    let mut f = FactFields::default();
    // One bit per member name already seen: a repeated one is left to the general
    // route, which resolves it last-wins.
    let mut seen = 0u16;
    // Where in the writer's member order (WRITTEN) the next name is expected.
    let mut next = 0;
    if !empty {
        loop {
            p.skip_ws();
            if p.peek() != Some(b'"') {
                return None;
            }
            let name = p.predicted_name(&mut next).or_else(|| p.member_name())?;
            p.name_separator()?;
            let bit = match name {
                b"id" => 0,
                b"store" => 1,
                b"key" => 2,
                b"value" => 3,
                b"value_hash" => 4,
                b"causation" => 5,
                b"transaction_time" => 6,
                b"timestamp" => 7,
                b"valid_time" => 8,
                b"term" => 9,
                b"schema_version" => 10,
                b"producer" => 11,
                b"derivation" => 12,
                b"symbols" => 13,
                _ => return None,
            };
            if seen & (1 << bit) != 0 {
                return None;
            }
            seen |= 1 << bit;
            match bit {
                3 | 11 | 12 => {
                    // A data member after `symbols` was not marked with them: the
                    // caller applies the paths (again: marking is idempotent).
                    f.symbols_marked &= seen & (1 << 13) == 0;
                    let start = out.len();
                    p.pack_value(1, out)?;
                    let range = Some(start..out.len());
                    match bit {
                        3 => f.value = range,
                        11 => f.producer = range,
                        _ => f.derivation = range,
                    }
                }
                13 => {
                    let start = p.i;
                    // The data members the body has are packed already (the
                    // writer's order puts them first; a null producer or
                    // derivation may be absent, doc/format.md "Symbol extension"):
                    // mark the Symbols now, in this one read of the paths,
                    // instead of reading them again later.
                    let ranges = [f.value.as_ref(), f.producer.as_ref(), f.derivation.as_ref()];
                    let mut ok = true;
                    p.symbol_paths(|field, steps| {
                        ok &= mark_symbol_in(out, ranges, field, steps);
                    })?;
                    if !ok {
                        return None;
                    }
                    f.symbols_marked = true;
                    // Cut from the text the parser validated once, so reading the
                    // paths again validates nothing (both ends are ASCII brackets).
                    f.symbols = Some(p.text?.get(start..p.i)?);
                }
                // An id, causation or value hash in its canonical spelling is
                // parsed to its bytes as it is read: hex digits need no string
                // scan, and the record and the id index then parse nothing.
                0 | 5 if let Some((s, bytes)) = p.hex_string(36, uuid_from_ascii) => {
                    if bit == 0 {
                        (f.id, f.bytes.id) = (Scalar::Str(s), Some(bytes));
                    } else {
                        (f.causation, f.bytes.causation) = (Scalar::Str(s), Some(bytes));
                    }
                }
                4 if let Some((s, bytes)) = p.hex_string(64, hash_from_ascii) => {
                    (f.value_hash, f.bytes.value_hash) = (Scalar::Str(s), Some(bytes));
                }
                _ => {
                    let v = p.scalar()?;
                    *match bit {
                        0 => &mut f.id,
                        1 => &mut f.store,
                        2 => &mut f.key,
                        4 => &mut f.value_hash,
                        5 => &mut f.causation,
                        6 => &mut f.transaction_time,
                        7 => &mut f.timestamp,
                        8 => &mut f.valid_time,
                        9 => &mut f.term,
                        _ => &mut f.schema_version,
                    } = v;
                }
            }
            if p.object_next()? {
                break;
            }
        }
    }
    p.skip_ws();
    (p.i == p.b.len()).then_some(f)
}

/// The member names in the order this library writes them (fact/body.rs), each
/// with its closing quote: a name is first compared with the one expected next.
const WRITTEN: [&[u8]; 12] = [
    b"id\"",
    b"store\"",
    b"key\"",
    b"value\"",
    b"value_hash\"",
    b"causation\"",
    b"transaction_time\"",
    b"valid_time\"",
    b"schema_version\"",
    b"producer\"",
    b"derivation\"",
    b"symbols\"",
];

/// `rest.starts_with(want)` for a short `want` (a member name), compared a word
/// at a time inline: the library call `starts_with` makes cost more than the
/// compare for names this short, twelve times per body.
fn starts_with_short(rest: &[u8], want: &[u8]) -> bool {
    if rest.len() < want.len() {
        return false;
    }
    let word = |b: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let mut at = 0;
    while at + 8 <= want.len() {
        if word(rest, at) != word(want, at) {
            return false;
        }
        at += 8;
    }
    rest[at..want.len()]
        .iter()
        .zip(&want[at..])
        .all(|(a, b)| a == b)
}

/// One step of a `symbols` path: an object member name or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Name(&'a str),
    Index(usize),
}

/// Calls `each(field, steps)` for every path of the `symbols` member text `text`
/// (as [`scan_fact_fields`] kept it), in order. `None` when the text is not the
/// plain shape (an Array of Arrays, each a String then Strings and non-negative
/// integers, no escapes).
pub fn for_each_symbol_path<'a>(
    text: &'a str,
    each: impl FnMut(&'a str, &mut dyn Iterator<Item = Step<'a>>),
) -> Option<()> {
    let mut p = Parser::over_text(text, MAX_PARSE_NESTING);
    p.symbol_paths(each)?;
    (p.i == p.b.len()).then_some(())
}

/// The steps of one path, read as they are iterated (the path was checked before).
struct Steps<'p, 'a> {
    p: &'p mut Parser<'a>,
    failed: bool,
    done: bool,
}

impl<'a> Iterator for Steps<'_, 'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Step<'a>> {
        if self.done || self.failed {
            return None;
        }
        let step = self.p.path_step();
        match step {
            Some(Some(step)) => Some(step),
            Some(None) => {
                self.done = true;
                None
            }
            None => {
                self.failed = true;
                None
            }
        }
    }
}

impl<'a> Parser<'a> {
    /// The name at the cursor (a quote) when it is `WRITTEN[*next]` or a later
    /// one, the cursor then past it and `next` moved past that one; else `None`,
    /// nothing moved.
    fn predicted_name(&mut self, next: &mut usize) -> Option<&'a [u8]> {
        let from = self.i + 1;
        let rest = self.b.get(from..)?;
        let mut at = *next;
        let mut want = *WRITTEN.get(at)?;
        if !starts_with_short(rest, want) {
            // A later name: a body with `symbols` leaves out its null optional
            // members (doc/format.md "Symbol extension").
            (at, want) = WRITTEN
                .iter()
                .enumerate()
                .skip(at + 1)
                .find(|(_, want)| starts_with_short(rest, want))
                .map(|(at, want)| (at, *want))?;
        }
        *next = at + 1;
        self.i = from + want.len();
        Some(&rest[..want.len() - 1])
    }

    /// The name of a body member at the cursor (a quote), when it is short and
    /// plain, as every name [`scan_fact_fields`] knows is: its bytes, the cursor
    /// past its closing quote. `None` (cursor unmoved) otherwise.
    fn member_name(&mut self) -> Option<&'a [u8]> {
        const LONGEST: usize = 24;
        let from = self.i + 1;
        let rest = self.b.get(from..)?;
        let len = rest
            .iter()
            .take(LONGEST)
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i = from + len + 1;
        Some(&rest[..len])
    }

    /// A string of exactly `len` bytes at the cursor (a quote) that `parse` reads
    /// to bytes: the text, borrowed, and those bytes; the cursor then past it.
    /// `None`, nothing moved, for any other value. `parse` takes only ASCII hex
    /// digits and hyphens, so no quote, escape or control byte is inside.
    fn hex_string<T>(
        &mut self,
        len: usize,
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> Option<(&'a str, T)> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let from = self.i + 1;
        let end = from.checked_add(len)?;
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        let bytes = parse(self.b.get(from..end)?)?;
        let s = self.text?.get(from..end)?;
        self.i = end + 1;
        Some((s, bytes))
    }

    /// A string without escapes at the cursor (a quote), borrowed from an input
    /// that is UTF-8 as a whole: the cursor past it. `None` (cursor unmoved) for
    /// any other string, which [`Parser::string_cow`] then reads or refuses.
    pub(super) fn plain_string(&mut self) -> Option<&'a str> {
        let text = self.text?;
        let from = self.i + 1;
        let b = self.b;
        let end = self.run_end(from);
        if b.get(end) != Some(&b'"') {
            return None;
        }
        let s = text.get(from..end)?;
        self.i = end + 1;
        Some(s)
    }

    /// A scalar member's value, borrowed; `None` for anything [`Scalar`] does not hold.
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.plain_string().map(Scalar::Str),
            b'-' | b'0'..=b'9' => match self.number().ok()? {
                Json::Int(i) => Some(Scalar::Int(i)),
                Json::Float(f) => Some(Scalar::Float(f)),
                _ => None,
            },
            b'n' if self.eat_literal(b"null") => Some(Scalar::Null),
            b'f' if self.eat_literal(b"false") => Some(Scalar::False),
            _ => None,
        }
    }

    /// The `symbols` Array at the cursor, each path handed to `each` as it is read;
    /// `None` unless it is the plain shape [`for_each_symbol_path`] names.
    fn symbol_paths(
        &mut self,
        mut each: impl FnMut(&'a str, &mut dyn Iterator<Item = Step<'a>>),
    ) -> Option<()> {
        if self.peek()? != b'[' {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'[' {
                return None;
            }
            self.i += 1;
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let field = self.plain_string()?;
            let mut steps = Steps {
                p: self,
                failed: false,
                done: false,
            };
            each(field, &mut steps);
            // Whatever `each` left unread is read (and checked) here.
            while steps.next().is_some() {}
            if steps.failed {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The next step of a path, or `Some(None)` at its closing bracket.
    fn path_step(&mut self) -> Option<Option<Step<'a>>> {
        self.skip_ws();
        match self.peek()? {
            b']' => {
                self.i += 1;
                return Some(None);
            }
            b',' => self.i += 1,
            _ => return None,
        }
        self.skip_ws();
        match self.peek()? {
            b'"' => self.plain_string().map(|s| Some(Step::Name(s))),
            b'0'..=b'9' => match self.number().ok()? {
                Json::Int(i) => Some(Some(Step::Index(usize::try_from(i).ok()?))),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_scalars_and_packs_data() {
        let body = br#" {"id":"a","store":"s","key":"k","value":{"x":[1,"y"]},"value_hash":null,"transaction_time":1.5,"valid_time":-0,"schema_version":2,"producer":false,"symbols":[["value","x",1]]} "#;
        let mut out = vec![7];
        let f = scan_fact_fields(body, 10, &mut out).unwrap();
        assert_eq!(f.id, Scalar::Str("a"));
        assert_eq!(f.value_hash, Scalar::Null);
        assert_eq!(f.causation, Scalar::Absent);
        assert_eq!(f.transaction_time, Scalar::Float(1.5));
        assert_eq!(f.valid_time, Scalar::Int(0));
        assert_eq!(f.schema_version, Scalar::Int(2));
        let value = f.value.clone().unwrap();
        assert_eq!(value.start, 1);
        // Every data member the body has came before `symbols`: marked in the scan.
        assert!(f.symbols_marked);
        assert_eq!(
            crate::json::packed::unpack(&out[value]),
            Some(Json::Object(vec![(
                "x".into(),
                Json::Array(vec![Json::Int(1), Json::Sym("y".into())])
            )]))
        );
        let mut paths = Vec::new();
        for_each_symbol_path(f.symbols.unwrap(), |field, steps| {
            paths.push((field, steps.collect::<Vec<_>>()));
        })
        .unwrap();
        assert_eq!(paths, [("value", vec![Step::Name("x"), Step::Index(1)])]);
    }

    #[test]
    fn symbols_are_marked_in_the_scan_unless_a_data_member_follows_them() {
        // Null optional members left out (doc/format.md "Symbol extension").
        let written = br#"{"id":"a","store":"s","key":"k","value":{"x":"y"},"value_hash":"h","transaction_time":1.5,"schema_version":1,"symbols":[["value","x"]]}"#;
        let mut out = Vec::new();
        let f = scan_fact_fields(written, 10, &mut out).unwrap();
        assert!(f.symbols_marked);
        assert_eq!(f.causation, Scalar::Absent);
        assert_eq!(f.valid_time, Scalar::Absent);
        assert_eq!((f.producer, f.derivation), (None, None));
        assert_eq!(
            crate::json::packed::unpack(&out[f.value.unwrap()]),
            Some(Json::Object(vec![("x".into(), Json::Sym("y".into()))]))
        );
        let late = br#"{"id":"a","store":"s","key":"k","value":{"x":"y"},"symbols":[["value","x"]],"producer":"p"}"#;
        assert!(
            !scan_fact_fields(late, 10, &mut Vec::new())
                .unwrap()
                .symbols_marked
        );
    }

    #[test]
    fn canonical_ids_and_hashes_are_read_to_bytes_in_the_pass() {
        let uuid = "0a1b2c3d-4e5f-4678-89ab-cdef01234567";
        let hash = "5d62cfb8af96546c5db4860c9ef04c156f6e8e5aecb05a03e77597fb5b28fb2c";
        let upper = "0A1B2C3D-4E5F-4678-89AB-CDEF01234567";
        let body = format!(r#"{{"id":"{uuid}","causation":"{upper}","value_hash":"{hash}"}}"#);
        let f = scan_fact_fields(body.as_bytes(), 10, &mut Vec::new()).unwrap();
        assert_eq!(
            (f.id, f.causation, f.value_hash),
            (Scalar::Str(uuid), Scalar::Str(upper), Scalar::Str(hash))
        );
        assert_eq!(f.bytes, IdBytes::of(uuid, Some(upper), Some(hash)));
        assert!(
            f.bytes.id.is_some() && f.bytes.causation.is_none() && f.bytes.value_hash.is_some()
        );
        // Same lengths, not the spelling: read as Strings (or refused), no bytes.
        for (body, id) in [
            (r#"{"id":"0a1b2c3d-4e5f-4678-89ab-cdef0123456\"}"#, None),
            (
                r#"{"id":"0a1b2c3d-4e5f-4678-89ab-cdef0123456é"}"#,
                Some("0a1b2c3d-4e5f-4678-89ab-cdef0123456é"),
            ),
            (
                r#"{"id":"0a1b2c3d-4e5f-4678-89ab-cdef01234567x"}"#,
                Some("0a1b2c3d-4e5f-4678-89ab-cdef01234567x"),
            ),
            (r#"{"id":"0a1b2c3d-4e5f-4678-89ab-cdef01234567"#, None),
            (
                r#"{"causation":"0a1b2c3d-4e5f-4678-89ab-cdef01234567","causation":null}"#,
                None,
            ),
        ] {
            let f = scan_fact_fields(body.as_bytes(), 10, &mut Vec::new());
            assert_eq!(f.as_ref().map(|f| f.id), id.map(Scalar::Str), "{body}");
            assert_eq!(f.map(|f| f.bytes), id.map(|_| IdBytes::default()), "{body}");
        }
    }

    #[test]
    fn a_short_prefix_compares_as_starts_with() {
        let names = WRITTEN
            .iter()
            .copied()
            .chain([&b""[..], b"abcdefgh", b"abcdefghi"]);
        for want in names {
            for rest in [
                &b"transaction_time\"x"[..],
                b"id\"",
                b"abcdefghij",
                b"abcdefgh",
                b"abc",
                b"",
            ] {
                assert_eq!(starts_with_short(rest, want), rest.starts_with(want));
            }
            let mut rest = want.to_vec();
            assert!(starts_with_short(&rest, want));
            for i in 0..rest.len() {
                rest[i] ^= 1;
                assert!(!starts_with_short(&rest, want));
                rest[i] ^= 1;
            }
        }
    }

    #[test]
    fn anything_outside_the_shape_is_none() {
        for body in [
            &br#"{"id":"a\n"}"#[..],
            br#"{"id":true}"#,
            br#"{"schema_version":123456789012345678901234567890}"#,
            br#"{"other":1}"#,
            br#"{"id":"a","id":"b"}"#,
            br#"{"symbols":[["value",-1]]}"#,
            br#"{"symbols":[["value",1.5]]}"#,
            br#"{"symbols":[[]]}"#,
            br#"{"symbols":[["value"],]}"#,
            br#"{"symbols":{}}"#,
            br#"{"value":{"a":1,"a":2}}"#,
            br#"{"value":[1,]}"#,
            br#"{"id":"a"} x"#,
            br#"{"id":"a""#,
            br#"{"id":"a",}"#,
            br#"[1]"#,
            b"",
            b"{\"id\":\"\xff\"}",
        ] {
            let mut out = Vec::new();
            assert_eq!(
                scan_fact_fields(body, 10, &mut out),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn nesting_is_bounded_as_the_tree_parser_bounds_it() {
        let mut out = Vec::new();
        assert!(scan_fact_fields(br#"{"value":[[1]]}"#, 3, &mut out).is_some());
        assert!(scan_fact_fields(br#"{"value":[[[1]]]}"#, 3, &mut out).is_none());
    }
}
