//! The segment codecs of the segmented backend (doc/format.md "Segmented
//! storage"): `json_crc32` (one fact frame per fact) and `compact_delta_zlib`
//! (MessagePack batches), and the salvage of damaged segments both share.

pub mod compact_delta;
pub mod json_crc32;
pub mod msgpack;
pub mod segment_salvage;
