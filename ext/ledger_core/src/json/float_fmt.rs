//! Ruby `Float#to_s`, byte for byte.
//!
//! Both Ruby (dtoa mode 0) and Rust (`{:e}`) produce the shortest decimal digits that
//! round-trip; only the layout differs. We take Rust's digits and lay them out with
//! Ruby's rules (doc/format.md "WAL" shows examples): with value = 0.d1…dn × 10^e,
//! - 0 < e < n → point inside the digits; n ≤ e ≤ 15 → digits, zeros, ".0";
//! - -4 < e ≤ 0 → "0.", -e zeros, digits;
//! - else exponent form d1.d2…dn (at least d1.0), 'e', sign, ≥ 2 exponent digits.

use std::fmt::Write as _;

/// Fixed-size stack buffer so formatting a float never allocates.
struct StackBuf {
    buf: [u8; 48],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(std::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Shortest round-trip digits of positive finite `f` in `{:e}` form, with Ruby's tie rule.
///
/// When two shortest candidates are equally close to `f` (its exact value ends in a 5 just
/// past the last digit), Rust's shortest mode rounds up while Ruby's dtoa rounds half to
/// even (3454183008863.90625 → Rust "…863.9063", Ruby "…863.9062"). Rust's fixed-precision
/// mode rounds the exact value half to even, so re-format with the same digit count and
/// take that when it differs and still round-trips. Only an odd last digit can be a
/// rounded-up tie, which keeps the second format off the common path.
fn shortest_sci(f: f64) -> Option<StackBuf> {
    let mut sci = StackBuf {
        buf: [0; 48],
        len: 0,
    };
    write!(sci, "{f:e}").ok()?;
    let text = sci.buf.get(..sci.len)?;
    let e_pos = text.iter().position(|&c| c == b'e')?;
    let last_digit = text.get(e_pos.checked_sub(1)?)?;
    if last_digit % 2 == 0 || no_tie(f) {
        return Some(sci);
    }
    let n_digits = text
        .get(..e_pos)?
        .iter()
        .filter(|c| c.is_ascii_digit())
        .count();
    let mut even = StackBuf {
        buf: [0; 48],
        len: 0,
    };
    write!(even, "{f:.prec$e}", prec = n_digits.saturating_sub(1)).ok()?;
    let even_text = even.buf.get(..even.len)?;
    let round_trips = std::str::from_utf8(even_text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        == Some(f);
    Some(if even_text != text && round_trips {
        even
    } else {
        sci
    })
}

/// True when `f` (positive, finite) cannot lie halfway between two shortest
/// candidates, so [`shortest_sci`] need not format it a second time (that
/// second format and its parse were half the cost of a transaction time's
/// text, doc/performance.md "File writes").
///
/// A tie between two n-digit candidates is their midpoint: exactly n + 1
/// significant digits, the last a 5, and shortest digits never number more
/// than 17, so an exact value of 19 or more significant digits is no tie.
/// With `f` = m × 2^-k, m odd and k > 0, the exact value is m × 5^k / 10^k,
/// and m × 5^k, odd, ends in no zero: its digits are the significant ones.
/// Every k above 27 gives at least the 20 digits of 5^28; integral values
/// (k ≤ 0) keep the second format.
fn no_tie(f: f64) -> bool {
    const FRACTION_BITS: u32 = 52;
    let bits = f.to_bits();
    let biased = ((bits >> FRACTION_BITS) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << FRACTION_BITS) - 1);
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << FRACTION_BITS), biased - 1075)
    };
    if mantissa == 0 {
        return false;
    }
    let zeros = mantissa.trailing_zeros();
    let (m, k) = (mantissa >> zeros, -(exp + i64::from(zeros)));
    if k <= 0 {
        return false;
    }
    if k > 27 {
        return true;
    }
    let exact = u128::from(m) * 5u128.pow(k as u32);
    exact >= 1_000_000_000_000_000_000
}

/// Appends `f` formatted as Ruby's `Float#to_s`.
///
/// Meant for finite input (JSON encoders reject NaN/Infinity before calling this); a
/// non-finite value is written as Ruby would print it ("NaN", "Infinity", "-Infinity")
/// rather than panicking.
pub fn write_ruby_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f < 0.0 { b"-Infinity" } else { b"Infinity" });
        return;
    }
    if f.is_sign_negative() {
        out.push(b'-');
    }
    if f == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }

    let Some(sci) = shortest_sci(f.abs()) else {
        // Cannot happen for a finite f64 (the text is ~25 bytes); Rust's own round-trip
        // text is the least surprising fallback.
        let _ = std::io::Write::write_fmt(out, format_args!("{:?}", f.abs()));
        return;
    };
    let text = sci.buf.get(..sci.len).unwrap_or(&[]);

    // Split "d[.ddd]e[-]x" into the digit string and the scientific exponent.
    let e_pos = text.iter().position(|&c| c == b'e').unwrap_or(text.len());
    let (mantissa, exp_part) = text.split_at(e_pos);
    let mut digits = [0u8; 40];
    let mut n = 0usize;
    for &c in mantissa {
        if c.is_ascii_digit() {
            if let Some(slot) = digits.get_mut(n) {
                *slot = c;
                n += 1;
            }
        }
    }
    // Rust never prints trailing zeros in the shortest form, but a mantissa like "1.0"
    // would be harmless anyway; strip to keep the layout rules exact.
    while n > 1 && digits.get(n - 1) == Some(&b'0') {
        n -= 1;
    }
    let sci_exp: i32 = std::str::from_utf8(exp_part.get(1..).unwrap_or(&[]))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let digits = digits.get(..n).unwrap_or(&[]);
    let n = n as i32;
    // Ruby's decpt: value = 0.d1…dn × 10^decpt.
    let decpt = sci_exp + 1;

    if 0 < decpt && (decpt < n || decpt <= 15) {
        if decpt < n {
            let (int_part, frac) = digits.split_at(decpt as usize);
            out.extend_from_slice(int_part);
            out.push(b'.');
            out.extend_from_slice(frac);
        } else {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', (decpt - n) as usize));
            out.extend_from_slice(b".0");
        }
    } else if -4 < decpt && decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits);
    } else {
        let (first, rest) = digits.split_at(digits.len().min(1));
        out.extend_from_slice(first);
        out.push(b'.');
        if rest.is_empty() {
            out.push(b'0');
        } else {
            out.extend_from_slice(rest);
        }
        out.push(b'e');
        let e = decpt - 1;
        out.push(if e < 0 { b'-' } else { b'+' });
        let abs = e.unsigned_abs();
        if abs < 10 {
            out.push(b'0');
        }
        let _ = std::io::Write::write_fmt(out, format_args!("{abs}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: f64) -> String {
        let mut v = Vec::new();
        write_ruby_float(f, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn lays_out_like_ruby_at_the_fixed_exponent_boundaries() {
        assert_eq!(fmt(1e15), "1.0e+15");
        assert_eq!(fmt(123456789012345.0), "123456789012345.0");
        assert_eq!(fmt(1234567890123456.8), "1234567890123456.8");
        assert_eq!(fmt(1e-4), "0.0001");
        assert_eq!(fmt(1e-5), "1.0e-05");
        assert_eq!(fmt(-1.5), "-1.5");
    }

    /// The shortcut of `no_tie` gives the digits the second format would
    /// have: checked against the full rule on transaction-time-like values,
    /// on the documented tie, and on values of few significant digits.
    #[test]
    fn no_tie_only_skips_what_cannot_be_a_tie() {
        // 3454183008863.90625, exactly.
        let tie = 110_533_856_283_645.0 / 32.0;
        assert_eq!(fmt(tie), "3454183008863.9062");
        assert!(!no_tie(tie));
        assert!(!no_tie(0.5) && !no_tie(1.5) && !no_tie(2.0_f64.powi(60)));
        let mut t = 1_796_356_492.768_350_8_f64;
        for _ in 0..20_000 {
            if no_tie(t) {
                let mut sci = String::new();
                write!(sci, "{t:e}").unwrap();
                let digits = sci.split('e').next().unwrap().replace('.', "");
                let mut even = String::new();
                write!(even, "{t:.prec$e}", prec = digits.len() - 1).unwrap();
                assert_eq!(sci, even, "{t}");
            }
            t = f64::from_bits(t.to_bits() + 7919);
        }
    }

    #[test]
    fn never_panics_on_non_finite() {
        assert_eq!(fmt(f64::NAN), "NaN");
        assert_eq!(fmt(f64::NEG_INFINITY), "-Infinity");
    }
}
