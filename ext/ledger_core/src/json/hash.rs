//! `value_hash`: lowercase hex SHA-256 of the canonical JSON (`canonical.rs`), bit-exact
//! with 0.5.2's pure-Ruby path.

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::json::canonical::write_canonical;
use crate::json::Json;

/// SHA-256 of the canonical JSON of `v`, as 64 lowercase hex digits.
/// Fails on NaN/Infinity or nesting, like Ruby's `JSON.generate`.
pub fn value_hash(v: &Json) -> Result<String> {
    let mut buf = Vec::with_capacity(128);
    write_canonical(v, &mut buf)?;
    Ok(sha256_hex(&buf))
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}
