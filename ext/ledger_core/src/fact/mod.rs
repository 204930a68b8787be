//! One fact as the ledger stores it: the record ([`FactRecord`]), its frame
//! body (doc/format.md "WAL"), the decode rules for bodies written by any
//! version (doc/format.md "Decoding a fact body") and fresh ids.

mod body;
pub mod compact;
pub mod decode;
pub mod decode_fast;
pub mod id;
mod record;

pub use body::{encode_fact_body, encode_fact_body_with, BodyValue};
pub use decode::{decode_fact_body, decode_packed_body, PackedRecord};
pub use decode_fast::{decode_fast_body, FastRecord};
pub use id::new_uuid;
pub use record::FactRecord;
