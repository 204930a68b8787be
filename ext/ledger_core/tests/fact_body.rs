//! Fact bodies (format.md "WAL" and "Decoding a fact body").

mod common;

use ledger_core::{decode_fact_body, encode_fact_body, Error, FactRecord, Json};

fn s(x: &str) -> String {
    x.to_string()
}

fn obj(m: Vec<(&str, Json)>) -> Json {
    Json::Object(m.into_iter().map(|(k, v)| (s(k), v)).collect())
}

fn sample() -> FactRecord {
    FactRecord {
        id: s("a1"),
        store: s("items"),
        key: s("k1"),
        value: obj(vec![
            ("status", Json::Str(s("open"))),
            ("n", Json::Int(1)),
            ("f", Json::Float(2.5)),
            ("big", Json::BigInt(s("1180591620717411303424"))),
            ("t", Json::Str(s("é\n"))),
        ]),
        value_hash: Some(s("abc")),
        causation: None,
        transaction_time: 1795673275.5603545,
        valid_time: Some(3.0),
        schema_version: Json::Int(1),
        producer: Json::Null,
        derivation: obj(vec![
            ("name", Json::Str(s("m"))),
            ("src", Json::Array(vec![])),
        ]),
    }
}

fn encode(rec: &FactRecord) -> String {
    String::from_utf8(common::body(rec)).unwrap()
}

#[test]
fn body_bytes_equal_ruby_json_generate_of_to_h() {
    // Captured from Ruby 3.1: JSON.generate(fact.to_h) for the same members.
    let expected = concat!(
        r#"{"id":"a1","store":"items","key":"k1","value":{"status":"open","n":1,"f":2.5,"#,
        r#""big":1180591620717411303424,"t":"é\n"},"value_hash":"abc","causation":null,"#,
        r#""transaction_time":1795673275.5603545,"valid_time":3.0,"schema_version":1,"#,
        r#""producer":null,"derivation":{"name":"m","src":[]}}"#
    );
    assert_eq!(encode(&sample()), expected);
}

#[test]
fn symbol_values_add_a_symbols_member_with_depth_first_paths() {
    let mut rec = sample();
    rec.value = obj(vec![
        ("status", Json::Sym(s("open"))),
        (
            "tags",
            Json::Array(vec![Json::Str(s("x")), Json::Sym(s("y"))]),
        ),
    ]);
    rec.producer = obj(vec![("system", Json::Sym(s("legacy")))]);
    rec.derivation = Json::Null;
    let body = encode(&rec);
    // With `symbols`, the null derivation is left out (format.md "Symbol extension").
    assert!(body.ends_with(concat!(
        r#""producer":{"system":"legacy"},"#,
        r#""symbols":[["value","status"],["value","tags",1],["producer","system"]]}"#
    )));
    assert_eq!(decode_fact_body(body.as_bytes()).unwrap(), rec);
}

#[test]
fn a_body_with_symbols_leaves_out_its_null_causation_valid_time_producer_derivation() {
    let mut rec = sample();
    rec.value = obj(vec![("status", Json::Sym(s("open")))]);
    rec.valid_time = None;
    rec.derivation = Json::Null;
    assert_eq!(
        encode(&rec),
        concat!(
            r#"{"id":"a1","store":"items","key":"k1","value":{"status":"open"},"#,
            r#""value_hash":"abc","transaction_time":1795673275.5603545,"schema_version":1,"#,
            r#""symbols":[["value","status"]]}"#
        )
    );
    assert_eq!(decode_fact_body(encode(&rec).as_bytes()).unwrap(), rec);

    // Set members stay, in their places; only a Symbol in the derivation has a path.
    rec.value = obj(vec![("status", Json::Str(s("open")))]);
    rec.causation = Some(s("c1"));
    rec.valid_time = Some(3.0);
    rec.producer = obj(vec![("by", Json::Str(s("x")))]);
    rec.derivation = Json::Sym(s("d"));
    assert_eq!(
        encode(&rec),
        concat!(
            r#"{"id":"a1","store":"items","key":"k1","value":{"status":"open"},"#,
            r#""value_hash":"abc","causation":"c1","transaction_time":1795673275.5603545,"#,
            r#""valid_time":3.0,"schema_version":1,"producer":{"by":"x"},"derivation":"d","#,
            r#""symbols":[["derivation"]]}"#
        )
    );
    assert_eq!(decode_fact_body(encode(&rec).as_bytes()).unwrap(), rec);
}

#[test]
fn a_symbol_as_the_whole_value_has_path_value() {
    let mut rec = sample();
    rec.value = Json::Sym(s("open"));
    let body = encode(&rec);
    assert!(body.contains(r#""value":"open","#));
    assert!(body.ends_with(r#""symbols":[["value"]]}"#));
    assert_eq!(
        decode_fact_body(body.as_bytes()).unwrap().value,
        Json::Sym(s("open"))
    );
}

#[test]
fn bodies_without_symbols_round_trip_unchanged() {
    let rec = sample();
    assert_eq!(decode_fact_body(encode(&rec).as_bytes()).unwrap(), rec);
}

#[test]
fn non_finite_times_and_values_are_refused_and_leave_output_untouched() {
    for mutate in [
        (|r: &mut FactRecord| r.transaction_time = f64::NAN) as fn(&mut FactRecord),
        |r| r.valid_time = Some(f64::INFINITY),
        |r| r.value = Json::Array(vec![Json::Float(f64::NEG_INFINITY)]),
        |r| r.derivation = Json::Float(f64::NAN),
    ] {
        let mut rec = sample();
        mutate(&mut rec);
        let mut out = b"prefix".to_vec();
        assert!(matches!(
            encode_fact_body(&rec, &mut out),
            Err(Error::NonFinite(_))
        ));
        assert_eq!(out, b"prefix");
    }
}

#[test]
fn a_value_nested_to_the_limit_encodes_and_decodes() {
    let mut v = Json::Array(vec![Json::Sym(s("deep"))]);
    for _ in 1..ledger_core::MAX_NESTING {
        v = Json::Array(vec![v]);
    }
    let mut rec = sample();
    rec.value = v.clone();
    let body = common::body(&rec);
    assert_eq!(decode_fact_body(&body).unwrap().value, v);

    rec.value = Json::Array(vec![v]);
    let mut out = Vec::new();
    assert!(matches!(
        encode_fact_body(&rec, &mut out),
        Err(Error::Nesting(101))
    ));
}

#[test]
fn legacy_timestamp_term_and_integer_key_decode() {
    let rec = decode_fact_body(
        br#"{"id":"x","store":"s","key":42,"value":{"a":1},"timestamp":12,"term":2.5}"#,
    )
    .unwrap();
    assert_eq!(rec.key, "42");
    assert_eq!(rec.transaction_time, 12.0);
    assert_eq!(rec.valid_time, Some(2.5));
    assert_eq!(rec.schema_version, Json::Int(1));
    assert_eq!(rec.producer, Json::Null);
    assert_eq!(rec.value_hash, None);

    let big = decode_fact_body(br#"{"store":"s","key":123456789012345678901234}"#).unwrap();
    assert_eq!(big.key, "123456789012345678901234");
    assert_eq!(big.transaction_time, 0.0);
    assert_eq!(big.valid_time, None);
    assert_eq!(big.value, Json::Null);
}

#[test]
fn transaction_time_wins_over_timestamp_and_null_falls_back() {
    let rec =
        decode_fact_body(br#"{"store":"s","key":"k","transaction_time":5,"timestamp":9}"#).unwrap();
    assert_eq!(rec.transaction_time, 5.0);
    let rec = decode_fact_body(br#"{"store":"s","key":"k","transaction_time":null,"timestamp":9,"valid_time":null,"term":1}"#).unwrap();
    assert_eq!(rec.transaction_time, 9.0);
    assert_eq!(rec.valid_time, Some(1.0));
}

#[test]
fn missing_id_gets_a_fresh_lowercase_uuid_v4() {
    let a = decode_fact_body(br#"{"store":"s","key":"k","id":null}"#).unwrap();
    let b = decode_fact_body(br#"{"store":"s","key":"k"}"#).unwrap();
    for id in [&a.id, &b.id] {
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(id
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }
    assert_ne!(a.id, b.id);
}

#[test]
fn unknown_members_are_ignored_and_repeated_members_take_the_last() {
    let rec = decode_fact_body(br#"{"store":"a","key":"k","extra":[1],"store":"b"}"#).unwrap();
    assert_eq!(rec.store, "b");
}

#[test]
fn bodies_breaking_a_decode_rule_are_errors() {
    let bad: &[&[u8]] = &[
        br#"[1,2]"#,
        br#""str""#,
        br#"{"key":"k"}"#,
        br#"{"store":1,"key":"k"}"#,
        br#"{"store":"s"}"#,
        br#"{"store":"s","key":1.5}"#,
        br#"{"store":"s","key":null}"#,
        br#"{"store":"s","key":"k","id":5}"#,
        br#"{"store":"s","key":"k","value_hash":1}"#,
        br#"{"store":"s","key":"k","causation":{}}"#,
        br#"{"store":"s","key":"k","transaction_time":"1"}"#,
        br#"{"store":"s","key":"k","timestamp":true}"#,
        br#"{"store":"s","key":"k","valid_time":"x"}"#,
        br#"{"store":"s","key":"k","schema_version":1.0}"#,
        br#"{"store":"s","key":"k""#,
        b"",
    ];
    for body in bad {
        assert!(
            matches!(
                decode_fact_body(body),
                Err(Error::InvalidRecord(_) | Error::Parse { .. })
            ),
            "{} should not decode",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn malformed_symbol_paths_are_ignored() {
    let rec = decode_fact_body(
        br#"{"store":"s","key":"k","value":{"a":"x","b":[1,"y"],"c":{"d":"z"}},"producer":"p","symbols":[["value","a"],["value","b",0],["value","b",5],["value","b","0"],["value","c"],["nope"],[],"value",[1],["producer"],["value","c",-1],["value","c","d","e"]]}"#,
    )
    .unwrap();
    assert_eq!(
        rec.value,
        obj(vec![
            ("a", Json::Sym(s("x"))),
            ("b", Json::Array(vec![Json::Int(1), Json::Str(s("y"))])),
            ("c", obj(vec![("d", Json::Str(s("z")))])),
        ])
    );
    assert_eq!(rec.producer, Json::Sym(s("p")));
    let rec =
        decode_fact_body(br#"{"store":"s","key":"k","value":"v","symbols":{"value":1}}"#).unwrap();
    assert_eq!(rec.value, Json::Str(s("v")));
}

#[test]
fn floats_and_big_integers_survive_the_round_trip() {
    let mut rec = sample();
    rec.value = Json::Array(vec![
        Json::Float(-0.0),
        Json::Float(1e-5),
        Json::Float(1.0),
        Json::Int(1),
        Json::BigInt(s("-99999999999999999999999")),
    ]);
    let back = decode_fact_body(&common::body(&rec)).unwrap();
    let Json::Array(items) = &back.value else {
        panic!()
    };
    assert!(matches!(items[0], Json::Float(z) if z == 0.0 && z.is_sign_negative()));
    assert_eq!(back, rec);
}

#[test]
fn a_packed_value_gives_the_same_body_as_its_model() {
    use ledger_core::json::packed::pack;
    use ledger_core::{encode_fact_body_with, BodyValue};
    let mut rec = sample();
    rec.value = obj(vec![
        ("status", Json::Sym(s("open"))),
        (
            "tags",
            Json::Array(vec![Json::Str(s("a")), Json::Sym(s("b"))]),
        ),
        ("n", Json::BigInt(s("-1180591620717411303424"))),
    ]);
    rec.producer = obj(vec![("by", Json::Sym(s("worker")))]);
    let mut bytes = Vec::new();
    pack(&rec.value, &mut bytes);
    let model = encode(&rec);
    rec.value = Json::Null; // not read: the packed bytes are the value
    let mut out = Vec::new();
    encode_fact_body_with(&rec, BodyValue::Packed(&bytes), &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), model);
    assert!(
        model.ends_with(r#""symbols":[["value","status"],["value","tags",1],["producer","by"]]}"#)
    );
}

/// Every body the encoder writes, with Symbols (null optional members left out) or
/// without, is taken by the replay's fast route, which gives the record back.
#[test]
fn written_bodies_take_the_fast_route_with_or_without_their_null_members() {
    use ledger_core::fact::compact::CompactFacts;
    use ledger_core::fact::decode_fast_body;
    let sym = obj(vec![("status", Json::Sym(s("open")))]);
    let plain = obj(vec![("status", Json::Str(s("open")))]);
    let mut records = Vec::new();
    for value in [sym.clone(), plain, Json::Sym(s("ready"))] {
        for causation in [None, Some(s("0a1b2c3d-4e5f-4678-89ab-cdef01234567"))] {
            for valid_time in [None, Some(2.5)] {
                for (producer, derivation) in [
                    (Json::Null, Json::Null),
                    (sym.clone(), Json::Null),
                    (Json::Null, obj(vec![("name", Json::Str(s("d")))])),
                ] {
                    let mut rec = sample();
                    rec.value = value.clone();
                    rec.causation = causation.clone();
                    rec.valid_time = valid_time;
                    rec.producer = producer;
                    rec.derivation = derivation;
                    records.push(rec);
                }
            }
        }
    }
    for rec in records {
        let body = common::body(&rec);
        let text = String::from_utf8_lossy(&body).into_owned();
        let mut data = Vec::new();
        let fast = decode_fast_body(&body, &mut data).unwrap_or_else(|| panic!("left: {text}"));
        let (mut a, mut b) = (CompactFacts::default(), CompactFacts::default());
        a.push(&rec);
        b.push_fast(&fast, &data);
        assert_eq!(
            a.view(0).unwrap().to_record(),
            b.view(0).unwrap().to_record(),
            "{text}"
        );
        assert_eq!(decode_fact_body(&body).unwrap(), rec, "{text}");
    }
}
