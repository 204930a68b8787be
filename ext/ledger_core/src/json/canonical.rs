//! The canonical form of a value, which `value_hash` hashes: object keys sorted
//! bytewise at every depth, and of duplicate keys only the last in insertion
//! order (what a Ruby Hash built from the members would have kept). Bit-exact
//! with 0.5.2's `value_hash`, so hashes written by either version agree.

use crate::error::Result;
use crate::json::encode::{write_in, Order};
use crate::json::Json;

/// Writes `v` canonically (see the module notes).
pub fn write_canonical(v: &Json, out: &mut Vec<u8>) -> Result<()> {
    write_in(v, out, Order::Canonical)
}

/// The members of one object in canonical order, duplicates resolved.
pub(crate) fn members(members: &[(String, Json)]) -> Vec<&(String, Json)> {
    // A stable sort keeps equal keys in insertion order, so the last of each
    // run of equal keys is the last-inserted one: that one wins.
    let mut sorted: Vec<&(String, Json)> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<&(String, Json)> = Vec::with_capacity(sorted.len());
    for member in sorted {
        match out.last_mut() {
            Some(last) if last.0 == member.0 => *last = member,
            _ => out.push(member),
        }
    }
    out
}
