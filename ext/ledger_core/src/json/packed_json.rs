//! A packed value ([`crate::json::packed`]) written as JSON in insertion order,
//! straight from its bytes: the same text as `write_json` of the unpacked model,
//! with no [`Json`](crate::json::Json) model in between (a fact's value is held
//! packed, doc/performance.md "Native write path", and a file write encodes its
//! body from it). The walk also gives the paths of the value's Symbols, which the
//! body lists after its members (`fact/body.rs`, doc/format.md "WAL").

use std::io::Write as _;

use crate::error::{Error, Result};
use crate::json::encode::{write_bigint, write_float, write_json_string, MAX_NESTING};
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
    };
    let r = walk.node(&mut Reader::new(bytes), out, 0);
    if r.is_err() {
        out.truncate(start);
        walk.paths.truncate(paths_start);
    }
    r
}

struct Walk<'p, 'f, 'a> {
    field: &'f str,
    stack: Vec<Seg<'a>>,
    paths: &'p mut Vec<u8>,
}

fn damaged() -> Error {
    Error::InvalidRecord("damaged packed value".into())
}

impl<'a> Walk<'_, '_, 'a> {
    /// `depth` is the depth of the container enclosing the node (0 at the top).
    fn node(&mut self, r: &mut Reader<'a>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        match r.tag().ok_or_else(damaged)? {
            packed::NULL => out.extend_from_slice(b"null"),
            packed::TRUE => out.extend_from_slice(b"true"),
            packed::FALSE => out.extend_from_slice(b"false"),
            packed::INT => {
                let _ = write!(out, "{}", r.int().ok_or_else(damaged)?);
            }
            packed::BIG_INT => write_bigint(r.text().ok_or_else(damaged)?, out)?,
            packed::FLOAT => write_float(r.float().ok_or_else(damaged)?, out)?,
            packed::STR => write_json_string(r.text().ok_or_else(damaged)?, out),
            packed::SYM => {
                write_json_string(r.text().ok_or_else(damaged)?, out);
                self.symbol_path();
            }
            packed::ARRAY => {
                let depth = enter(depth)?;
                out.push(b'[');
                for i in 0..r.varint().ok_or_else(damaged)? {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.stack.push(Seg::Index(i as usize));
                    self.node(r, out, depth)?;
                    self.stack.pop();
                }
                out.push(b']');
            }
            packed::OBJECT => {
                let depth = enter(depth)?;
                out.push(b'{');
                for i in 0..r.varint().ok_or_else(damaged)? {
                    if i > 0 {
                        out.push(b',');
                    }
                    let name = r.text().ok_or_else(damaged)?;
                    write_json_string(name, out);
                    out.push(b':');
                    self.stack.push(Seg::Key(name));
                    self.node(r, out, depth)?;
                    self.stack.pop();
                }
                out.push(b'}');
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
            String::from_utf8(from_packed).unwrap(),
            String::from_utf8(from_model).unwrap()
        );
        (packed_bytes, paths)
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
            assert_eq!(out, b"head");
        }
    }
}
