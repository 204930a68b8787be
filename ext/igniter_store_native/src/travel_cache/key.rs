//! The key of a time-travel cache entry, `(kind, store, name, as_of)`, with
//! the equality of a Ruby Hash key (`eql?`), so both paths find and count the
//! same entries (doc/performance.md, "Native time-travel cache").
//!
//! Each of the three parts is one of:
//! - an immediate (Fixnum, static Symbol, nil, true, false): `eql?` is
//!   identity, and the bits never change or move;
//! - a Float (flonum or heap, not NaN): `eql?` compares values, and `0.0` and
//!   `-0.0` are one key, as in a Ruby Hash;
//! - a String (of any String class: a Hash matches a subclass's key by its
//!   bytes too): `eql?` is the same bytes in comparable
//!   encodings; the tag is 0 for an empty or ASCII-only string, else the
//!   encoding index + 1 (the rule of `rb_str_hash` and `rb_str_comparable`);
//! - anything else (Time, a dynamic Symbol, a Bignum, NaN, any object): a token number handed out by a Ruby Hash the cache holds,
//!   so Ruby's own `hash`/`eql?` decide. Those calls run Ruby code, so tokens
//!   are resolved before any string bytes are borrowed and before any lock.

use std::hash::Hasher;

use ledger_core::lru::Hashes;
use magnus::{rb_sys::AsRawValue, Value};
use rb_sys::{ruby_coderange_type::RUBY_ENC_CODERANGE_7BIT, ruby_value_type, VALUE};
use rustc_hash::FxHasher;

/// One owned part of a stored key.
#[derive(Debug)]
pub enum Part {
    Imm(u64),
    Float(u64),
    Str(Box<[u8]>, u32),
    Token(u64),
}

/// One part of a key being looked up, borrowing a String's bytes.
#[derive(Debug, Clone, Copy)]
pub enum Probe<'a> {
    Imm(u64),
    Float(u64),
    Str(&'a [u8], u32),
    Token(u64),
}

/// What a Ruby value is as a key part, before anything is borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Imm,
    Float,
    Str,
    /// Needs a token from the Ruby Hash.
    Generic,
}

/// The stored key: kind (true for scope entries) and the three parts.
#[derive(Debug)]
pub struct Key {
    pub scope: bool,
    pub parts: [Part; 3],
}

/// Sorts a value into its [`Class`]; calls no Ruby code.
pub fn classify(v: Value) -> Class {
    let raw = v.as_raw();
    if rb_sys::FLONUM_P(raw) {
        return Class::Float;
    }
    if rb_sys::SPECIAL_CONST_P(raw) {
        // Fixnum, static Symbol, nil, true, false (flonums handled above).
        return Class::Imm;
    }
    // SAFETY: `raw` is a live heap object (not a special constant).
    unsafe {
        match rb_sys::RB_BUILTIN_TYPE(raw) {
            ruby_value_type::RUBY_T_FLOAT if !rb_sys::rb_float_value(raw).is_nan() => Class::Float,
            ruby_value_type::RUBY_T_STRING => Class::Str,
            _ => Class::Generic,
        }
    }
}

/// The probe of a value whose class is not [`Class::Generic`] (`token` is
/// used for that one).
///
/// # Safety
/// The borrowed bytes of a String must not outlive it or see it change: no
/// Ruby code may run while the probe is in use.
pub unsafe fn probe<'a>(v: Value, class: Class, token: u64) -> Probe<'a> {
    let raw = v.as_raw();
    match class {
        // VALUE is a u64 here but not on every platform.
        #[allow(clippy::unnecessary_cast)]
        Class::Imm => Probe::Imm(raw as u64),
        // SAFETY: classified as a Float.
        Class::Float => Probe::Float(float_bits(unsafe { rb_sys::rb_float_value(raw) })),
        // SAFETY: classified as a live String; the caller bounds the borrow.
        Class::Str => unsafe {
            let len = rb_sys::RSTRING_LEN(raw) as usize;
            let bytes: &'a [u8] = if len == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(rb_sys::RSTRING_PTR(raw) as *const u8, len)
            };
            Probe::Str(bytes, string_tag(raw, len))
        },
        Class::Generic => Probe::Token(token),
    }
}

/// `0.0` and `-0.0` are one Hash key in Ruby.
fn float_bits(f: f64) -> u64 {
    if f == 0.0 {
        0
    } else {
        f.to_bits()
    }
}

/// 0 when the string hashes without its encoding, else encoding index + 1.
///
/// # Safety
/// `raw` must be a live String.
unsafe fn string_tag(raw: VALUE, len: usize) -> u32 {
    if len == 0 {
        return 0;
    }
    // SAFETY: a live String; the coderange scan is cached on the string and
    // runs no Ruby code.
    unsafe {
        if rb_sys::rb_enc_str_coderange(raw) == RUBY_ENC_CODERANGE_7BIT as i32 {
            0
        } else {
            rb_sys::rb_enc_get_index(raw) as u32 + 1
        }
    }
}

impl Probe<'_> {
    /// The owned part, for an insert.
    pub fn to_part(self) -> Part {
        match self {
            Probe::Imm(b) => Part::Imm(b),
            Probe::Float(b) => Part::Float(b),
            Probe::Str(bytes, tag) => Part::Str(bytes.into(), tag),
            Probe::Token(t) => Part::Token(t),
        }
    }

    /// True when this part is `part` (Ruby's `eql?`, see the module doc).
    pub fn matches(self, part: &Part) -> bool {
        match (self, part) {
            (Probe::Imm(a), Part::Imm(b)) | (Probe::Float(a), Part::Float(b)) => a == *b,
            (Probe::Token(a), Part::Token(b)) => a == *b,
            (Probe::Str(a, ta), Part::Str(b, tb)) => ta == *tb && a == &b[..],
            _ => false,
        }
    }

    fn feed(self, h: &mut FxHasher) {
        match self {
            Probe::Imm(b) => {
                h.write_u8(0);
                h.write_u64(b);
            }
            Probe::Float(b) => {
                h.write_u8(1);
                h.write_u64(b);
            }
            Probe::Str(bytes, tag) => {
                h.write_u8(2);
                h.write_u32(tag);
                h.write_usize(bytes.len());
                h.write(bytes);
            }
            Probe::Token(t) => {
                h.write_u8(3);
                h.write_u64(t);
            }
        }
    }
}

impl Part {
    /// This part as a probe (to compare stored keys with each other).
    pub fn as_probe(&self) -> Probe<'_> {
        match self {
            Part::Imm(b) => Probe::Imm(*b),
            Part::Float(b) => Probe::Float(*b),
            Part::Str(bytes, tag) => Probe::Str(bytes, *tag),
            Part::Token(t) => Probe::Token(*t),
        }
    }

    /// The token of a generic part.
    pub fn token(&self) -> Option<u64> {
        match self {
            Part::Token(t) => Some(*t),
            _ => None,
        }
    }
}

impl Key {
    /// True when the entry keeps its part `i` (0 store, 1 name, 2 as_of) in
    /// a Ruby cell: a token's object (for the token sweep) and a scope's name
    /// (handed back when it is dropped).
    pub fn keeps(&self, i: usize) -> bool {
        self.parts[i].token().is_some() || (self.scope && i == 1)
    }
}

/// A key being looked up.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    pub scope: bool,
    pub parts: [Probe<'a>; 3],
}

impl Lookup<'_> {
    /// True when `key` is this key.
    pub fn is(&self, key: &Key) -> bool {
        key.scope == self.scope && self.parts.iter().zip(&key.parts).all(|(p, k)| p.matches(k))
    }

    /// The owned key, for an insert.
    pub fn to_key(self) -> Key {
        Key {
            scope: self.scope,
            parts: self.parts.map(Probe::to_part),
        }
    }

    /// In one pass: the hash of the whole key, of (kind, store, name) (the
    /// entries one key's invalidation drops) and of (kind, store). Each is
    /// the [`hash_of`] of its prefix.
    pub fn hashes(&self) -> Hashes {
        let mut h = FxHasher::default();
        h.write_u8(self.scope as u8);
        self.parts[0].feed(&mut h);
        let tag = mix(h.finish());
        self.parts[1].feed(&mut h);
        let group = mix(h.finish());
        self.parts[2].feed(&mut h);
        Hashes {
            key: mix(h.finish()),
            group,
            tag,
        }
    }
}

/// The hash of a key prefix: (kind, store) or (kind, store, name).
pub fn hash_of(scope: bool, parts: &[Probe<'_>]) -> u64 {
    let mut h = FxHasher::default();
    h.write_u8(scope as u8);
    for p in parts {
        p.feed(&mut h);
    }
    mix(h.finish())
}

/// murmur3's finalizer: FxHasher's low bits are weak, and the table's bucket
/// is chosen by them.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}
