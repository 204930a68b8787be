//! Ruby `Float#to_s` layout, checked as parse → format round trips.

use ledger_core::{parse, write_ruby_float, Json};

fn ruby(f: f64) -> String {
    let mut out = Vec::new();
    write_ruby_float(f, &mut out);
    String::from_utf8(out).unwrap()
}

const TABLE: &[&str] = &[
    "1.0",
    "100.0",
    "1.0e+20",
    "1.0e-05",
    "0.0001",
    "0.000123",
    "-0.0",
    "0.0",
    "1.0e+15",
    "1.0e+16",
    "123456789012345.0",
    "1.234567890123456e+15",
    "9.9e-05",
    "5.0e-324",
    "1.7976931348623157e+308",
    "0.3333333333333333",
    "2.5e-10",
    "1.5",
    "1795675821.4574616",
    "12.5",
];

#[test]
fn ruby_float_table_round_trips_through_parse_and_format() {
    for text in TABLE {
        let Json::Float(f) = parse(text.as_bytes()).unwrap() else {
            panic!("{text} did not parse as a Float")
        };
        assert_eq!(ruby(f), *text);
    }
}

#[test]
fn negative_zero_keeps_its_sign() {
    assert_eq!(ruby(-0.0), "-0.0");
    assert_eq!(ruby(0.0), "0.0");
}

#[test]
fn fixed_notation_stops_at_fifteen_integer_digits() {
    assert_eq!(ruby(999999999999999.0), "999999999999999.0");
    assert_eq!(ruby(1e15), "1.0e+15");
    assert_eq!(ruby(1234567890123456.8), "1234567890123456.8");
    assert_eq!(ruby(1e22), "1.0e+22");
    assert_eq!(ruby(-2.5e-10), "-2.5e-10");
    assert_eq!(ruby(1.5e300), "1.5e+300");
}

#[test]
// The literals are the exact binary values on purpose: each is a decimal tie.
#[allow(clippy::excessive_precision)]
fn halfway_shortest_digits_round_half_to_even_like_ruby_dtoa() {
    // Exact values end in ...5 just past the 17th digit; Ruby prints the even neighbour.
    assert_eq!(ruby(3454183008863.90625), "3454183008863.9062");
    assert_eq!(ruby(-1894819417507966.25), "-1894819417507966.2");
    assert_eq!(ruby(-76034948629631.625), "-76034948629631.62");
}
