//! The frame body of a fact (doc/format.md "WAL"): its members in a fixed
//! order, then the paths of its Symbols (and then without its null optional
//! members). The reverse is `decode.rs`.

use crate::error::{Error, Result};
use crate::fact::FactRecord;
use crate::json::encode::{guarded, write_float, write_json, write_json_string, MAX_NESTING};
use crate::json::packed_json::{write_json_packed, write_symbol_path, Seg};
use crate::json::Json;

/// Where a body's `value` comes from: the record's model, or the packed bytes a
/// native fact holds (`json::packed`), written without unpacking them.
#[derive(Clone, Copy)]
pub enum BodyValue<'a> {
    /// `rec.value`.
    Model,
    /// These packed bytes; `rec.value` is not read.
    Packed(&'a [u8]),
    /// The value's text and its Symbol paths, written already by
    /// `json::packed_json::write_json_packed_hashed` (which computed the
    /// `value_hash` from the same walk); `rec.value` is not read.
    Written { json: &'a [u8], paths: &'a [u8] },
}

/// Appends the body JSON of `rec`: the eleven members in format.md order, no whitespace,
/// then `"symbols":[…]` only if a Symbol stands as a value in value/producer/derivation
/// (so Symbol-free bodies are byte-identical to 0.5.2's). A body with `symbols` leaves
/// out `causation`, `valid_time`, `producer` and `derivation` when they are null
/// (doc/format.md "Symbol extension"). Fails on NaN/Infinity (also in the times) and on
/// nesting; `out` is left as it was on failure.
pub fn encode_fact_body(rec: &FactRecord, out: &mut Vec<u8>) -> Result<()> {
    encode_fact_body_with(rec, BodyValue::Model, out)
}

/// [`encode_fact_body`] with the value taken from `value`: the same bytes for the
/// same value, whichever form holds it.
pub fn encode_fact_body_with(
    rec: &FactRecord,
    value: BodyValue<'_>,
    out: &mut Vec<u8>,
) -> Result<()> {
    guarded(out, |out| {
        let mut paths = Vec::new();
        out.extend_from_slice(b"{\"id\":");
        write_json_string(&rec.id, out);
        out.extend_from_slice(b",\"store\":");
        write_json_string(&rec.store, out);
        out.extend_from_slice(b",\"key\":");
        write_json_string(&rec.key, out);
        out.extend_from_slice(b",\"value\":");
        match value {
            BodyValue::Model => {
                write_json(&rec.value, out)?;
                collect_symbol_paths(&rec.value, "value", &mut Vec::new(), 0, &mut paths);
            }
            BodyValue::Packed(bytes) => write_json_packed(bytes, "value", out, &mut paths)?,
            BodyValue::Written {
                json,
                paths: written,
            } => {
                out.extend_from_slice(json);
                paths.extend_from_slice(written);
            }
        }
        // The producer's and derivation's paths are known before their members are
        // written, so whether the body has `symbols` (and drops its null members) is
        // known before `causation`. They follow the value's paths in the member.
        let mut tail = Vec::new();
        let mut stack = Vec::new();
        for (field, v) in [("producer", &rec.producer), ("derivation", &rec.derivation)] {
            collect_symbol_paths(v, field, &mut stack, 0, &mut tail);
        }
        let symbols = !paths.is_empty() || !tail.is_empty();
        out.extend_from_slice(b",\"value_hash\":");
        write_opt_str(rec.value_hash.as_deref(), out);
        if !(symbols && rec.causation.is_none()) {
            out.extend_from_slice(b",\"causation\":");
            write_opt_str(rec.causation.as_deref(), out);
        }
        out.extend_from_slice(b",\"transaction_time\":");
        write_float(rec.transaction_time, out)?;
        match rec.valid_time {
            Some(t) => {
                out.extend_from_slice(b",\"valid_time\":");
                write_float(t, out)?;
            }
            None if !symbols => out.extend_from_slice(b",\"valid_time\":null"),
            None => {}
        }
        out.extend_from_slice(b",\"schema_version\":");
        match &rec.schema_version {
            v @ (Json::Int(_) | Json::BigInt(_)) => write_json(v, out)?,
            _ => {
                return Err(Error::InvalidRecord(
                    "schema_version is not an integer".into(),
                ))
            }
        }
        for (name, v) in [
            (&b",\"producer\":"[..], &rec.producer),
            (&b",\"derivation\":"[..], &rec.derivation),
        ] {
            if !(symbols && matches!(v, Json::Null)) {
                out.extend_from_slice(name);
                write_json(v, out)?;
            }
        }

        if symbols {
            out.extend_from_slice(b",\"symbols\":[");
            out.extend_from_slice(&paths);
            if !paths.is_empty() && !tail.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(&tail);
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

/// Depth-first, document order: appends `["field",seg,…]` for every `Sym` under `v`,
/// comma-separated, to `paths`. The depth guard keeps the recursion bounded: the
/// producer and derivation are walked before they are encoded, and their encoding
/// refuses what nests deeper than MAX_NESTING.
fn collect_symbol_paths<'a>(
    v: &'a Json,
    field: &str,
    stack: &mut Vec<Seg<'a>>,
    depth: usize,
    paths: &mut Vec<u8>,
) {
    match v {
        Json::Sym(_) => write_symbol_path(field, stack, paths),
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
