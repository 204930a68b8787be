//! One fact as stored in a WAL or snapshot frame body (format.md "WAL", "Decoding").

use crate::encode::{guarded, write_float, write_json, write_json_string, MAX_NESTING};
use crate::error::{Error, Result};
use crate::json::Json;
use crate::parse::parse;

/// The persisted members of a fact, in body order. `producer`/`derivation` use
/// `Json::Null` for nil.
#[derive(Debug, Clone, PartialEq)]
pub struct FactRecord {
    pub id: String,
    pub store: String,
    pub key: String,
    pub value: Json,
    pub value_hash: Option<String>,
    pub causation: Option<String>,
    pub transaction_time: f64,
    pub valid_time: Option<f64>,
    pub schema_version: i64,
    pub producer: Json,
    pub derivation: Json,
}

/// A fresh random id: UUID v4, lowercase, hyphenated (Ruby `SecureRandom.uuid` shape).
pub fn new_uuid() -> String {
    // encode_lower writes the 36 bytes directly; `to_string` would go through the
    // formatting machinery on every write.
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    String::from(&*uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf))
}

/// Appends the body JSON of `rec`: the eleven members in format.md order, no whitespace,
/// then `"symbols":[…]` only if a Symbol stands as a value in value/producer/derivation
/// (so Symbol-free bodies are byte-identical to 0.5.2's). Fails on NaN/Infinity (also in
/// the times) and on nesting; `out` is left as it was on failure.
pub fn encode_fact_body(rec: &FactRecord, out: &mut Vec<u8>) -> Result<()> {
    guarded(out, |out| {
        out.extend_from_slice(b"{\"id\":");
        write_json_string(&rec.id, out);
        out.extend_from_slice(b",\"store\":");
        write_json_string(&rec.store, out);
        out.extend_from_slice(b",\"key\":");
        write_json_string(&rec.key, out);
        out.extend_from_slice(b",\"value\":");
        write_json(&rec.value, out)?;
        out.extend_from_slice(b",\"value_hash\":");
        write_opt_str(rec.value_hash.as_deref(), out);
        out.extend_from_slice(b",\"causation\":");
        write_opt_str(rec.causation.as_deref(), out);
        out.extend_from_slice(b",\"transaction_time\":");
        write_float(rec.transaction_time, out)?;
        out.extend_from_slice(b",\"valid_time\":");
        match rec.valid_time {
            Some(t) => write_float(t, out)?,
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"schema_version\":");
        let _ = std::io::Write::write_fmt(out, format_args!("{}", rec.schema_version));
        out.extend_from_slice(b",\"producer\":");
        write_json(&rec.producer, out)?;
        out.extend_from_slice(b",\"derivation\":");
        write_json(&rec.derivation, out)?;

        let mut paths = Vec::new();
        let mut stack = Vec::new();
        for (field, v) in [
            ("value", &rec.value),
            ("producer", &rec.producer),
            ("derivation", &rec.derivation),
        ] {
            collect_symbol_paths(v, field, &mut stack, 0, &mut paths);
        }
        if !paths.is_empty() {
            out.extend_from_slice(b",\"symbols\":[");
            out.extend_from_slice(&paths);
            out.push(b']');
        }
        out.push(b'}');
        Ok(())
    })
}

fn write_opt_str(s: Option<&str>, out: &mut Vec<u8>) {
    match s {
        Some(s) => write_json_string(s, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// One step of a Symbol path: an object key or an array index.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Depth-first, document order: appends `["field",seg,…]` for every `Sym` under `v`,
/// comma-separated, to `paths`. The fields were already encoded, so nesting is within
/// MAX_NESTING; the depth guard only keeps the recursion bounded regardless.
fn collect_symbol_paths<'a>(
    v: &'a Json,
    field: &str,
    stack: &mut Vec<Seg<'a>>,
    depth: usize,
    paths: &mut Vec<u8>,
) {
    match v {
        Json::Sym(_) => {
            if !paths.is_empty() {
                paths.push(b',');
            }
            paths.push(b'[');
            write_json_string(field, paths);
            for seg in stack.iter() {
                paths.push(b',');
                match seg {
                    Seg::Key(k) => write_json_string(k, paths),
                    Seg::Index(i) => {
                        let _ = std::io::Write::write_fmt(paths, format_args!("{i}"));
                    }
                }
            }
            paths.push(b']');
        }
        Json::Array(items) if depth < MAX_NESTING => {
            for (i, item) in items.iter().enumerate() {
                stack.push(Seg::Index(i));
                collect_symbol_paths(item, field, stack, depth + 1, paths);
                stack.pop();
            }
        }
        Json::Object(members) if depth < MAX_NESTING => {
            for (k, item) in members {
                stack.push(Seg::Key(k));
                collect_symbol_paths(item, field, stack, depth + 1, paths);
                stack.pop();
            }
        }
        _ => {}
    }
}

fn invalid(msg: &str) -> Error {
    Error::InvalidRecord(msg.to_string())
}

/// A JSON number as f64 (Ruby `to_f`); `None` for non-numbers or out-of-range BigInts.
fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Int(i) => Some(*i as f64),
        Json::BigInt(t) => t.parse::<f64>().ok().filter(|f| f.is_finite()),
        Json::Float(f) => Some(*f),
        _ => None,
    }
}

/// Absent and `null` both mean "not given" (Ruby `hash[:x] || fallback`).
fn given(v: Option<Json>) -> Option<Json> {
    v.filter(|v| *v != Json::Null)
}

/// Decodes a fact body by the format.md rules; any broken rule is an
/// `Error::InvalidRecord` (or `Parse`/`Nesting` for bad JSON) so the reader can skip it.
pub fn decode_fact_body(body: &[u8]) -> Result<FactRecord> {
    let Json::Object(members) = parse(body)? else {
        return Err(invalid("top level is not an object"));
    };
    // Move each member into its slot; a repeated key overwrites, so the last one wins
    // as in a Ruby Hash. Unknown members are dropped.
    let mut id = None;
    let mut store = None;
    let mut key = None;
    let mut value = None;
    let mut value_hash = None;
    let mut causation = None;
    let mut transaction_time = None;
    let mut timestamp = None;
    let mut valid_time = None;
    let mut term = None;
    let mut schema_version = None;
    let mut producer = None;
    let mut derivation = None;
    let mut symbols = None;
    for (k, v) in members {
        let slot = match k.as_str() {
            "id" => &mut id,
            "store" => &mut store,
            "key" => &mut key,
            "value" => &mut value,
            "value_hash" => &mut value_hash,
            "causation" => &mut causation,
            "transaction_time" => &mut transaction_time,
            "timestamp" => &mut timestamp,
            "valid_time" => &mut valid_time,
            "term" => &mut term,
            "schema_version" => &mut schema_version,
            "producer" => &mut producer,
            "derivation" => &mut derivation,
            "symbols" => &mut symbols,
            _ => continue,
        };
        *slot = Some(v);
    }

    let id = match given(id) {
        None => new_uuid(),
        Some(Json::Str(s)) => s,
        Some(_) => return Err(invalid("id is not a string")),
    };
    let store = match store {
        Some(Json::Str(s)) => s,
        Some(_) => return Err(invalid("store is not a string")),
        None => return Err(invalid("store is missing")),
    };
    let key = match key {
        Some(Json::Str(s)) => s,
        Some(Json::Int(i)) => i.to_string(),
        Some(Json::BigInt(t)) => t,
        Some(_) => return Err(invalid("key is not a string or integer")),
        None => return Err(invalid("key is missing")),
    };
    let opt_string = |v: Option<Json>, what: &str| match given(v) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::InvalidRecord(format!("{what} is not a string"))),
    };
    let value_hash = opt_string(value_hash, "value_hash")?;
    let causation = opt_string(causation, "causation")?;
    let transaction_time = match given(transaction_time).or_else(|| given(timestamp)) {
        None => 0.0,
        Some(v) => number(&v).ok_or_else(|| invalid("transaction_time is not a number"))?,
    };
    let valid_time = match given(valid_time).or_else(|| given(term)) {
        None => None,
        Some(v) => Some(number(&v).ok_or_else(|| invalid("valid_time is not a number"))?),
    };
    let schema_version = match given(schema_version) {
        None => 1,
        Some(Json::Int(i)) => i,
        Some(_) => return Err(invalid("schema_version is not an integer")),
    };

    let mut rec = FactRecord {
        id,
        store,
        key,
        value: value.unwrap_or(Json::Null),
        value_hash,
        causation,
        transaction_time,
        valid_time,
        schema_version,
        producer: producer.unwrap_or(Json::Null),
        derivation: derivation.unwrap_or(Json::Null),
    };
    if let Some(Json::Array(paths)) = symbols {
        for path in &paths {
            restore_symbol(&mut rec, path);
        }
    }
    Ok(rec)
}

/// Turns the string at `path` back into a Symbol; a malformed path or one that does not
/// lead to a string is ignored (format.md).
fn restore_symbol(rec: &mut FactRecord, path: &Json) {
    let Json::Array(segs) = path else { return };
    let Some((Json::Str(field), rest)) = segs.split_first() else {
        return;
    };
    let root = match field.as_str() {
        "value" => &mut rec.value,
        "producer" => &mut rec.producer,
        "derivation" => &mut rec.derivation,
        _ => return,
    };
    restore_symbol_at(root, rest);
}

/// Applies the `symbols` paths (format.md) that start with `field` to `target`, the
/// decoded value of that field. `Fact.from_h` uses it on hashes that carry the member.
pub fn apply_symbol_paths(field: &str, target: &mut Json, paths: &Json) {
    let Json::Array(paths) = paths else { return };
    for path in paths {
        let Json::Array(segs) = path else { continue };
        if let Some((Json::Str(head), rest)) = segs.split_first() {
            if head == field {
                restore_symbol_at(target, rest);
            }
        }
    }
}

fn restore_symbol_at(mut node: &mut Json, rest: &[Json]) {
    for seg in rest {
        let next = match (node, seg) {
            (obj @ Json::Object(_), Json::Str(k)) => obj.get_mut(k),
            (Json::Array(items), Json::Int(i)) => {
                usize::try_from(*i).ok().and_then(|i| items.get_mut(i))
            }
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Json::Str(s) = node {
        let name = std::mem::take(s);
        *node = Json::Sym(name);
    }
}

#[cfg(test)]
mod tests {
    /// Ids keep Ruby's `SecureRandom.uuid` shape: 36 lowercase hex digits and hyphens, v4.
    #[test]
    fn new_uuid_is_lowercase_hyphenated_v4() {
        let id = super::new_uuid();
        assert_eq!(id.len(), 36);
        for (i, c) in id.char_indices() {
            if [8, 13, 18, 23].contains(&i) {
                assert_eq!(c, '-');
            } else {
                assert!(c.is_ascii_digit() || ('a'..='f').contains(&c), "{id}");
            }
        }
        assert_eq!(&id[14..15], "4");
        assert_ne!(super::new_uuid(), id);
    }
}
