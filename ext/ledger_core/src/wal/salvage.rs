//! The salvage scanner (format.md "Recovery"): walks a WAL or snapshot frame by frame
//! and, on damage, resynchronizes on the next valid frame instead of giving up, so a
//! damaged span costs only its own bytes. The pure path (`recovery/scanner.rb`) runs
//! the same algorithm byte for byte: it decides which bytes are facts.
//!
//! A clean file is one streaming pass that checks lengths and CRCs. Only after damage
//! does the scanner look at every byte offset, and a candidate costs its CRC and a
//! decode only after two one-byte checks that every fact body passes.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::fact::decode_fact_body;
use crate::wal::cancel::Cancel;
use crate::wal::frame::{crc32, FRAME_CRC_SIZE, FRAME_HEADER_SIZE, MAX_FRAME_LEN};

const OVERHEAD: u64 = (FRAME_HEADER_SIZE + FRAME_CRC_SIZE) as u64;
/// Smallest body that can decode as a fact: `{}` is two bytes (and still fails).
pub(crate) const MIN_BODY: u64 = 2;
/// Bytes read per refill of a file window.
const CHUNK: usize = 1 << 20;
/// A resync refills its window when fewer bytes than this are left in it.
const RESYNC_STEP: u64 = 1 << 16;

/// Why a span of a file is not one of its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// An incomplete frame at the end of the file (short header, body or CRC).
    Torn,
    /// Exactly one frame whose CRC does not match its body.
    BadCrc,
    /// A length above [`MAX_FRAME_LEN`] at the end of the file.
    Oversized,
    /// A frame whose CRC matches but whose body is not a fact.
    Undecodable,
    /// Bytes between valid frames that are not one frame (inserted junk, a damaged
    /// length, several damaged frames in a row, a run of zero bytes), or the same at the
    /// end of the file.
    Garbage,
    /// Valid frames dropped by `recovery: :truncate` because they follow damage.
    AfterDamage,
}

impl Reason {
    /// The receipt / report spelling.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Torn => "torn",
            Reason::BadCrc => "bad_crc",
            Reason::Oversized => "oversized",
            Reason::Undecodable => "undecodable",
            Reason::Garbage => "garbage",
            Reason::AfterDamage => "after_damage",
        }
    }
}

/// One piece of a scanned file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `count` consecutive sound frames (CRC matches; kept) covering `offset..offset+length`.
    Frames {
        offset: u64,
        length: u64,
        count: u64,
    },
    /// Bytes that are not facts.
    Damage {
        offset: u64,
        length: u64,
        reason: Reason,
    },
}

impl Segment {
    pub fn offset(&self) -> u64 {
        match *self {
            Segment::Frames { offset, .. } | Segment::Damage { offset, .. } => offset,
        }
    }

    pub fn length(&self) -> u64 {
        match *self {
            Segment::Frames { length, .. } | Segment::Damage { length, .. } => length,
        }
    }
}

/// What the caller makes of a sound frame's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A fact (or not checked): keep it.
    Keep,
    /// Not a fact: a damage span of exactly this frame.
    Undecodable,
    /// The snapshot header at offset 0: neither a fact nor damage.
    Header,
}

/// The scan of a whole file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    pub len: u64,
    pub segments: Vec<Segment>,
    /// Whether a frame with a matching CRC starts at offset 0.
    pub frame_at_zero: bool,
}

impl Scan {
    /// The damage spans, in order.
    pub fn damage(&self) -> impl Iterator<Item = (u64, u64, Reason)> + '_ {
        self.segments.iter().filter_map(|s| match *s {
            Segment::Damage {
                offset,
                length,
                reason,
            } => Some((offset, length, reason)),
            Segment::Frames { .. } => None,
        })
    }

    /// The first damage span, if any.
    pub fn first_damage(&self) -> Option<(u64, u64, Reason)> {
        self.damage().next()
    }

    /// Whether any sound frame was found.
    pub fn has_frames(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Frames { .. }))
    }
}

/// Random access to the bytes of a file or buffer. `window(pos, n)` returns exactly
/// `n` bytes starting at `pos`; `chunk(pos, want)` every byte at hand from `pos` on, at
/// least `want` (the caller keeps both within `len`).
pub trait Source {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn window(&mut self, pos: u64, n: usize) -> io::Result<&[u8]>;
    fn chunk(&mut self, pos: u64, want: usize) -> io::Result<&[u8]>;
    fn byte_at(&mut self, pos: u64) -> io::Result<u8>;
}

/// A file read through one forward-moving window: a sequential scan reads every byte
/// once, and a resync never re-reads the file per candidate.
pub struct FileSource<'a> {
    file: &'a File,
    len: u64,
    start: u64,
    /// The window is `buf[..filled]`. The buffer keeps its length between
    /// refills, so it is zeroed once when it grows, not on every refill (the
    /// zeroing cost as much as the CRC on an open's scan).
    buf: Vec<u8>,
    filled: usize,
}

impl<'a> FileSource<'a> {
    pub fn new(file: &'a File, len: u64) -> FileSource<'a> {
        FileSource {
            file,
            len,
            start: 0,
            buf: Vec::new(),
            filled: 0,
        }
    }
}

impl Source for FileSource<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn window(&mut self, pos: u64, n: usize) -> io::Result<&[u8]> {
        let end = self.start + self.filled as u64;
        if pos < self.start || pos + n as u64 > end {
            let kept = if pos >= self.start && pos <= end {
                // Keep what is already read from `pos` on.
                let from = (pos - self.start) as usize;
                self.buf.copy_within(from..self.filled, 0);
                self.filled - from
            } else {
                0
            };
            self.start = pos;
            self.filled = kept;
            let want = n.max(CHUNK).min((self.len - pos) as usize).max(n);
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            let mut filled = kept;
            while filled < want {
                let read = self
                    .file
                    .read_at(&mut self.buf[filled..want], pos + filled as u64)?;
                if read == 0 {
                    // The file shrank under us: report it as the I/O error it is.
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shrank while scanning",
                    ));
                }
                filled += read;
                self.filled = filled;
            }
        }
        let at = (pos - self.start) as usize;
        Ok(&self.buf[at..at + n])
    }

    fn chunk(&mut self, pos: u64, want: usize) -> io::Result<&[u8]> {
        // Refill only when little is left, so stepping one byte at a time through a
        // resync moves no memory.
        self.window(pos, want)?;
        let at = (pos - self.start) as usize;
        Ok(&self.buf[at..self.filled])
    }

    fn byte_at(&mut self, pos: u64) -> io::Result<u8> {
        if pos >= self.start && pos < self.start + self.filled as u64 {
            return Ok(self.buf[(pos - self.start) as usize]);
        }
        let mut b = [0u8; 1];
        self.file.read_exact_at(&mut b, pos)?;
        Ok(b[0])
    }
}

/// Bytes already in memory.
pub struct SliceSource<'a>(pub &'a [u8]);

impl Source for SliceSource<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn window(&mut self, pos: u64, n: usize) -> io::Result<&[u8]> {
        let at = pos as usize;
        Ok(&self.0[at..at + n])
    }

    fn chunk(&mut self, pos: u64, _want: usize) -> io::Result<&[u8]> {
        Ok(&self.0[pos as usize..])
    }

    fn byte_at(&mut self, pos: u64) -> io::Result<u8> {
        Ok(self.0[pos as usize])
    }
}

/// How the frame at an offset failed.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// Fewer than 4 bytes left, or a length that runs past the end.
    Incomplete,
    Oversized,
    /// A length below [`MIN_BODY`]: no fact fits, whatever the CRC says. A run of zero
    /// bytes (preallocated space, or a crash that left zeros) reads as empty frames whose
    /// CRC matches; treating them as damage makes the whole run one span.
    Implausible,
    /// A complete frame ending at the given offset whose CRC does not match.
    BadCrc(u64),
}

/// Whether `b` may start a JSON object body (object or JSON whitespace).
fn opens(b: u8) -> bool {
    matches!(b, b'{' | b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `b` may end a JSON object body.
fn closes(b: u8) -> bool {
    matches!(b, b'}' | b' ' | b'\t' | b'\n' | b'\r')
}

/// Scans the whole of `src`. `verdict` judges each sound frame's body (offset of the
/// frame, body bytes); a resync target must in addition decode as a fact.
pub fn scan<S: Source>(
    src: &mut S,
    verdict: impl FnMut(u64, &[u8]) -> Verdict,
) -> io::Result<Scan> {
    scan_with(src, Cancel::never(), verdict)
}

/// [`scan`], stopping with an `Interrupted` error (see [`Cancel::check_io`]) at the
/// first frame or resync step after `cancel` is raised.
pub fn scan_with<S: Source>(
    src: &mut S,
    cancel: &Cancel,
    mut verdict: impl FnMut(u64, &[u8]) -> Verdict,
) -> io::Result<Scan> {
    let len = src.len();
    let mut out = Scan {
        len,
        segments: Vec::new(),
        frame_at_zero: false,
    };
    let mut pos = 0u64;
    while pos < len {
        cancel.check_io()?;
        match frame_at(src, pos)? {
            Ok(body_len) => {
                if pos == 0 {
                    out.frame_at_zero = true;
                }
                let size = body_len + OVERHEAD;
                let body = &src.window(pos, size as usize)?
                    [FRAME_HEADER_SIZE..(size as usize - FRAME_CRC_SIZE)];
                match verdict(pos, body) {
                    Verdict::Keep => push_frames(&mut out.segments, pos, size),
                    Verdict::Undecodable => out.segments.push(Segment::Damage {
                        offset: pos,
                        length: size,
                        reason: Reason::Undecodable,
                    }),
                    Verdict::Header => {}
                }
                pos += size;
            }
            Err(failure) => {
                let next = resync_with(src, pos + 1, cancel)?;
                let reason = classify(failure, next, len);
                out.segments.push(Segment::Damage {
                    offset: pos,
                    length: next - pos,
                    reason,
                });
                pos = next;
            }
        }
    }
    Ok(out)
}

fn push_frames(segments: &mut Vec<Segment>, pos: u64, size: u64) {
    if let Some(Segment::Frames {
        offset,
        length,
        count,
    }) = segments.last_mut()
    {
        if *offset + *length == pos {
            *length += size;
            *count += 1;
            return;
        }
    }
    segments.push(Segment::Frames {
        offset: pos,
        length: size,
        count: 1,
    });
}

/// The reason of a damage span `pos..next` that began with `failure` (format.md).
fn classify(failure: Failure, next: u64, len: u64) -> Reason {
    match failure {
        Failure::BadCrc(end) if end == next => Reason::BadCrc,
        _ if next < len => Reason::Garbage,
        Failure::Incomplete => Reason::Torn,
        Failure::Oversized => Reason::Oversized,
        Failure::Implausible | Failure::BadCrc(_) => Reason::Garbage,
    }
}

/// The frame at `pos`: its body length when the CRC matches.
fn frame_at<S: Source>(src: &mut S, pos: u64) -> io::Result<Result<u64, Failure>> {
    let left = src.len() - pos;
    if left < FRAME_HEADER_SIZE as u64 {
        return Ok(Err(Failure::Incomplete));
    }
    let body_len = header_len(src, pos)?;
    if body_len > MAX_FRAME_LEN as u64 {
        return Ok(Err(Failure::Oversized));
    }
    if body_len < MIN_BODY {
        return Ok(Err(Failure::Implausible));
    }
    if body_len + OVERHEAD > left {
        return Ok(Err(Failure::Incomplete));
    }
    if crc_matches(src, pos, body_len)? {
        Ok(Ok(body_len))
    } else {
        Ok(Err(Failure::BadCrc(pos + body_len + OVERHEAD)))
    }
}

fn header_len<S: Source>(src: &mut S, pos: u64) -> io::Result<u64> {
    let h = src.window(pos, FRAME_HEADER_SIZE)?;
    Ok(u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]])))
}

fn crc_matches<S: Source>(src: &mut S, pos: u64, body_len: u64) -> io::Result<bool> {
    let frame = src.window(pos, (body_len + OVERHEAD) as usize)?;
    let body = &frame[FRAME_HEADER_SIZE..frame.len() - FRAME_CRC_SIZE];
    let stored = &frame[frame.len() - FRAME_CRC_SIZE..];
    Ok(u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]) == crc32(body))
}

/// The smallest offset `>= from` where a valid frame starts (plausible length that fits
/// the file, matching CRC, a body that decodes as a fact), or the file length.
pub fn resync<S: Source>(src: &mut S, from: u64) -> io::Result<u64> {
    resync_with(src, from, Cancel::never())
}

fn resync_with<S: Source>(src: &mut S, from: u64, cancel: &Cancel) -> io::Result<u64> {
    let len = src.len();
    let min_frame = MIN_BODY + OVERHEAD;
    let mut q = from;
    while q + min_frame <= len {
        cancel.check_io()?;
        let w = src.chunk(q, (len - q).min(RESYNC_STEP) as usize)?;
        // A candidate's length is at most MAX_FRAME_LEN (first byte <= 3) and its body
        // opens like JSON; both hold for every fact frame.
        let limit = w.len() - FRAME_HEADER_SIZE;
        let hit = (0..limit).find(|&i| w[i] <= 3 && opens(w[i + FRAME_HEADER_SIZE]));
        match hit {
            None => q += limit as u64,
            Some(i) => {
                let at = q + i as u64;
                if valid_frame_at(src, at)? {
                    return Ok(at);
                }
                q = at + 1;
            }
        }
    }
    Ok(len)
}

/// Whether a frame at `at` would be accepted as a resync target.
fn valid_frame_at<S: Source>(src: &mut S, at: u64) -> io::Result<bool> {
    let body_len = header_len(src, at)?;
    if !(MIN_BODY..=MAX_FRAME_LEN as u64).contains(&body_len)
        || at + OVERHEAD + body_len > src.len()
    {
        return Ok(false);
    }
    let body_start = at + FRAME_HEADER_SIZE as u64;
    if !opens(src.byte_at(body_start)?) || !closes(src.byte_at(body_start + body_len - 1)?) {
        return Ok(false);
    }
    if !crc_matches(src, at, body_len)? {
        return Ok(false);
    }
    let frame = src.window(at, (body_len + OVERHEAD) as usize)?;
    Ok(decode_fact_body(&frame[FRAME_HEADER_SIZE..frame.len() - FRAME_CRC_SIZE]).is_ok())
}

/// The not-a-ledger rule (format.md): a file is a ledger when it is empty, a frame
/// with a matching CRC starts at offset 0, a resync finds a valid frame anywhere, it
/// is one torn first frame (a length of at most [`MAX_FRAME_LEN`] that runs past the
/// end, and the body bytes present, if any, start with `{`), or it holds only zero
/// bytes (a preallocated WAL, or one whose first writes a crash left as zeros).
pub fn is_ledger<S: Source>(src: &mut S, cancel: &Cancel) -> io::Result<bool> {
    let len = src.len();
    if len == 0 {
        return Ok(true);
    }
    let probe = src
        .window(0, (FRAME_HEADER_SIZE as u64 + 1).min(len) as usize)?
        .to_vec();
    if torn_first_frame(&probe, len) || frame_at(src, 0)?.is_ok() {
        return Ok(true);
    }
    if resync_with(src, 1, cancel)? < len {
        return Ok(true);
    }
    all_zero(src, cancel)
}

/// Whether every byte of `src` is zero.
fn all_zero<S: Source>(src: &mut S, cancel: &Cancel) -> io::Result<bool> {
    let len = src.len();
    let mut pos = 0u64;
    while pos < len {
        cancel.check_io()?;
        let n = (len - pos).min(CHUNK as u64) as usize;
        if src.window(pos, n)?.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        pos += n as u64;
    }
    Ok(true)
}

/// `first_bytes`: the first (up to 5) bytes of a file of `len` bytes.
fn torn_first_frame(first_bytes: &[u8], len: u64) -> bool {
    match first_bytes {
        [a, b, c, d, rest @ ..] => {
            let body_len = u64::from(u32::from_be_bytes([*a, *b, *c, *d]));
            body_len <= MAX_FRAME_LEN as u64
                && body_len + OVERHEAD > len
                && rest.first().is_none_or(|&x| x == b'{')
        }
        // Part of a length: plausible when it can still be at most MAX_FRAME_LEN.
        [b0, ..] => *b0 <= 3,
        [] => false,
    }
}
