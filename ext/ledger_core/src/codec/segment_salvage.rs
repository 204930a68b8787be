//! Salvage of damaged segment bytes (format.md "Segments: salvage"): the bytes are split
//! into CRC-valid frames and damaged spans, resynchronizing after each damaged span on
//! the next offset where a frame with a plausible length, a matching CRC and a body the
//! codec accepts starts. Mirrors `lib/igniter/store/codecs/salvage.rb`; both halves
//! produce the same frames and spans for the same bytes.
//!
//! Nothing here reads or writes files: the Ruby backend copies the spans into the
//! segment's quarantine sidecar and decides what is cut.

use std::ops::Range;

use crate::wal::frame::{
    decode_frame_at, scan_frames, Tail, FRAME_CRC_SIZE, FRAME_HEADER_SIZE, MAX_FRAME_LEN,
};

/// Why bytes of a segment are not served: the reasons of the WAL's salvage,
/// with the same receipt spellings (a segment has no `AfterDamage`).
pub use crate::wal::salvage::Reason;

/// Damaged bytes `[offset, offset + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
    pub reason: Reason,
}

/// A CRC-valid frame: where it starts, its whole length and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub offset: usize,
    pub len: usize,
    pub body: Range<usize>,
}

/// A frame that was kept, and how many facts it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    pub offset: usize,
    pub len: usize,
    pub facts: usize,
}

/// What a codec's salvage found: facts in file order, kept frames and damaged spans
/// (both sorted by offset; together they cover the bytes exactly).
#[derive(Debug)]
pub struct Salvaged<F> {
    pub facts: Vec<F>,
    pub frames: Vec<Kept>,
    pub spans: Vec<Span>,
}

impl<F> Default for Salvaged<F> {
    fn default() -> Self {
        Self {
            facts: Vec::new(),
            frames: Vec::new(),
            spans: Vec::new(),
        }
    }
}

/// How a codec recognizes the next frame after damage.
pub trait Resync {
    /// Why the codec cannot decide (the caller then decodes the segment another way).
    type Error;
    /// A cheap necessary condition on a body, checked before its CRC is computed.
    fn plausible(&self, body: &[u8]) -> bool;
    /// Whether a CRC-valid body found while resynchronizing is taken as the next frame.
    fn accepts(&self, body: &[u8]) -> Result<bool, Self::Error>;
}

/// Splits `buf` into CRC-valid frames and damaged spans (not merged, sorted).
pub fn split<R: Resync>(buf: &[u8], resync: &R) -> Result<(Vec<Frame>, Vec<Span>), R::Error> {
    let mut frames = Vec::new();
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let scan = scan_frames(&buf[pos..]);
        for body in &scan.bodies {
            frames.push(Frame {
                offset: pos + body.start - FRAME_HEADER_SIZE,
                len: body.len() + FRAME_HEADER_SIZE + FRAME_CRC_SIZE,
                body: pos + body.start..pos + body.end,
            });
        }
        pos += scan.valid_len;
        if scan.tail == Tail::Clean {
            break;
        }
        let next = resync_from(buf, pos + 1, resync)?;
        let end = next.unwrap_or(buf.len());
        spans.push(Span {
            offset: pos,
            len: end - pos,
            reason: reason_at(buf, pos, end, scan.tail),
        });
        pos = end;
    }
    Ok((frames, spans))
}

/// The first offset at or after `from` where a frame the codec accepts starts.
fn resync_from<R: Resync>(buf: &[u8], from: usize, resync: &R) -> Result<Option<usize>, R::Error> {
    let overhead = FRAME_HEADER_SIZE + FRAME_CRC_SIZE;
    let mut q = from;
    while q + overhead <= buf.len() {
        let len = u32::from_be_bytes([buf[q], buf[q + 1], buf[q + 2], buf[q + 3]]) as usize;
        if len <= MAX_FRAME_LEN && q + overhead + len <= buf.len() {
            let body = &buf[q + FRAME_HEADER_SIZE..q + FRAME_HEADER_SIZE + len];
            if resync.plausible(body) {
                if let Some((range, _)) = decode_frame_at(buf, q) {
                    if resync.accepts(&buf[range])? {
                        return Ok(Some(q));
                    }
                }
            }
        }
        q += 1;
    }
    Ok(None)
}

/// The reason of the damaged span `[pos, end)` whose first frame failed with `first`.
fn reason_at(buf: &[u8], pos: usize, end: usize, first: Tail) -> Reason {
    let tail_reason = match first {
        Tail::BadCrc => Reason::BadCrc,
        Tail::Oversized => Reason::Oversized,
        Tail::Torn | Tail::Clean => Reason::Torn,
    };
    if end == buf.len() {
        return tail_reason;
    }
    let claimed = buf
        .get(pos..pos + FRAME_HEADER_SIZE)
        .map(|h| u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize);
    match claimed {
        Some(len) if len > MAX_FRAME_LEN => Reason::Oversized,
        Some(len)
            if first == Tail::BadCrc && pos + len + FRAME_HEADER_SIZE + FRAME_CRC_SIZE == end =>
        {
            Reason::BadCrc
        }
        _ => Reason::Garbage,
    }
}

/// Sorts spans by offset and joins neighbours that touch and share a reason (a run of
/// zero bytes, say, is many empty frames but one damaged span).
pub fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| s.offset);
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match out.last_mut() {
            Some(last) if last.offset + last.len == span.offset && last.reason == span.reason => {
                last.len += span.len;
            }
            _ => out.push(span),
        }
    }
    out
}

/// True when the body's first byte that is not JSON whitespace opens an object: a
/// necessary condition for a fact body.
pub fn json_object_start(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|b| *b == b'{')
}

/// True when the first byte opens a MessagePack map (fixmap, map 16, map 32).
pub fn msgpack_map_start(body: &[u8]) -> bool {
    matches!(body.first(), Some(0x80..=0x8F | 0xDE | 0xDF))
}

/// True when `bytes` start with a zlib header that inflating without a preset
/// dictionary accepts (RFC 1950: deflate, window ≤ 32 KiB, check bits, no FDICT).
pub fn zlib_header(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::frame::encode_frame;
    use std::convert::Infallible;

    /// Accepts bodies that start with `{`, like the json codec's plausibility check.
    struct Braces;
    impl Resync for Braces {
        type Error = Infallible;
        fn plausible(&self, body: &[u8]) -> bool {
            json_object_start(body)
        }
        fn accepts(&self, _body: &[u8]) -> Result<bool, Infallible> {
            Ok(true)
        }
    }

    fn framed(bodies: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for b in bodies {
            encode_frame(b, &mut out);
        }
        out
    }

    fn split_ok(buf: &[u8]) -> (Vec<Frame>, Vec<Span>) {
        match split(buf, &Braces) {
            Ok(parts) => parts,
            Err(never) => match never {},
        }
    }

    #[test]
    fn a_clean_buffer_is_all_frames() {
        let buf = framed(&[b"{a}", b"{bb}"]);
        let (frames, spans) = split_ok(&buf);
        assert_eq!(
            frames.iter().map(|f| (f.offset, f.len)).collect::<Vec<_>>(),
            vec![(0, 11), (11, 12)]
        );
        assert!(spans.is_empty());
    }

    #[test]
    fn a_bad_crc_in_the_middle_costs_that_frame_only() {
        let mut buf = framed(&[b"{a}", b"{bb}", b"{c}"]);
        buf[11 + 5] ^= 0x40;
        let (frames, spans) = split_ok(&buf);
        assert_eq!(
            frames.iter().map(|f| f.offset).collect::<Vec<_>>(),
            vec![0, 23]
        );
        assert_eq!(
            spans,
            vec![Span {
                offset: 11,
                len: 12,
                reason: Reason::BadCrc
            }]
        );
    }

    #[test]
    fn inserted_bytes_are_garbage_and_a_cut_frame_at_the_end_is_torn() {
        let mut buf = framed(&[b"{a}"]);
        buf.extend_from_slice(b"\x01\x02\x03");
        buf.extend_from_slice(&framed(&[b"{b}", b"{c}"]));
        buf.truncate(buf.len() - 2);
        let (frames, spans) = split_ok(&buf);
        assert_eq!(
            frames.iter().map(|f| f.offset).collect::<Vec<_>>(),
            vec![0, 14]
        );
        assert_eq!(
            spans,
            vec![
                Span {
                    offset: 11,
                    len: 3,
                    reason: Reason::Garbage
                },
                Span {
                    offset: 25,
                    len: 9,
                    reason: Reason::Torn
                }
            ]
        );
    }

    #[test]
    fn an_oversized_length_is_named_so_in_the_middle_and_at_the_end() {
        let mut buf = framed(&[b"{a}", b"{b}"]);
        buf[0] = 0xFF;
        let (_, spans) = split_ok(&buf);
        assert_eq!(
            spans,
            vec![Span {
                offset: 0,
                len: 11,
                reason: Reason::Oversized
            }]
        );
        buf.truncate(11);
        assert_eq!(split_ok(&buf).1[0].reason, Reason::Oversized);
    }

    #[test]
    fn merge_joins_touching_spans_of_one_reason() {
        let s = |offset, len, reason| Span {
            offset,
            len,
            reason,
        };
        let merged = merge(vec![
            s(16, 8, Reason::Undecodable),
            s(0, 8, Reason::Undecodable),
            s(8, 8, Reason::Undecodable),
            s(24, 3, Reason::Garbage),
            s(30, 1, Reason::Garbage),
        ]);
        assert_eq!(
            merged,
            vec![
                s(0, 24, Reason::Undecodable),
                s(24, 3, Reason::Garbage),
                s(30, 1, Reason::Garbage)
            ]
        );
    }

    #[test]
    fn header_checks() {
        assert!(json_object_start(b" \n{\"a\":1}"));
        assert!(!json_object_start(b"[1]"));
        assert!(!json_object_start(b""));
        assert!(msgpack_map_start(&[0x84]));
        assert!(!msgpack_map_start(&[0x00]));
        assert!(zlib_header(&[0x78, 0xDA]));
        assert!(zlib_header(&[0x78, 0x9C]));
        assert!(!zlib_header(&[0x78, 0xDB]));
        assert!(!zlib_header(&[0x78]));
    }
}
