//! Ruby `JSON.generate` compatibility of the writers: escaping, order, errors.

use ledger_core::{write_canonical, write_json, write_json_string, Error, Json, MAX_NESTING};

fn s(x: &str) -> String {
    x.to_string()
}

fn json(v: &Json) -> String {
    let mut out = Vec::new();
    write_json(v, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn canonical(v: &Json) -> String {
    let mut out = Vec::new();
    write_canonical(v, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn nested_arrays(depth: usize) -> Json {
    let mut v = Json::Array(vec![]);
    for _ in 1..depth {
        v = Json::Array(vec![v]);
    }
    v
}

#[test]
fn strings_escape_exactly_like_ruby_json_generate() {
    let input: String =
        (0u8..0x20).map(char::from).collect::<String>() + "\x7f/\"\\\u{2028}\u{2029}é😀";
    let mut out = Vec::new();
    write_json_string(&input, &mut out);
    // Captured from Ruby 3.1 / json 2.6.1: JSON.generate(input).
    let expected = concat!(
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r",
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019",
        "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u{7f}/\\\"\\\\\u{2028}\u{2029}é😀\""
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn write_json_keeps_insertion_order_and_duplicates() {
    let v = Json::Object(vec![
        (s("b"), Json::Int(1)),
        (s("a"), Json::Array(vec![Json::Null, Json::Bool(false)])),
        (s("b"), Json::Int(2)),
    ]);
    assert_eq!(json(&v), r#"{"b":1,"a":[null,false],"b":2}"#);
}

#[test]
fn symbols_encode_as_plain_strings() {
    assert_eq!(json(&Json::Sym(s("open"))), r#""open""#);
    assert_eq!(canonical(&Json::Sym(s("a\"b"))), r#""a\"b""#);
}

#[test]
fn integers_of_any_size_are_decimal() {
    assert_eq!(json(&Json::Int(i64::MIN)), "-9223372036854775808");
    assert_eq!(
        json(&Json::BigInt(s("-1180591620717411303424"))),
        "-1180591620717411303424"
    );
}

#[test]
fn a_malformed_bigint_text_is_refused_not_written() {
    let mut out = b"x".to_vec();
    let err = write_json(&Json::Array(vec![Json::BigInt(s("12a"))]), &mut out).unwrap_err();
    assert!(matches!(err, Error::InvalidRecord(_)));
    assert_eq!(out, b"x", "output restored on error");
}

#[test]
fn canonical_sorts_keys_bytewise_at_every_depth() {
    let v = Json::Object(vec![
        (s("é"), Json::Int(1)),
        (
            s("Z"),
            Json::Object(vec![(s("b"), Json::Int(2)), (s("a"), Json::Int(3))]),
        ),
        (s("a"), Json::Int(4)),
    ]);
    assert_eq!(canonical(&v), r#"{"Z":{"a":3,"b":2},"a":4,"é":1}"#);
}

#[test]
fn canonical_duplicate_keys_keep_the_last_in_insertion_order() {
    let v = Json::Object(vec![
        (s("a"), Json::Int(1)),
        (s("b"), Json::Int(2)),
        (s("a"), Json::Int(3)),
        (s("a"), Json::Int(4)),
    ]);
    assert_eq!(canonical(&v), r#"{"a":4,"b":2}"#);
}

#[test]
fn nan_and_infinity_are_refused_with_ruby_messages() {
    for (f, msg) in [
        (f64::NAN, "NaN not allowed in JSON"),
        (f64::INFINITY, "Infinity not allowed in JSON"),
        (f64::NEG_INFINITY, "-Infinity not allowed in JSON"),
    ] {
        let v = Json::Object(vec![(s("x"), Json::Float(f))]);
        let mut out = Vec::new();
        let err = write_json(&v, &mut out).unwrap_err();
        assert!(matches!(err, Error::NonFinite(_)));
        assert_eq!(err.to_string(), msg);
        assert!(out.is_empty());
        assert!(matches!(
            write_canonical(&v, &mut out),
            Err(Error::NonFinite(_))
        ));
    }
}

#[test]
fn nesting_up_to_the_limit_encodes_and_one_deeper_is_refused() {
    let mut out = Vec::new();
    write_json(&nested_arrays(MAX_NESTING), &mut out).unwrap();
    assert_eq!(out.len(), 2 * MAX_NESTING);

    let mut out = Vec::new();
    let err = write_json(&nested_arrays(MAX_NESTING + 1), &mut out).unwrap_err();
    assert!(matches!(err, Error::Nesting(101)));
    assert_eq!(err.to_string(), "nesting of 101 is too deep");
    assert!(out.is_empty());
    assert!(matches!(
        write_canonical(&nested_arrays(MAX_NESTING + 1), &mut out),
        Err(Error::Nesting(101))
    ));
}

#[test]
fn display_messages_for_closed_and_nesting() {
    assert_eq!(Error::Closed.to_string(), "closed stream");
    assert_eq!(Error::Nesting(7).to_string(), "nesting of 7 is too deep");
}

/// The escape of one byte loop, byte by byte: what the word-at-a-time skip
/// in `write_json_string` must reproduce at every position.
fn escaped_bytewise(s: &str) -> Vec<u8> {
    let mut out = vec![b'"'];
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
    out
}

#[test]
fn escapes_land_right_at_every_offset_across_word_boundaries() {
    // Every special byte (and a multi-byte character, and the bytes next to the
    // special ones) at every offset of strings spanning several 8-byte words.
    let specials = [
        '"', '\\', '\n', '\u{0}', '\u{1f}', '\u{7f}', ' ', '!', '#', '[', ']', 'é', '€', '😀',
    ];
    for len in 0..27 {
        for at in 0..len.max(1) {
            for &special in &specials {
                let input: String = (0..len)
                    .map(|i| if i == at { special } else { 'a' })
                    .collect();
                let mut out = Vec::new();
                write_json_string(&input, &mut out);
                assert_eq!(out, escaped_bytewise(&input), "{input:?}");
            }
        }
    }
    let mixed =
        "plain text, then \"quoted\"\tand\u{1}\u{2} control, then 😀 emoji and a long plain tail";
    let mut out = Vec::new();
    write_json_string(mixed, &mut out);
    assert_eq!(out, escaped_bytewise(mixed));
}
