//! Pure-Rust core of igniter-ledger, the append-only fact ledger.
//!
//! Everything here is plain data and files: the JSON model ([`Json`]), the byte-exact
//! encoders that match Ruby's `JSON.generate` and `Float#to_s`, the strict parser, the
//! `value_hash`, CRC frames, fact bodies, the WAL writer, snapshots and replay.
//! The on-disk format is `doc/format.md`; this crate writes exactly those bytes.
//! No Ruby types appear here; the binding crate maps Ruby values onto [`Json`].

pub mod cancel;
pub mod codec_compact_delta;
pub mod codec_json_crc32;
pub mod codec_msgpack;
pub mod durability;
pub mod encode;
pub mod error;
pub mod fact_decode;
pub mod fact_id;
pub mod fact_record;
pub mod float_fmt;
pub mod frame;
pub mod fs_util;
pub mod hash;
pub mod index;
pub mod json;
pub mod lock;
pub mod parse;
pub mod pid;
pub mod quarantine;
pub mod recover;
pub mod replay;
pub mod salvage;
pub mod segment_salvage;
pub mod snapshot;
pub mod wal;

pub use cancel::Cancel;
pub use durability::Durability;
pub use encode::{write_canonical, write_json, write_json_string, MAX_NESTING};
pub use error::{Error, Result};
pub use fact_record::{decode_fact_body, encode_fact_body, new_uuid, FactRecord};
pub use float_fmt::write_ruby_float;
pub use frame::{
    crc32, decode_frame_at, encode_frame, scan_frames, Scan, Tail, FRAME_CRC_SIZE,
    FRAME_HEADER_SIZE, MAX_FRAME_LEN,
};
pub use hash::{sha256_hex, value_hash};
pub use json::Json;
pub use parse::{parse, parse_nested, MAX_PARSE_NESTING};
pub use recover::{QuarantinedSpan, Recovery, RecoveryMode};
pub use replay::{decode_bodies_parallel, replay, replay_with, ReadOptions};
pub use salvage::Reason;
pub use snapshot::{read_snapshot, snapshot_path_for, snapshot_tmp_path_for};
pub use wal::{Wal, WalOptions};
