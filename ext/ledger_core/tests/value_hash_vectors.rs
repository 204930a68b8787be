//! value_hash must be bit-exact with igniter-ledger 0.5.2.

mod common;

use ledger_core::{parse, sha256_hex, value_hash, write_canonical, Json};

fn canonical(v: &Json) -> String {
    let mut out = Vec::new();
    write_canonical(v, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn every_fixture_vector_gives_the_0_5_2_canonical_text_and_hash() {
    let text = std::fs::read(common::fixture("value_hash_vectors.json")).unwrap();
    let Json::Array(vectors) = parse(&text).unwrap() else {
        panic!("vectors file is not an array")
    };
    assert_eq!(vectors.len(), 5);
    for vector in &vectors {
        let Some(Json::Str(value_json)) = vector.get("value_json") else {
            panic!()
        };
        let Some(Json::Str(expected_canonical)) = vector.get("canonical_json") else {
            panic!()
        };
        let Some(Json::Str(expected_hash)) = vector.get("value_hash") else {
            panic!()
        };
        let value = parse(value_json.as_bytes()).unwrap();
        assert_eq!(&canonical(&value), expected_canonical, "for {value_json}");
        assert_eq!(
            &value_hash(&value).unwrap(),
            expected_hash,
            "for {value_json}"
        );
    }
}

#[test]
fn spec_table_vectors_hash_like_0_5_2() {
    let obj = |m: Vec<(&str, Json)>| Json::Object(m.into_iter().map(|(k, v)| (s(k), v)).collect());
    let cases: Vec<(Json, &str, &str)> = vec![
        (
            obj(vec![]),
            "{}",
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        ),
        (
            obj(vec![("b", Json::Int(2)), ("a", Json::Int(1))]),
            r#"{"a":1,"b":2}"#,
            "43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777",
        ),
        (
            obj(vec![("status", Json::Sym(s("open")))]),
            r#"{"status":"open"}"#,
            "bc99066a8b813e763201c114d47dd9300710ba0acf1c4e522ae78e2c5c473b87",
        ),
        (
            obj(vec![(
                "x",
                Json::Array(vec![
                    Json::Int(3),
                    obj(vec![("z", Json::Int(1)), ("y", Json::Int(2))]),
                    Json::Null,
                    Json::Bool(true),
                ]),
            )]),
            r#"{"x":[3,{"y":2,"z":1},null,true]}"#,
            "583dd45d89987732144a894c40a829100ca908c88c76b536c9534dead50e0fe7",
        ),
        (
            obj(vec![
                ("t", Json::Float(1.0)),
                ("u", Json::Int(1)),
                ("v", Json::Float(1e20)),
                ("w", Json::Float(0.0001)),
                ("x", Json::Float(1e-5)),
                ("y", Json::Float(-0.0)),
            ]),
            r#"{"t":1.0,"u":1,"v":1.0e+20,"w":0.0001,"x":1.0e-05,"y":-0.0}"#,
            "fd78806c15204685528f85bda1a8d6709112b66edc38c7ff13c83a4064df292d",
        ),
        (
            obj(vec![("name", Json::Str(s("é\n\"q\"/")))]),
            "{\"name\":\"é\\n\\\"q\\\"/\"}",
            "9e8d05c719fe9bfd6ad48f54147a4d0b1242f9029a3b51387f48f898c34f6842",
        ),
        (
            Json::Array(vec![Json::Int(1), Json::Str(s("a")), Json::Sym(s("b"))]),
            r#"[1,"a","b"]"#,
            "26b81fd1c1a0118bd3b8950abe57bc0b9116925fe9bb2035b078ac53c4fa0271",
        ),
    ];
    for (value, expected_canonical, expected_hash) in &cases {
        assert_eq!(canonical(value), *expected_canonical);
        assert_eq!(
            value_hash(value).unwrap(),
            *expected_hash,
            "for {expected_canonical}"
        );
    }
}

#[test]
fn symbol_and_string_values_hash_identically() {
    let sym = Json::Object(vec![(s("status"), Json::Sym(s("open")))]);
    let string = Json::Object(vec![(s("status"), Json::Str(s("open")))]);
    assert_eq!(value_hash(&sym).unwrap(), value_hash(&string).unwrap());
}

#[test]
fn integer_and_float_one_hash_differently() {
    assert_ne!(
        value_hash(&Json::Int(1)).unwrap(),
        value_hash(&Json::Float(1.0)).unwrap()
    );
}

#[test]
fn sha256_hex_is_lowercase_hex_of_the_bytes() {
    assert_eq!(
        sha256_hex(b"{}"),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}
