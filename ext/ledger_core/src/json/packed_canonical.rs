//! `value_hash` of a value held in packed form ([`crate::json::packed`]): its
//! canonical JSON (`canonical.rs`: object keys sorted bytewise at every depth,
//! of duplicate keys the last) written straight from the packed bytes, with
//! no [`Json`](crate::json::Json) model in between. The same bytes as
//! `write_canonical` of the unpacked model, so the same hash (the tests below
//! compare the two).

use crate::json::encode::{write_float, write_int, write_json_string, MAX_NESTING};
use crate::json::hash::sha256_hex;
use crate::json::packed::{self, Reader};

/// The `value_hash` of the packed value `bytes` (its first node); `None` for
/// bytes [`packed::pack`] did not write or a value `value_hash` refuses
/// (NaN/Infinity, nesting deeper than [`MAX_NESTING`], a malformed BigInt).
pub fn packed_value_hash(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 2 + 16);
    write_canonical_packed(bytes, &mut out)?;
    Some(sha256_hex(&out))
}

/// Appends the canonical JSON of the packed value `bytes` to `out`; on `None`
/// `out` holds a partial text the caller drops.
pub fn write_canonical_packed(bytes: &[u8], out: &mut Vec<u8>) -> Option<()> {
    node(&mut Reader::new(bytes), out, 0)
}

/// `depth` is the depth of the container enclosing the node (0 at the top).
fn node(r: &mut Reader<'_>, out: &mut Vec<u8>, depth: usize) -> Option<()> {
    match r.tag()? {
        packed::NULL => out.extend_from_slice(b"null"),
        packed::TRUE => out.extend_from_slice(b"true"),
        packed::FALSE => out.extend_from_slice(b"false"),
        packed::INT => write_int(r.int()?, out),
        packed::BIG_INT => {
            let text = r.text()?;
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            out.extend_from_slice(text.as_bytes());
        }
        packed::FLOAT => write_float(r.float()?, out).ok()?,
        packed::STR | packed::SYM => write_json_string(r.text()?, out),
        packed::ARRAY => {
            let depth = enter(depth)?;
            out.push(b'[');
            for i in 0..r.varint()? {
                if i > 0 {
                    out.push(b',');
                }
                node(r, out, depth)?;
            }
            out.push(b']');
        }
        packed::OBJECT => {
            let depth = enter(depth)?;
            let n = usize::try_from(r.varint()?).ok()?;
            // Each member's name and its value's bytes, then sorted by name:
            // stable, so of equal names the last inserted ends each run.
            let mut members: Vec<(&str, &[u8])> = Vec::with_capacity(n.min(r.rest().len()));
            for _ in 0..n {
                let name = r.text()?;
                let rest = r.rest();
                r.skip()?;
                members.push((name, &rest[..rest.len() - r.rest().len()]));
            }
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            let mut first = true;
            for (i, (name, value)) in members.iter().enumerate() {
                if members.get(i + 1).is_some_and(|next| next.0 == *name) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_json_string(name, out);
                out.push(b':');
                node(&mut Reader::new(value), out, depth)?;
            }
            out.push(b'}');
        }
        _ => return None,
    }
    Some(())
}

/// The depth of a container entered from `parent`, `None` beyond the limit.
fn enter(parent: usize) -> Option<usize> {
    let depth = parent + 1;
    (depth <= MAX_NESTING).then_some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::canonical::write_canonical;
    use crate::json::Json;

    fn same_as_model(v: &Json) {
        let mut bytes = Vec::new();
        packed::pack(v, &mut bytes);
        let mut model = Vec::new();
        let from_model = write_canonical(v, &mut model).ok();
        let mut direct = Vec::new();
        let from_packed = write_canonical_packed(&bytes, &mut direct);
        assert_eq!(from_model.is_some(), from_packed.is_some(), "{v:?}");
        if from_model.is_some() {
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&model)
            );
            assert_eq!(
                packed_value_hash(&bytes),
                crate::json::hash::value_hash(v).ok()
            );
        }
    }

    fn obj(members: &[(&str, Json)]) -> Json {
        Json::Object(
            members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn writes_what_the_model_writes() {
        let nested = obj(&[
            ("y", Json::Str("y\n\"1\"".into())),
            ("x", Json::Int(-2)),
            ("é", Json::Sym("open".into())),
        ]);
        for v in [
            Json::Null,
            Json::Bool(true),
            Json::Int(i64::MIN),
            Json::BigInt("-123456789012345678901234567890".into()),
            Json::Float(-0.0),
            Json::Float(1e300),
            Json::Float(0.1),
            Json::Str("\u{1}\u{2028}/".into()),
            Json::Array(vec![]),
            obj(&[]),
            obj(&[
                ("title", Json::Str("task 1".into())),
                ("n", Json::Int(1)),
                (
                    "tags",
                    Json::Array(vec![Json::Str("a".into()), nested.clone()]),
                ),
                ("nested", nested),
            ]),
            // Repeated names: the last one wins, wherever it stands.
            obj(&[
                ("b", Json::Int(1)),
                ("a", Json::Int(2)),
                ("b", Json::Int(3)),
                ("a", Json::Int(4)),
                ("c", Json::Int(5)),
            ]),
        ] {
            same_as_model(&v);
        }
    }

    #[test]
    fn refuses_what_the_model_refuses() {
        same_as_model(&Json::Float(f64::NAN));
        same_as_model(&Json::Array(vec![Json::Float(f64::INFINITY)]));
        same_as_model(&Json::BigInt("12a".into()));
        let mut deep = Json::Null;
        for _ in 0..MAX_NESTING {
            deep = Json::Array(vec![deep]);
        }
        same_as_model(&deep);
        same_as_model(&Json::Array(vec![deep]));
        assert_eq!(packed_value_hash(&[packed::STR, 9]), None);
    }
}
