//! The replay's first route (doc/performance.md "Replay"): a fact body decoded
//! with no allocation of its own — ids, store, key and hashes borrowed from the
//! frame bytes, the data members packed into a buffer shared by many bodies, the
//! `symbols` paths applied to the packed bytes in place. It takes only bodies it
//! decodes to exactly the record [`crate::fact::decode_fact_body`] gives; for any
//! other it answers `None` and the caller takes the older routes
//! ([`crate::fact::decode_packed_body`], then `decode_fact_body`), which apply or
//! report every rule of doc/format.md "Decoding a fact body".

use std::ops::Range;

use crate::fact::compact::IdBytes;
use crate::fact::decode::BODY_NESTING;
use crate::json::packed::{self, Reader};
use crate::json::parse::{for_each_symbol_path, scan_fact_fields, Scalar, Step};

/// A fact decoded by [`decode_fast_body`]: text members borrowed from the body,
/// data members as ranges of the caller's buffer, the optional ones `None` when
/// they are nil (absent, null or false).
#[derive(Debug, Clone, PartialEq)]
pub struct FastRecord<'a> {
    pub id: &'a str,
    pub store: &'a str,
    pub key: &'a str,
    pub value_hash: Option<&'a str>,
    pub causation: Option<&'a str>,
    pub transaction_time: f64,
    pub valid_time: Option<f64>,
    pub schema_version: i64,
    pub value: Range<usize>,
    pub producer: Option<Range<usize>>,
    pub derivation: Option<Range<usize>>,
    /// The id, causation and value hash as a compact record stores them, parsed
    /// here on the decode threads rather than under the log's lock.
    pub bytes: IdBytes,
}

/// Decodes `body`, packing its data members onto the end of `out`. `None` (with
/// `out` as it was) when the body is not one this route decodes exactly.
pub fn decode_fast_body<'a>(body: &'a [u8], out: &mut Vec<u8>) -> Option<FastRecord<'a>> {
    let mark = out.len();
    let rec = decode_into(body, out);
    if rec.is_none() {
        out.truncate(mark);
    }
    rec
}

fn decode_into<'a>(body: &'a [u8], out: &mut Vec<u8>) -> Option<FastRecord<'a>> {
    let f = scan_fact_fields(body, BODY_NESTING, out)?;
    // The rules of decode_fact_body; a body that breaks one goes there to be
    // reported, so each arm only needs to take the good case.
    let value = match f.value {
        Some(range) => range,
        None => {
            out.push(packed::NULL);
            out.len() - 1..out.len()
        }
    };
    // An absent or null id is a fresh UUID there.
    let id = text(f.id)?;
    let value_hash = optional_text(f.value_hash)?;
    let causation = optional_text(f.causation)?;
    let rec = FastRecord {
        id,
        store: text(f.store)?,
        key: text(f.key)?,
        value_hash,
        causation,
        transaction_time: time(f.transaction_time, f.timestamp)?.unwrap_or(0.0),
        valid_time: time(f.valid_time, f.term)?,
        schema_version: match f.schema_version {
            Scalar::Absent | Scalar::Null => 1,
            Scalar::Int(i) => i,
            _ => return None,
        },
        value,
        producer: data(f.producer, out),
        derivation: data(f.derivation, out),
        // Read in the scan: a String there that is not the canonical spelling
        // has no bytes, so this is `IdBytes::of(id, causation, value_hash)`.
        bytes: f.bytes,
    };
    if let Some(symbols) = f.symbols.filter(|_| !f.symbols_marked) {
        let mut ok = true;
        let ranges = [
            Some(&rec.value),
            rec.producer.as_ref(),
            rec.derivation.as_ref(),
        ];
        for_each_symbol_path(symbols, |field, steps| {
            ok &= mark_symbol_in(out, ranges, field, steps);
        })?;
        if !ok {
            return None;
        }
    }
    Some(rec)
}

fn text(v: Scalar<'_>) -> Option<&str> {
    match v {
        Scalar::Str(s) => Some(s),
        _ => None,
    }
}

fn optional_text(v: Scalar<'_>) -> Option<Option<&str>> {
    match v {
        Scalar::Absent | Scalar::Null => Some(None),
        Scalar::Str(s) => Some(Some(s)),
        _ => None,
    }
}

/// A time member, else its legacy name: a number, or none when neither is given
/// (absent or null). `None` for anything else.
fn time(v: Scalar<'_>, legacy: Scalar<'_>) -> Option<Option<f64>> {
    let given = |s: &Scalar<'_>| !matches!(s, Scalar::Absent | Scalar::Null);
    let chosen = if given(&v) { v } else { legacy };
    match chosen {
        Scalar::Absent | Scalar::Null => Some(None),
        Scalar::Int(i) => Some(Some(i as f64)),
        Scalar::Float(f) => Some(Some(f)),
        _ => None,
    }
}

/// A producer or derivation: nil when absent, null or false (as at `Fact.build`).
fn data(range: Option<Range<usize>>, out: &[u8]) -> Option<Range<usize>> {
    range.filter(|r| !matches!(out[r.start], packed::NULL | packed::FALSE))
}

/// Marks one `symbols` path of the data member `field` names, packed in `out`
/// at its range of `ranges` (value, producer, derivation; a member without a
/// range, or a field no data member has, is left alone). False only for bytes
/// that are not packed data (see [`mark_symbol`]).
pub(crate) fn mark_symbol_in<'a>(
    out: &mut [u8],
    ranges: [Option<&Range<usize>>; 3],
    field: &str,
    steps: &mut dyn Iterator<Item = Step<'a>>,
) -> bool {
    let range = match field {
        "value" => ranges[0],
        "producer" => ranges[1],
        "derivation" => ranges[2],
        _ => None,
    };
    range.is_none_or(|r| mark_symbol(&mut out[r.clone()], steps).is_some())
}

/// Follows one `symbols` path from the root of the packed data `bytes`; where it
/// ends at a String, that String becomes a Symbol. A path that leads nowhere is
/// ignored, as `SymbolTrie` ignores it. `None` only for bytes that are not packed
/// data (which this route wrote itself, so never in practice).
pub(crate) fn mark_symbol<'a>(
    bytes: &mut [u8],
    steps: &mut dyn Iterator<Item = Step<'a>>,
) -> Option<()> {
    let mut at = 0;
    for step in steps {
        let tag = *bytes.get(at)?;
        if !matches!(
            (tag, step),
            (packed::OBJECT, Step::Name(_)) | (packed::ARRAY, Step::Index(_))
        ) {
            // Leads nowhere: the rest of the path is read by the caller.
            return Some(());
        }
        let mut r = Reader::new(bytes.get(at + 1..)?);
        let n = r.varint()?;
        let mut pos = bytes.len() - r.rest().len();
        let target = match (tag, step) {
            (packed::OBJECT, Step::Name(name)) => {
                let mut found = None;
                for _ in 0..n {
                    let mut r = Reader::new(bytes.get(pos..)?);
                    // Bytes, not text: only equality with `name` matters, and
                    // this route wrote them from validated text itself.
                    let member = r.text_bytes()?;
                    let value_at = bytes.len() - r.rest().len();
                    if member == name.as_bytes() {
                        found = Some(value_at);
                        break;
                    }
                    pos = packed::node_end(bytes, value_at)?;
                }
                found
            }
            (packed::ARRAY, Step::Index(i)) if (i as u64) < n => {
                for _ in 0..i {
                    pos = packed::node_end(bytes, pos)?;
                }
                Some(pos)
            }
            _ => None,
        };
        match target {
            Some(next) => at = next,
            // Leads nowhere: the rest of the path is read by the caller.
            None => return Some(()),
        }
    }
    if bytes.get(at) == Some(&packed::STR) {
        bytes[at] = packed::SYM;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact::decode_fact_body;
    use crate::json::Json;

    /// The record `decode_fact_body` gives, from the fast route's output.
    fn same_as_general(body: &[u8]) -> bool {
        let mut out = vec![0xAA];
        let fast = decode_fast_body(body, &mut out).expect("fast route takes it");
        let general = decode_fact_body(body).expect("a fact");
        let unpack = |r: &Range<usize>| packed::unpack(&out[r.clone()]).unwrap();
        let or_null = |r: &Option<Range<usize>>| r.as_ref().map(unpack).unwrap_or(Json::Null);
        fast.id == general.id
            && fast.store == general.store
            && fast.key == general.key
            && fast.value_hash == general.value_hash.as_deref()
            && fast.causation == general.causation.as_deref()
            && fast.transaction_time.to_bits() == general.transaction_time.to_bits()
            && fast.valid_time.map(f64::to_bits) == general.valid_time.map(f64::to_bits)
            && Json::Int(fast.schema_version) == general.schema_version
            && unpack(&fast.value) == general.value
            && or_null(&fast.producer) == general.producer
            && or_null(&fast.derivation) == general.derivation
            && fast.bytes
                == IdBytes::of(
                    &general.id,
                    general.causation.as_deref(),
                    general.value_hash.as_deref(),
                )
    }

    #[test]
    fn a_written_body_decodes_as_the_general_route_decodes_it() {
        for body in [
            &br#"{"id":"11dfe066-cc0a-4b4f-8b2b-365e5b7014f7","store":"tasks","key":"k0","value":{"n":0,"title":"task 0","status":"open","tags":["ops","q0","t0"],"nested":{"x":0,"y":0}},"value_hash":"5d62cfb8af96546c5db4860c9ef04c156f6e8e5aecb05a03e77597fb5b28fb2c","causation":null,"transaction_time":1796322113.966544,"valid_time":null,"schema_version":1,"producer":null,"derivation":null,"symbols":[["value","status"]]}"#[..],
            br#"{"id":"x","store":"s","key":"k","value":"top","symbols":[["value"],["value"]]}"#,
            br#"{"id":"x","store":"s","key":"k","timestamp":3,"term":-0.0,"valid_time":null}"#,
            br#"{"id":"x","store":"s","key":"k","transaction_time":-0,"schema_version":7}"#,
            br#"{"id":"x","store":"s","key":"k","value":[["a",{"b":"c"}]],"producer":{"p":"q"},"derivation":false,"symbols":[["value",0,1,"b"],["value",0,0],["value",0,9],["value","n"],["producer","p"],["derivation","x"],["other",1],["value",0,0,"deeper"]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":{"a":"s"},"symbols":[]}"#,
            // Every data member before `symbols`: marked in the scan itself...
            br#"{"id":"x","store":"s","key":"k","value":[["a",{"b":"c"}]],"producer":{"p":"q"},"derivation":null,"symbols":[["value",0,1,"b"],["value",0,0],["value",0,9],["producer","p"],["derivation"],["other",1]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":"v","producer":false,"derivation":"d","symbols":[["value"],["producer"],["derivation"]]}"#,
            // A body with `symbols` leaves out its null optional members
            // (doc/format.md "Symbol extension"): marked in the scan too.
            br#"{"id":"11dfe066-cc0a-4b4f-8b2b-365e5b7014f7","store":"tasks","key":"k0","value":{"n":0,"title":"task 0","status":"open","tags":["ops","q0","t0"],"nested":{"x":0,"y":0}},"value_hash":"5d62cfb8af96546c5db4860c9ef04c156f6e8e5aecb05a03e77597fb5b28fb2c","transaction_time":1796322113.966544,"schema_version":1,"symbols":[["value","status"]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":{"a":"s"},"value_hash":"h","causation":"0a1b2c3d-4e5f-4678-89ab-cdef01234567","transaction_time":1.5,"valid_time":2.5,"schema_version":1,"producer":{"p":"q"},"symbols":[["value","a"],["producer","p"],["derivation"]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":{"a":"s"},"transaction_time":1.5,"derivation":["d"],"symbols":[["derivation",0]]}"#,
            // A data member after `symbols`: marked afterwards, the earlier ones again.
            br#"{"id":"x","store":"s","key":"k","value":{"a":"s"},"symbols":[["value","a"],["producer","p"]],"producer":{"p":"q"}}"#,
            // ...and the same members with `symbols` first, marked afterwards.
            br#"{"symbols":[["value",0,1,"b"],["value",0,0],["producer","p"],["derivation"]],"id":"x","store":"s","key":"k","value":[["a",{"b":"c"}]],"producer":{"p":"q"},"derivation":null}"#,
            br#"{"id":"x","store":"s","key":"k","value":"v","producer":"p","symbols":[["value"],["producer"],["derivation"]],"derivation":"d"}"#,
        ] {
            assert!(same_as_general(body), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn what_it_does_not_take_it_leaves_and_restores_the_buffer() {
        for body in [
            &br#"{"store":"s","key":"k"}"#[..],
            br#"{"id":"x","store":null,"key":"k"}"#,
            br#"{"id":"x","store":"s","key":5}"#,
            br#"{"id":"x","store":"s","key":"k","value_hash":1}"#,
            br#"{"id":"x","store":"s","key":"k","transaction_time":"1"}"#,
            br#"{"id":"x","store":"s","key":"k","valid_time":false}"#,
            br#"{"id":"x","store":"s","key":"k","schema_version":1.0}"#,
            br#"{"id":"x","store":"s","key":"k","value":{"deep":[1,2]},"symbols":[["value","deep",-1]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":{"deep":[1,2]},"producer":null,"derivation":null,"symbols":[["value","deep"],["value",-1]]}"#,
            br#"{"id":"x","store":"s","key":"k","value":[1,2,3"#,
            b"{\"id\":\"x\",\"store\":\"s\",\"key\":\"k\",\"value\":\"\xc3\"}",
            b"\x00\x01\x02",
        ] {
            let mut out = vec![1, 2, 3];
            assert_eq!(decode_fast_body(body, &mut out), None, "{}", String::from_utf8_lossy(body));
            assert_eq!(out, [1, 2, 3]);
        }
    }

    #[test]
    fn a_mutated_body_is_left_alone_or_decoded_as_the_general_route_decodes_it() {
        let body: &[u8] = br#"{"id":"11dfe066-cc0a-4b4f-8b2b-365e5b7014f7","store":"tasks","key":"k0","value":{"n":-12,"title":"task 0","status":"open","tags":["ops","q0"],"nested":{"x":0.5,"y":[null,true]}},"value_hash":"5d62cfb8af96546c5db4860c9ef04c156f6e8e5aecb05a03e77597fb5b28fb2c","causation":null,"transaction_time":1796322113.966544,"valid_time":null,"schema_version":1,"producer":{"by":"x"},"derivation":null,"symbols":[["value","status"],["value","tags",1],["producer","by"]]}"#;
        // A fixed xorshift, so a failure is reproducible.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"{}[]\",:0123456789.-eE+ \\u\x00\x1f\xc3\xa9nultrfasey";
        let (mut taken, mut left) = (0, 0);
        for _ in 0..4000 {
            let mut b = body.to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() % b.len() as u64) as usize;
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 => b[at] = c,
                    1 => b.insert(at, c),
                    _ => {
                        b.remove(at);
                    }
                }
            }
            let mut out = Vec::new();
            if decode_fast_body(&b, &mut out).is_some() {
                taken += 1;
                assert!(same_as_general(&b), "{}", String::from_utf8_lossy(&b));
            } else {
                left += 1;
                assert!(out.is_empty());
            }
        }
        assert!(taken > 100 && left > 100, "taken {taken}, left {left}");
    }

    #[test]
    fn no_prefix_of_a_body_panics() {
        let body = br#"{"id":"x","store":"s","key":"k","value":{"a":[1,"b",{"c":null}]},"producer":true,"symbols":[["value","a",1],["producer"]]}"#;
        for end in 0..=body.len() {
            let mut out = Vec::new();
            let taken = decode_fast_body(&body[..end], &mut out).is_some();
            assert_eq!(taken, end == body.len());
            if taken {
                assert!(same_as_general(&body[..end]));
            }
        }
    }
}
