//! The `json_crc32` segment codec (doc/format.md "Segmented storage"): one frame per
//! fact, body = the fact's JSON record, byte-identical to a single-file WAL frame. Mirrors
//! `lib/igniter/store/codecs/json_crc32.rb`.

use std::convert::Infallible;

use rayon::prelude::*;

use crate::codec::segment_salvage::{self as salvage, Kept, Reason, Resync, Salvaged, Span};
use crate::error::Result;
use crate::fact::{decode_fact_body, encode_fact_body, FactRecord};
use crate::wal::frame::{encode_frame, scan_frames, Tail, MAX_FRAME_LEN};
use crate::wal::replay::{decode_bodies_parallel, pool};
use crate::Error;

/// Below this many frames bodies are decoded on the calling thread.
const PARALLEL_THRESHOLD: usize = 64;

/// The facts of a segment's bytes, up to the first damaged frame.
#[derive(Debug)]
pub struct Decoded {
    /// Facts in file order; undecodable bodies are skipped.
    pub facts: Vec<FactRecord>,
    /// Bytes of the good frames.
    pub valid_len: usize,
    pub tail: Tail,
}

/// Appends the frame of one fact to `out` (left as it was on failure).
pub fn encode_fact_frame(rec: &FactRecord, out: &mut Vec<u8>) -> Result<()> {
    let mut body = Vec::with_capacity(320);
    encode_fact_body(rec, &mut body)?;
    if body.len() > MAX_FRAME_LEN {
        return Err(Error::FrameTooLarge(body.len()));
    }
    encode_frame(&body, out);
    Ok(())
}

/// Decodes a whole segment: frames scanned and CRC-checked in order, bodies decoded in
/// parallel (order kept).
pub fn decode_segment(buf: &[u8]) -> Decoded {
    let scan = scan_frames(buf);
    let facts = decode_bodies_parallel(buf, &scan.bodies);
    Decoded {
        facts,
        valid_len: scan.valid_len,
        tail: scan.tail,
    }
}

/// After damage, the next frame is one whose body decodes as a fact.
struct FactFrames;

impl Resync for FactFrames {
    type Error = Infallible;

    fn plausible(&self, body: &[u8]) -> bool {
        salvage::json_object_start(body)
    }

    fn accepts(&self, body: &[u8]) -> std::result::Result<bool, Infallible> {
        Ok(decode_fact_body(body).is_ok())
    }
}

/// Salvages a whole segment: every fact of a CRC-valid frame whose body decodes, before
/// and after damage, plus the damaged spans (format.md "Segments: salvage"). Frames are
/// found in order; their bodies are decoded in parallel.
pub fn salvage_segment(buf: &[u8]) -> Salvaged<FactRecord> {
    let (frames, mut spans) = match salvage::split(buf, &FactFrames) {
        Ok(parts) => parts,
        Err(never) => match never {},
    };
    let decode = |f: &salvage::Frame| decode_fact_body(&buf[f.body.clone()]).ok();
    let decoded: Vec<Option<FactRecord>> = if frames.len() < PARALLEL_THRESHOLD {
        frames.iter().map(decode).collect()
    } else {
        pool(|| frames.par_iter().map(decode).collect())
    };
    let mut out = Salvaged::default();
    for (frame, record) in frames.iter().zip(decoded) {
        match record {
            Some(rec) => {
                out.facts.push(rec);
                out.frames.push(Kept {
                    offset: frame.offset,
                    len: frame.len,
                    facts: 1,
                });
            }
            None => spans.push(Span {
                offset: frame.offset,
                len: frame.len,
                reason: Reason::Undecodable,
            }),
        }
    }
    out.spans = salvage::merge(spans);
    out
}

/// Facts stored in a segment without decoding them: its good frames.
pub fn count_facts(buf: &[u8]) -> (u64, usize, Tail) {
    let scan = scan_frames(buf);
    (scan.bodies.len() as u64, scan.valid_len, scan.tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;
    use std::path::PathBuf;

    fn fixture(rel: &str) -> Vec<u8> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../spec/fixtures/igniter-ledger-0.5.2");
        std::fs::read(root.join(rel)).expect("fixture present")
    }

    const SEGMENT: &str = "segmented_json_crc32/wal/store=gps/date=2026-11-26/segment-000001.wal";

    #[test]
    fn decodes_the_0_5_2_segment_and_reencodes_it_byte_for_byte() {
        let bytes = fixture(SEGMENT);
        let decoded = decode_segment(&bytes);
        assert_eq!(decoded.facts.len(), 12);
        assert_eq!(decoded.tail, Tail::Clean);
        assert_eq!(decoded.valid_len, bytes.len());
        assert_eq!(decoded.facts[0].store, "gps");
        assert_eq!(count_facts(&bytes), (12, bytes.len(), Tail::Clean));
        assert!(matches!(decoded.facts[0].value, Json::Object(_)));
        let mut again = Vec::new();
        for fact in &decoded.facts {
            encode_fact_frame(fact, &mut again).expect("encodable");
        }
        assert_eq!(again, bytes);
    }

    #[test]
    fn stops_at_a_torn_or_corrupt_frame() {
        let bytes = fixture(SEGMENT);
        let first = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize + 8;
        let torn = decode_segment(&bytes[..first + 10]);
        assert_eq!(
            (torn.facts.len(), torn.valid_len, torn.tail),
            (1, first, Tail::Torn)
        );
        let mut flipped = bytes.clone();
        flipped[first + 6] ^= 0x01;
        let bad = decode_segment(&flipped);
        assert_eq!(
            (bad.facts.len(), bad.valid_len, bad.tail),
            (1, first, Tail::BadCrc)
        );
    }
}
