//! Pure-Rust core of igniter-ledger, the append-only fact ledger.
//!
//! Everything here is plain data and files, grouped by concept:
//! - [`json`]: the JSON model ([`Json`]), the byte-exact encoders that match Ruby's
//!   `JSON.generate` and `Float#to_s`, the canonical order and `value_hash`, the
//!   strict parser;
//! - [`fact`]: the fact record, its frame body and the decode rules;
//! - [`wal`]: CRC frames, the WAL writer, snapshots, replay, salvage, recovery,
//!   quarantine and the ledger lock;
//! - [`codec`]: the segment codecs of the segmented backend;
//! - [`index`]: the in-memory fact log's index.
//!
//! The on-disk format is `doc/format.md`; this crate writes exactly those bytes.
//! No Ruby types appear here; the binding crate maps Ruby values onto [`Json`].
//! The names used most are re-exported here, so call sites stay short.

pub mod codec;
pub mod error;
pub mod fact;
pub mod index;
pub mod json;
pub mod lru;
pub mod pid;
pub mod wal;

pub use error::{Error, Result};
pub use fact::{
    decode_fact_body, encode_fact_body, encode_fact_body_with, new_uuid, BodyValue, FactRecord,
};
pub use json::canonical::write_canonical;
pub use json::encode::{write_json, write_json_string, MAX_NESTING};
pub use json::float_fmt::write_ruby_float;
pub use json::hash::{sha256_hex, value_hash};
pub use json::parse::{parse, parse_nested, MAX_PARSE_NESTING};
pub use json::Json;
pub use wal::cancel::Cancel;
pub use wal::durability::Durability;
pub use wal::frame::{
    crc32, decode_frame_at, encode_frame, scan_frames, Scan, Tail, FRAME_CRC_SIZE,
    FRAME_HEADER_SIZE, MAX_FRAME_LEN,
};
pub use wal::recover::{QuarantinedSpan, Recovery, RecoveryMode};
pub use wal::replay::{decode_bodies_parallel, replay, replay_with, ReadOptions};
pub use wal::salvage::Reason;
pub use wal::snapshot::{read_snapshot, snapshot_path_for, snapshot_tmp_path_for};
pub use wal::writer::{Wal, WalOptions};
