//! CRC frames: `[u32 BE length][body][u32 BE CRC-32 of body]` (format.md "Frame").
//!
//! Readers refuse a length above [`MAX_FRAME_LEN`] (a 4-byte prefix must not make us
//! allocate gigabytes) and one that runs past the end of the buffer; that frame and all
//! after it are the damaged tail.

use std::ops::Range;

pub const FRAME_HEADER_SIZE: usize = 4;
pub const FRAME_CRC_SIZE: usize = 4;
/// Largest body a reader accepts; writers must not produce longer ones.
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// IEEE / zlib CRC-32.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Appends the frame for `body` to `out`.
///
/// The caller must keep `body.len() <= MAX_FRAME_LEN` (the WAL and snapshot writers check
/// it): a longer frame would be read back as a damaged tail.
pub fn encode_frame(body: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    out.reserve(body.len() + FRAME_HEADER_SIZE + FRAME_CRC_SIZE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&crc32(body).to_be_bytes());
}

/// How a frame sequence ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// The last frame ends exactly at the end of the buffer.
    Clean,
    /// A short header, body or CRC (also a length that runs past the end).
    Torn,
    /// A complete frame whose CRC does not match its body.
    BadCrc,
    /// A length above [`MAX_FRAME_LEN`].
    Oversized,
}

/// The good prefix of a frame sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Byte ranges of the bodies, in order.
    pub bodies: Vec<Range<usize>>,
    /// End of the last good frame.
    pub valid_len: usize,
    pub tail: Tail,
}

/// Inspects the frame at `offset`: the body range and next offset, or why it is damaged.
fn frame_at(buf: &[u8], offset: usize) -> Result<(Range<usize>, usize), Tail> {
    let header_end = offset.checked_add(FRAME_HEADER_SIZE).ok_or(Tail::Torn)?;
    let header: [u8; 4] = buf
        .get(offset..header_end)
        .and_then(|h| h.try_into().ok())
        .ok_or(Tail::Torn)?;
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME_LEN {
        return Err(Tail::Oversized);
    }
    let body_end = header_end.checked_add(len).ok_or(Tail::Torn)?;
    let crc_end = body_end.checked_add(FRAME_CRC_SIZE).ok_or(Tail::Torn)?;
    let body = buf.get(header_end..body_end).ok_or(Tail::Torn)?;
    let crc: [u8; 4] = buf
        .get(body_end..crc_end)
        .and_then(|c| c.try_into().ok())
        .ok_or(Tail::Torn)?;
    if u32::from_be_bytes(crc) != crc32(body) {
        return Err(Tail::BadCrc);
    }
    Ok((header_end..body_end, crc_end))
}

/// One frame at `offset`: its body range and the offset after it, or `None` when the frame
/// is missing, short, oversized or fails its CRC (Ruby's `read_frame` returning nil).
pub fn decode_frame_at(buf: &[u8], offset: usize) -> Option<(Range<usize>, usize)> {
    frame_at(buf, offset).ok()
}

/// Frames from offset 0 until the end or the first damaged frame.
pub fn scan_frames(buf: &[u8]) -> Scan {
    let mut bodies = Vec::new();
    let mut offset = 0;
    let tail = loop {
        if offset >= buf.len() {
            break Tail::Clean;
        }
        match frame_at(buf, offset) {
            Ok((body, next)) => {
                bodies.push(body);
                offset = next;
            }
            Err(tail) => break tail,
        }
    };
    Scan {
        bodies,
        valid_len: offset,
        tail,
    }
}
