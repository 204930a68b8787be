//! The strict JSON parser: numbers, strings, limits and garbage.

use ledger_core::{parse, Error, Json, MAX_PARSE_NESTING};

fn s(x: &str) -> String {
    x.to_string()
}

fn p(text: &str) -> Json {
    parse(text.as_bytes()).unwrap()
}

fn is_parse_error(text: &[u8]) -> bool {
    matches!(parse(text), Err(Error::Parse { .. }))
}

#[test]
fn integers_beyond_i64_become_exact_bigints() {
    assert_eq!(p("9223372036854775807"), Json::Int(i64::MAX));
    assert_eq!(p("-9223372036854775808"), Json::Int(i64::MIN));
    assert_eq!(
        p("9223372036854775808"),
        Json::BigInt(s("9223372036854775808"))
    );
    assert_eq!(
        p("-100000000000000000000"),
        Json::BigInt(s("-100000000000000000000"))
    );
    assert_eq!(p("-0"), Json::Int(0));
}

#[test]
fn any_point_or_exponent_makes_a_float() {
    assert_eq!(p("1.0"), Json::Float(1.0));
    assert_eq!(p("1e2"), Json::Float(100.0));
    assert_eq!(p("1E+2"), Json::Float(100.0));
    assert_eq!(p("1.0e-05"), Json::Float(1e-5));
    let Json::Float(z) = p("-0.0") else { panic!() };
    assert!(z == 0.0 && z.is_sign_negative());
    assert_eq!(p("1e-400"), Json::Float(0.0));
}

#[test]
fn non_finite_and_malformed_numbers_are_refused() {
    for bad in [
        "1e400", "-1e400", "01", "1.", ".5", "-", "+1", "1e", "1e+", "NaN", "Infinity", "0x10",
    ] {
        assert!(is_parse_error(bad.as_bytes()), "{bad} should not parse");
    }
}

#[test]
fn string_escapes_decode_including_surrogate_pairs() {
    assert_eq!(
        p(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\u0000\ud83d\ude00""#),
        Json::Str(s("a\"b\\c/d\u{8}\u{c}\n\r\té\u{0}😀"))
    );
    assert_eq!(p("\"日本語\""), Json::Str(s("日本語")));
}

#[test]
fn lone_surrogates_bad_escapes_and_raw_controls_are_refused() {
    for bad in [
        r#""\ud83d""#,
        r#""\ud83dx""#,
        r#""\ud83d\u0041""#,
        r#""\ude00""#,
        r#""\x""#,
        r#""\u12g4""#,
        r#""\u12"#,
        "\"a\nb\"",
        "\"a\u{1}b\"",
        "\"unterminated",
    ] {
        assert!(is_parse_error(bad.as_bytes()), "{bad:?} should not parse");
    }
}

#[test]
fn invalid_utf8_is_refused() {
    assert!(is_parse_error(b"\"\xff\""));
    assert!(is_parse_error(b"\"\xc3\""));
    assert!(is_parse_error(b"\"\xc3\\u00e9\""));
    assert!(is_parse_error(b"\"\xed\xa0\x80\"")); // encoded surrogate
}

#[test]
fn whitespace_around_tokens_is_allowed_and_trailing_garbage_is_not() {
    assert_eq!(
        p(" \t\r\n{ \"a\" : [ 1 , true ] } \n"),
        Json::Object(vec![(
            s("a"),
            Json::Array(vec![Json::Int(1), Json::Bool(true)])
        )])
    );
    for bad in [
        "{} x",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "",
        "  ",
        "tru",
        "nul",
        "[",
        "{\"a\":",
        "\u{a0}1",
    ] {
        assert!(is_parse_error(bad.as_bytes()), "{bad:?} should not parse");
    }
}

#[test]
fn duplicate_keys_are_kept_in_order_and_get_returns_the_last() {
    let v = p(r#"{"a":1,"b":2,"a":3}"#);
    assert_eq!(
        v,
        Json::Object(vec![
            (s("a"), Json::Int(1)),
            (s("b"), Json::Int(2)),
            (s("a"), Json::Int(3))
        ])
    );
    assert_eq!(v.get("a"), Some(&Json::Int(3)));
    assert_eq!(v.get("z"), None);
}

#[test]
fn nesting_is_limited_without_recursing_unboundedly() {
    let ok = "[".repeat(MAX_PARSE_NESTING) + &"]".repeat(MAX_PARSE_NESTING);
    assert!(parse(ok.as_bytes()).is_ok());
    let deep = "[".repeat(MAX_PARSE_NESTING + 1) + &"]".repeat(MAX_PARSE_NESTING + 1);
    assert!(matches!(parse(deep.as_bytes()), Err(Error::Nesting(103))));
    // A million unclosed brackets must fail fast, not overflow the stack.
    let huge = "[{\"a\":".repeat(500_000);
    assert!(matches!(parse(huge.as_bytes()), Err(Error::Nesting(_))));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // Cheap deterministic fuzz: every prefix of a valid document, and byte flips of it.
    let doc = br#"{"id":"x","value":{"a":[1,-2.5e-3,"\u00e9\ud83d\ude00",true,null,{}]},"n":123456789012345678901}"#;
    for end in 0..=doc.len() {
        let _ = parse(&doc[..end]);
    }
    let mut seed = 0x9e3779b97f4a7c15u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut d = doc.to_vec();
        let i = (seed as usize) % d.len();
        d[i] = (seed >> 32) as u8;
        let _ = parse(&d);
    }
}

/// `parse_nested` refuses containers deeper than its limit with the refused depth (the
/// fact body limit, 101, is what the decode rules use), and never goes above
/// `MAX_PARSE_NESTING` whatever limit it is given.
#[test]
fn parse_nested_applies_its_own_limit() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(ledger_core::parse_nested(nested(101).as_bytes(), 101).is_ok());
    assert!(matches!(
        ledger_core::parse_nested(nested(102).as_bytes(), 101),
        Err(Error::Nesting(102))
    ));
    assert!(matches!(
        ledger_core::parse_nested(nested(103).as_bytes(), usize::MAX),
        Err(Error::Nesting(103))
    ));
    assert!(parse(nested(102).as_bytes()).is_ok());
}
