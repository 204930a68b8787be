//! JSON writers that reproduce Ruby `JSON.generate` (json 2.6, default options) bytes.
//!
//! Two orders: insertion order (fact bodies, doc/format.md "WAL") and the canonical order
//! of `value_hash` (`canonical.rs`). Both reject NaN/Infinity and nesting deeper than
//! [`MAX_NESTING`], as Ruby's generator does. On error `out` is restored to its length
//! before the call, so a caller never ships a half-written value.

use crate::error::{Error, Result};
use crate::json::canonical;
use crate::json::float_fmt::write_ruby_float;
use crate::json::Json;

/// Ruby's `JSON.generate` default `max_nesting`. Depth counts from 1 at the outermost
/// Array/Object of the value being encoded; a container at depth > 100 is refused.
pub const MAX_NESTING: usize = 100;

/// Writes `v` with object members in insertion order (duplicates kept as given).
pub fn write_json(v: &Json, out: &mut Vec<u8>) -> Result<()> {
    write_in(v, out, Order::Insertion)
}

/// Writes `v` with object members in `order`.
pub(crate) fn write_in(v: &Json, out: &mut Vec<u8>, order: Order) -> Result<()> {
    guarded(out, |out| write_value(v, out, 0, order))
}

/// Runs `f`, truncating `out` back to its starting length if it fails.
pub(crate) fn guarded(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    let start = out.len();
    let r = f(out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

/// The order object members are written in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// As given, duplicates included.
    Insertion,
    /// See `canonical.rs`.
    Canonical,
}

/// `depth` is the depth of the container enclosing `v` (0 at the top).
fn write_value(v: &Json, out: &mut Vec<u8>, depth: usize, order: Order) -> Result<()> {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Int(i) => write_int(*i, out),
        Json::BigInt(text) => write_bigint(text, out)?,
        Json::Float(f) => write_float(*f, out)?,
        Json::Str(s) | Json::Sym(s) => write_json_string(s, out),
        Json::Array(items) => {
            let depth = enter(depth)?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth, order)?;
            }
            out.push(b']');
        }
        Json::Object(members) => {
            let depth = enter(depth)?;
            out.push(b'{');
            match order {
                Order::Insertion => write_members(members.iter(), out, depth, order)?,
                Order::Canonical => {
                    write_members(canonical::members(members).into_iter(), out, depth, order)?
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_members<'a>(
    members: impl Iterator<Item = &'a (String, Json)>,
    out: &mut Vec<u8>,
    depth: usize,
    order: Order,
) -> Result<()> {
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_member(k, v, out, depth, order)?;
    }
    Ok(())
}

fn write_member(k: &str, v: &Json, out: &mut Vec<u8>, depth: usize, order: Order) -> Result<()> {
    write_json_string(k, out);
    out.push(b':');
    write_value(v, out, depth, order)
}

/// Depth check on entering a container; returns the container's own depth.
fn enter(parent_depth: usize) -> Result<usize> {
    let depth = parent_depth + 1;
    if depth > MAX_NESTING {
        return Err(Error::Nesting(depth));
    }
    Ok(depth)
}

/// Appends `i` in decimal, as `Integer#to_s` spells it: the digits are
/// written into a stack buffer from the right, since `write!` through
/// `core::fmt` costs several times as much for the short integers a value
/// holds (doc/performance.md "File writes").
pub fn write_int(i: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = i.unsigned_abs();
    loop {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(buf.get(at..).unwrap_or(&[]));
}

pub(crate) fn write_float(f: f64, out: &mut Vec<u8>) -> Result<()> {
    if !f.is_finite() {
        return Err(Error::NonFinite(f));
    }
    write_ruby_float(f, out);
    Ok(())
}

/// BigInt text comes from the binding; emitting anything but `-?digits` would corrupt the
/// frame, so it is checked rather than trusted.
pub(crate) fn write_bigint(text: &str, out: &mut Vec<u8>) -> Result<()> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidRecord(format!(
            "BigInt is not a decimal integer: {text:?}"
        )));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Writes `s` as a JSON string escaped like Ruby's generator: `\" \\ \b \f \n \r \t`, other
/// code points below U+0020 as `\u00xx` (lowercase hex), everything else raw UTF-8
/// (including '/', DEL and U+2028/2029).
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    // Ids, hashes, names and most text need no escape at all: tested a word
    // at a time, tail included, and copied whole (the byte loop below cost
    // ~290 instructions for a 36-byte id, doc/performance.md "File writes").
    if plain_prefix(bytes) == bytes.len() - bytes.len() % 8 && plain_tail(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run_start = 0;
    // Most text needs no escape: plain words are skipped eight bytes at a
    // time, at the start and after each escape; the rest goes byte by byte.
    let mut i = plain_prefix(bytes);
    while let Some(&b) = bytes.get(i) {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        // Copy the unescaped run before this byte, then the escape. Multi-byte UTF-8
        // sequences never contain bytes < 0x80, so splitting here never cuts a character.
        out.extend_from_slice(bytes.get(run_start..i).unwrap_or(&[]));
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        run_start = i;
        i += plain_prefix(bytes.get(i..).unwrap_or(&[]));
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or(&[]));
    out.push(b'"');
}

/// Whether the last `len % 8` bytes of `bytes` (those [`plain_prefix`] does
/// not look at) hold no byte JSON escapes, tested as one word padded with
/// spaces.
fn plain_tail(bytes: &[u8]) -> bool {
    let tail = bytes.get(bytes.len() - bytes.len() % 8..).unwrap_or(&[]);
    let mut word = [b' '; 8];
    if let Some(head) = word.get_mut(..tail.len()) {
        head.copy_from_slice(tail);
    }
    word_is_plain(u64::from_le_bytes(word))
}

/// Whether no byte of the word `w` is one JSON escapes (`"`, `\\`, below 0x20).
fn word_is_plain(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Any byte of `w` below `n` (n <= 0x80), or equal to `c`.
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    let equal = |w: u64, c: u8| below(w ^ (ONES * u64::from(c)), 1);
    below(w, 0x20) | equal(w, b'"') | equal(w, b'\\') == 0
}

/// The length of the leading whole 8-byte words of `bytes` that hold no byte
/// JSON escapes (`"`, `\\`, below 0x20). The word tests are exact about
/// whether a word holds such a byte (they may only misplace which), so the
/// byte loop of [`write_json_string`] takes over at the first word that does.
fn plain_prefix(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if !word_is_plain(u64::from_le_bytes(word)) {
            break;
        }
        n += 8;
    }
    n
}
