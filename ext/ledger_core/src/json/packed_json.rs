//! A packed value ([`crate::json::packed`]) written as JSON in insertion order,
//! straight from its bytes: the same text as `write_json` of the unpacked model,
//! with no [`Json`](crate::json::Json) model in between (a fact's value is held
//! packed, doc/performance.md "Native write path", and a file write encodes its
//! body from it). The walk also gives the paths of the value's Symbols, which the
//! body lists after its members (`fact/body.rs`, doc/format.md "WAL").

use std::io::Write as _;

use crate::error::{Error, Result};
use crate::json::encode::{write_bigint, write_float, write_int, write_json_string, MAX_NESTING};
use crate::json::hash::sha256_hex;
use crate::json::packed::{self, Reader};

/// One step of a Symbol path: an object member's name or an array index.
#[derive(Clone, Copy)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Appends the JSON of the packed value `bytes` (its first node) to `out`, and
/// to `paths` `["field",seg,…]` for every Symbol in it, comma-separated after
/// any paths already there. Fails, leaving `out` as it was, on bytes
/// [`packed::pack`] did not write, a malformed BigInt, NaN/Infinity or nesting
/// deeper than [`MAX_NESTING`] — what `write_json` refuses.
pub fn write_json_packed(
    bytes: &[u8],
    field: &str,
    out: &mut Vec<u8>,
    paths: &mut Vec<u8>,
) -> Result<()> {
    let start = out.len();
    let paths_start = paths.len();
    let mut walk = Walk {
        field,
        stack: Vec::new(),
        paths,
        spans: None,
    };
    let r = walk.node(&mut Reader::new(bytes), out, 0);
    if r.is_err() {
        out.truncate(start);
        walk.paths.truncate(paths_start);
    }
    r
}

/// [`write_json_packed`], and the `value_hash` of the same value (lowercase
/// hex, the same text as `packed_canonical::packed_value_hash`), from one walk.
///
/// The canonical JSON that `value_hash` hashes differs from the insertion-order
/// text only in the order of object members (and which of repeated names it
/// keeps): every scalar and every member's `"name":` is the same bytes. So the
/// walk notes where each node's text lies in `out`, and the canonical text is
/// put together from those pieces: a subtree whose objects all list their
/// names in strictly increasing order is copied whole, and only the objects
/// that are not are reordered. A file write needs both texts; reading the
/// packed bytes twice and escaping every string twice was a third of the
/// instructions the file added to a write (doc/performance.md "File writes").
pub fn write_json_packed_hashed(
    bytes: &[u8],
    field: &str,
    out: &mut Vec<u8>,
    paths: &mut Vec<u8>,
) -> Result<String> {
    let start = out.len();
    let paths_start = paths.len();
    let mut spans = Vec::with_capacity(16);
    let mut walk = Walk {
        field,
        stack: Vec::new(),
        paths,
        spans: Some(&mut spans),
    };
    if let Err(e) = walk.node(&mut Reader::new(bytes), out, 0) {
        out.truncate(start);
        walk.paths.truncate(paths_start);
        return Err(e);
    }
    let text = out.get(start..).unwrap_or(&[]);
    if spans.first().is_some_and(|root| root.clean) {
        return Ok(sha256_hex(text));
    }
    let mut canonical = Vec::with_capacity(text.len());
    canonical_from(&spans, out, 0, &mut canonical);
    Ok(sha256_hex(&canonical))
}

/// Where one node's text lies in the walk's output (see
/// [`write_json_packed_hashed`]), nodes numbered in document order.
struct Span<'a> {
    /// The member name, raw (unescaped), when the node is an object member.
    name: &'a [u8],
    /// Where the member's `"name":` starts (`start` when not a member).
    prefix: usize,
    start: usize,
    end: usize,
    /// The number of the first node after this one's subtree.
    next: usize,
    /// [`packed::ARRAY`], [`packed::OBJECT`], or 0 for a scalar.
    kind: u8,
    /// The text of the subtree is its canonical text already.
    clean: bool,
}

/// Appends the canonical text of node `i` to `canonical`, from the pieces of
/// `text` that `spans` locates: the order `packed_canonical` writes (names
/// sorted bytewise, stable, so of equal names the last inserted is kept).
fn canonical_from(spans: &[Span<'_>], text: &[u8], i: usize, canonical: &mut Vec<u8>) {
    let Some(span) = spans.get(i) else { return };
    if span.clean || span.kind == 0 {
        canonical.extend_from_slice(text.get(span.start..span.end).unwrap_or(&[]));
        return;
    }
    // At most one child per node below this one.
    let mut children = Vec::with_capacity((span.next - i - 1).min(64));
    let mut j = i + 1;
    while j < span.next {
        children.push(j);
        j = spans.get(j).map_or(span.next, |c| c.next);
    }
    let name = |c: usize| spans.get(c).map_or(&[][..], |s| s.name);
    if span.kind == packed::ARRAY {
        canonical.push(b'[');
        for (n, &c) in children.iter().enumerate() {
            if n > 0 {
                canonical.push(b',');
            }
            canonical_from(spans, text, c, canonical);
        }
        canonical.push(b']');
        return;
    }
    children.sort_by(|&a, &b| name(a).cmp(name(b)));
    canonical.push(b'{');
    let mut first = true;
    for (n, &c) in children.iter().enumerate() {
        if children
            .get(n + 1)
            .is_some_and(|&next| name(next) == name(c))
        {
            continue;
        }
        if !first {
            canonical.push(b',');
        }
        first = false;
        if let Some(child) = spans.get(c) {
            canonical.extend_from_slice(text.get(child.prefix..child.start).unwrap_or(&[]));
        }
        canonical_from(spans, text, c, canonical);
    }
    canonical.push(b'}');
}

struct Walk<'p, 'f, 'a> {
    field: &'f str,
    stack: Vec<Seg<'a>>,
    paths: &'p mut Vec<u8>,
    /// Set by [`write_json_packed_hashed`]: one span per node, in document order.
    spans: Option<&'p mut Vec<Span<'a>>>,
}

fn damaged() -> Error {
    Error::InvalidRecord("damaged packed value".into())
}

impl<'a> Walk<'_, '_, 'a> {
    /// `depth` is the depth of the container enclosing the node (0 at the top).
    fn node(&mut self, r: &mut Reader<'a>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        let Some(spans) = self.spans.as_deref_mut() else {
            return self.text(r, out, depth);
        };
        let at = spans.len();
        let start = out.len();
        spans.push(Span {
            name: &[],
            prefix: start,
            start,
            end: start,
            next: at + 1,
            kind: 0,
            clean: true,
        });
        self.text(r, out, depth)?;
        if let Some(spans) = self.spans.as_deref_mut() {
            let next = spans.len();
            if let Some(span) = spans.get_mut(at) {
                span.end = out.len();
                span.next = next;
            }
        }
        Ok(())
    }

    /// The span of node `at`, when spans are kept.
    fn span_mut(&mut self, at: usize) -> Option<&mut Span<'a>> {
        self.spans.as_deref_mut()?.get_mut(at)
    }

    /// Marks node `at` a container of `kind`, clean or not.
    fn mark(&mut self, at: Option<usize>, kind: u8, clean: bool) {
        if let (Some(at), Some(spans)) = (at, self.spans.as_deref_mut()) {
            if let Some(span) = spans.get_mut(at) {
                span.kind = kind;
                span.clean = clean;
            }
        }
    }

    /// The number of the next node (`None` when no spans are kept).
    fn here(&self) -> Option<usize> {
        self.spans.as_deref().map(Vec::len)
    }

    /// Whether node `at`'s subtree is clean (true when no spans are kept).
    fn is_clean(&self, at: Option<usize>) -> bool {
        match (at, self.spans.as_deref()) {
            (Some(at), Some(spans)) => spans.get(at).is_none_or(|s| s.clean),
            _ => true,
        }
    }

    /// Writes the node's text; [`Walk::node`] notes where it lies.
    fn text(&mut self, r: &mut Reader<'a>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        let this = self.here().map(|n| n.saturating_sub(1));
        match r.tag().ok_or_else(damaged)? {
            packed::NULL => out.extend_from_slice(b"null"),
            packed::TRUE => out.extend_from_slice(b"true"),
            packed::FALSE => out.extend_from_slice(b"false"),
            packed::INT => write_int(r.int().ok_or_else(damaged)?, out),
            packed::BIG_INT => write_bigint(r.text().ok_or_else(damaged)?, out)?,
            packed::FLOAT => write_float(r.float().ok_or_else(damaged)?, out)?,
            packed::STR => write_json_string(r.text().ok_or_else(damaged)?, out),
            packed::SYM => {
                write_json_string(r.text().ok_or_else(damaged)?, out);
                self.symbol_path();
            }
            packed::ARRAY => {
                let depth = enter(depth)?;
                let mut clean = true;
                out.push(b'[');
                for i in 0..r.varint().ok_or_else(damaged)? {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.stack.push(Seg::Index(i as usize));
                    let child = self.here();
                    self.node(r, out, depth)?;
                    clean &= self.is_clean(child);
                    self.stack.pop();
                }
                out.push(b']');
                self.mark(this, packed::ARRAY, clean);
            }
            packed::OBJECT => {
                let depth = enter(depth)?;
                let mut clean = true;
                let mut previous: Option<&str> = None;
                out.push(b'{');
                for i in 0..r.varint().ok_or_else(damaged)? {
                    if i > 0 {
                        out.push(b',');
                    }
                    let name = r.text().ok_or_else(damaged)?;
                    let prefix = out.len();
                    write_json_string(name, out);
                    out.push(b':');
                    self.stack.push(Seg::Key(name));
                    let child = self.here();
                    self.node(r, out, depth)?;
                    if let Some(span) = child.and_then(|c| self.span_mut(c)) {
                        span.name = name.as_bytes();
                        span.prefix = prefix;
                    }
                    // Strictly increasing names: already in canonical order, none repeated.
                    clean &= self.is_clean(child) && previous.is_none_or(|p| p < name);
                    previous = Some(name);
                    self.stack.pop();
                }
                out.push(b'}');
                self.mark(this, packed::OBJECT, clean);
            }
            _ => return Err(damaged()),
        }
        Ok(())
    }

    fn symbol_path(&mut self) {
        write_symbol_path(self.field, &self.stack, self.paths);
    }
}

/// Appends `["field",seg,…]` to `paths`, after a comma if it holds one already.
pub(crate) fn write_symbol_path(field: &str, stack: &[Seg<'_>], paths: &mut Vec<u8>) {
    if !paths.is_empty() {
        paths.push(b',');
    }
    paths.push(b'[');
    write_json_string(field, paths);
    for seg in stack {
        paths.push(b',');
        match seg {
            Seg::Key(k) => write_json_string(k, paths),
            Seg::Index(i) => {
                let _ = write!(paths, "{i}");
            }
        }
    }
    paths.push(b']');
}

/// Depth check on entering a container; returns the container's own depth.
fn enter(parent_depth: usize) -> Result<usize> {
    let depth = parent_depth + 1;
    if depth > MAX_NESTING {
        return Err(Error::Nesting(depth));
    }
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::encode::write_json;
    use crate::json::packed::pack;
    use crate::json::Json;

    fn obj(members: Vec<(&str, Json)>) -> Json {
        Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    fn both(v: &Json) -> (Vec<u8>, Vec<u8>) {
        let mut packed_bytes = Vec::new();
        pack(v, &mut packed_bytes);
        let mut from_packed = Vec::new();
        let mut paths = Vec::new();
        write_json_packed(&packed_bytes, "value", &mut from_packed, &mut paths).unwrap();
        let mut from_model = Vec::new();
        write_json(v, &mut from_model).unwrap();
        assert_eq!(
            String::from_utf8(from_packed.clone()).unwrap(),
            String::from_utf8(from_model).unwrap()
        );
        same_when_hashed(&packed_bytes, &from_packed, &paths);
        (packed_bytes, paths)
    }

    /// The hashing walk writes the same text and paths as the plain one, and
    /// the hash `packed_value_hash` computes from its own canonical walk.
    fn same_when_hashed(packed_bytes: &[u8], text: &[u8], paths: &[u8]) {
        let mut hashed_text = b"{\"id\":".to_vec();
        let mut hashed_paths = Vec::new();
        let hash =
            write_json_packed_hashed(packed_bytes, "value", &mut hashed_text, &mut hashed_paths)
                .unwrap();
        assert_eq!(&hashed_text[6..], text);
        assert_eq!(hashed_paths, paths);
        assert_eq!(
            Some(hash),
            crate::json::packed_canonical::packed_value_hash(packed_bytes)
        );
    }

    /// A small deterministic generator (xorshift) of nested values: names
    /// drawn from a few, so objects come sorted, unsorted and with repeats.
    fn generated(seed: &mut u64, depth: usize) -> Json {
        fn next(seed: &mut u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        }
        const NAMES: [&str; 7] = ["a", "b", "ab", "B", "é", "q\"", "a\n"];
        let kinds = if depth > 3 { 6 } else { 9 };
        match next(seed) % kinds {
            0 => Json::Null,
            1 => Json::Int(next(seed) as i64 >> (next(seed) % 64)),
            2 => Json::Float((next(seed) % 100_000) as f64 / 7.0),
            3 => Json::Str(NAMES[(next(seed) % 7) as usize].repeat((next(seed) % 3) as usize)),
            4 => Json::Sym(NAMES[(next(seed) % 7) as usize].into()),
            5 => Json::Bool(next(seed).is_multiple_of(2)),
            6 => {
                let n = next(seed) % 4;
                Json::Array((0..n).map(|_| generated(seed, depth + 1)).collect())
            }
            _ => {
                let n = next(seed) % 5;
                Json::Object(
                    (0..n)
                        .map(|_| {
                            let name = NAMES[(next(seed) % 7) as usize].to_owned();
                            (name, generated(seed, depth + 1))
                        })
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn the_hashing_walk_agrees_with_the_canonical_walk_on_generated_values() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            both(&generated(&mut seed, 0));
        }
    }

    #[test]
    fn writes_the_text_write_json_writes_for_every_variant() {
        let v = obj(vec![
            ("n", Json::Int(-42)),
            (
                "big",
                Json::BigInt("-123456789012345678901234567890".into()),
            ),
            ("f", Json::Float(1.5e-7)),
            ("t", Json::Str("a \"q\" \u{1}\n é".into())),
            ("s", Json::Sym("open".into())),
            ("b", Json::Bool(true)),
            ("nil", Json::Null),
            ("dup", Json::Int(1)),
            ("dup", Json::Int(2)),
            (
                "tags",
                Json::Array(vec![
                    Json::Str("x".into()),
                    Json::Sym("y".into()),
                    Json::Bool(false),
                ]),
            ),
            (
                "nested",
                obj(vec![("x", obj(vec![])), ("y", Json::Array(vec![]))]),
            ),
        ]);
        both(&v);
    }

    #[test]
    fn lists_symbol_paths_in_document_order() {
        let v = obj(vec![
            ("status", Json::Sym("open".into())),
            (
                "tags",
                Json::Array(vec![Json::Str("a".into()), Json::Sym("b".into())]),
            ),
            ("deep", obj(vec![("k\"", Json::Sym("c".into()))])),
        ]);
        let (_, paths) = both(&v);
        assert_eq!(
            String::from_utf8(paths).unwrap(),
            r#"["value","status"],["value","tags",1],["value","deep","k\""]"#
        );
    }

    #[test]
    fn refuses_what_write_json_refuses_and_leaves_out_untouched() {
        let mut out = b"head".to_vec();
        let mut paths = b"[\"x\"]".to_vec();
        let mut bytes = Vec::new();
        pack(
            &Json::Array(vec![Json::Sym("a".into()), Json::Float(f64::NAN)]),
            &mut bytes,
        );
        assert!(write_json_packed(&bytes, "value", &mut out, &mut paths).is_err());
        assert_eq!(out, b"head");
        assert_eq!(paths, b"[\"x\"]");
        assert!(write_json_packed_hashed(&bytes, "value", &mut out, &mut paths).is_err());
        assert_eq!(out, b"head");
        assert_eq!(paths, b"[\"x\"]");

        let mut deep = Json::Null;
        for _ in 0..=MAX_NESTING {
            deep = Json::Array(vec![deep]);
        }
        bytes.clear();
        pack(&deep, &mut bytes);
        assert!(matches!(
            write_json_packed(&bytes, "value", &mut out, &mut paths),
            Err(Error::Nesting(_))
        ));

        for damaged in [&[][..], &[packed::ARRAY, 2, packed::NULL][..], &[99][..]] {
            assert!(write_json_packed(damaged, "value", &mut out, &mut paths).is_err());
            assert!(write_json_packed_hashed(damaged, "value", &mut out, &mut paths).is_err());
            assert_eq!(out, b"head");
        }
    }
}
