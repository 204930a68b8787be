//! The checked-in decode table (spec/fixtures/decode_cases.json), fed to the Rust half
//! of the decode rules. The Ruby half reads the same table in
//! spec/igniter/store/parity/decode_cases_spec.rb, so the two cannot drift.

use std::path::Path;

use ledger_core::fact::decode::rejection_reason;
use ledger_core::{decode_fact_body, parse, write_ruby_float, FactRecord, Json};

fn table() -> Vec<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/fixtures/decode_cases.json");
    let text = std::fs::read(&path).expect("decode table present");
    match parse(&text).expect("decode table is JSON").get("cases") {
        Some(Json::Array(cases)) => cases.clone(),
        other => panic!("no cases in the decode table: {other:?}"),
    }
}

fn obj(pairs: Vec<(&str, Json)>) -> Json {
    Json::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn text(s: &str) -> Json {
    Json::Str(s.to_string())
}

/// The tagged form of spec/support/differential/transcript.rb, for a decoded model.
fn typed(v: &Json) -> Json {
    match v {
        Json::Null | Json::Bool(_) => v.clone(),
        Json::Int(i) => obj(vec![("int", text(&i.to_string()))]),
        Json::BigInt(t) => obj(vec![("int", text(t))]),
        Json::Float(f) => {
            let mut out = Vec::new();
            write_ruby_float(*f, &mut out);
            obj(vec![(
                "float",
                text(&String::from_utf8(out).expect("ASCII")),
            )])
        }
        Json::Str(s) => obj(vec![("str", text(s))]),
        Json::Sym(s) => obj(vec![("sym", text(s))]),
        Json::Array(items) => obj(vec![(
            "array",
            Json::Array(items.iter().map(typed).collect()),
        )]),
        Json::Object(members) => {
            let pairs = members
                .iter()
                .map(|(k, v)| Json::Array(vec![obj(vec![("sym", text(k))]), typed(v)]))
                .collect();
            obj(vec![("hash", Json::Array(pairs))])
        }
    }
}

/// The table's shorthand `{"nested_arrays": N}` for N empty Arrays nested in each other.
fn expand(want: &Json) -> Json {
    match want.get("nested_arrays") {
        Some(Json::Int(n)) => (1..*n)
            .fold(obj(vec![("array", Json::Array(vec![]))]), |inner, _| {
                obj(vec![("array", Json::Array(vec![inner]))])
            }),
        _ => want.clone(),
    }
}

fn opt_text(s: &Option<String>) -> Json {
    s.as_deref().map_or(Json::Null, text)
}

fn is_uuid_v4(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => *c == b'4',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

fn check_member(name: &str, rec: &FactRecord, want: &Json) -> Result<(), String> {
    let got = match name {
        "id" if *want == text("generated") => {
            return if is_uuid_v4(&rec.id) {
                Ok(())
            } else {
                Err(format!("id {:?} is no UUID v4", rec.id))
            };
        }
        "id" => text(&rec.id),
        "store" => text(&rec.store),
        "key" => text(&rec.key),
        "value_hash" => opt_text(&rec.value_hash),
        "causation" => opt_text(&rec.causation),
        "value" => typed(&rec.value),
        "transaction_time" => typed(&Json::Float(rec.transaction_time)),
        "valid_time" => rec
            .valid_time
            .map_or(Json::Null, |t| typed(&Json::Float(t))),
        "schema_version" => typed(&rec.schema_version),
        "producer" => typed(&rec.producer),
        "derivation" => typed(&rec.derivation),
        other => return Err(format!("unknown member {other}")),
    };
    if got == expand(want) {
        Ok(())
    } else {
        Err(format!("member {name}: got {got:?}, want {want:?}"))
    }
}

fn body_of(case: &Json) -> Vec<u8> {
    if let Some(Json::Str(hex)) = case.get("body_hex") {
        return (0..hex.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(hex.get(i..i + 2).expect("even hex"), 16).expect("hex digits")
            })
            .collect();
    }
    match case.get("body") {
        Some(Json::Str(body)) => body.clone().into_bytes(),
        other => panic!("case without a body: {other:?}"),
    }
}

/// Every case decodes to its members, or is refused with its reason, in Ruby's words.
#[test]
fn every_case_of_the_decode_table_holds() {
    let cases = table();
    assert!(cases.len() > 50, "the table lost its cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = match case.get("name") {
            Some(Json::Str(n)) => n.clone(),
            _ => "?".to_string(),
        };
        let decoded = decode_fact_body(&body_of(case));
        match (case.get("decoded"), case.get("error"), decoded) {
            (Some(Json::Object(want)), None, Ok(rec)) => {
                for (member, value) in want {
                    if let Err(e) = check_member(member, &rec, value) {
                        failures.push(format!("{name}: {e}"));
                    }
                }
            }
            (None, Some(Json::Str(reason)), Err(e)) if rejection_reason(&e) == *reason => {}
            (_, want_error, got) => {
                failures.push(format!("{name}: want error {want_error:?}, got {got:?}"))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The replay route into the in-memory log's records (decode_packed_body, then
/// CompactFacts::push_packed) gives, for every case it takes, the record the
/// general route (decode_fact_body, then CompactFacts::push) gives; a case it does
/// not take is one the general route decodes too or skips.
#[test]
fn the_packed_route_gives_the_same_records() {
    use ledger_core::fact::compact::CompactFacts;
    use ledger_core::fact::decode_packed_body;
    let mut taken = 0;
    for case in table() {
        let body = body_of(&case);
        let Some(packed) = decode_packed_body(&body) else {
            continue;
        };
        taken += 1;
        let general =
            decode_fact_body(&body).expect("the packed route only takes decodable bodies");
        let (mut a, mut b) = (CompactFacts::default(), CompactFacts::default());
        a.push(&general);
        b.push_packed(&packed);
        let (mut ra, mut rb) = (
            a.view(0).unwrap().to_record(),
            b.view(0).unwrap().to_record(),
        );
        // A body without an id gets a fresh one on each route.
        if case
            .get("body")
            .is_some_and(|b| !matches!(b, Json::Str(s) if s.contains("\"id\":\"")))
        {
            ra.id.clear();
            rb.id.clear();
        }
        assert_eq!(ra, rb, "{:?}", case.get("name"));
    }
    assert!(taken > 10, "the packed route took only {taken} cases");
}

/// The allocation-free replay route (decode_fast_body, then
/// CompactFacts::push_fast) gives, for every case it takes, the record the
/// general route gives; every case it leaves is one of the other routes' (it
/// never takes a body the general route skips), and it never panics.
#[test]
fn the_fast_route_gives_the_same_records() {
    use ledger_core::fact::compact::CompactFacts;
    use ledger_core::fact::decode_fast_body;
    let mut taken = 0;
    // Most cases have no id (a fresh one is drawn, which the fast route leaves to
    // the others), so each is also tried with one.
    let bodies = table().into_iter().flat_map(|case| {
        let body = body_of(&case);
        let with_id = (body.first() == Some(&b'{') && body.len() > 2)
            .then(|| [&b"{\"id\":\"i-1\","[..], &body[1..]].concat());
        std::iter::once((case.clone(), body)).chain(with_id.map(|b| (case, b)))
    });
    for (case, body) in bodies {
        let mut data = vec![0xEE];
        let Some(fast) = decode_fast_body(&body, &mut data) else {
            assert_eq!(data, [0xEE], "{:?}: buffer left changed", case.get("name"));
            continue;
        };
        taken += 1;
        let general = decode_fact_body(&body).expect("the fast route only takes decodable bodies");
        let (mut a, mut b) = (CompactFacts::default(), CompactFacts::default());
        a.push(&general);
        b.push_fast(&fast, &data);
        assert_eq!(
            a.view(0).unwrap().to_record(),
            b.view(0).unwrap().to_record(),
            "{:?}",
            case.get("name")
        );
    }
    assert!(taken > 15, "the fast route took only {taken} cases");
}
