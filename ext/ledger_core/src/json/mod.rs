//! The JSON model of a fact's data ([`Json`]) and everything that reads or
//! writes it byte for byte as Ruby does: the encoder (`JSON.generate`), the
//! canonical order and `value_hash`, Ruby's `Float#to_s`, the strict parser.

pub mod canonical;
pub mod encode;
pub mod float_fmt;
pub mod hash;
pub mod packed;
pub mod packed_canonical;
pub mod packed_json;
pub mod parse;
mod value;

pub use value::{dedup_keys, keys_distinct, last_wins, Json};
