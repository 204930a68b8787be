//! The WAL writer (format.md "WAL", "Open"). One handle per WAL file: there is no lock,
//! and recovery on open assumes nobody else is appending.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::frame::{crc32, encode_frame, Tail, FRAME_CRC_SIZE, FRAME_HEADER_SIZE, MAX_FRAME_LEN};
use crate::fs_util::sync_parent_dir;
use crate::snapshot::{snapshot_path_for, snapshot_tmp_path_for, write_snapshot_file};

/// What `Wal::open` found and repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// File size before recovery.
    pub original_len: u64,
    /// End of the last good frame; the file now has this size.
    pub valid_len: u64,
    /// Bytes cut off (`original_len - valid_len`).
    pub truncated_bytes: u64,
    /// How the frame sequence ended before the cut.
    pub tail: Tail,
}

/// An open WAL: appends frames, writes snapshots. All fields are Send + Sync.
#[derive(Debug)]
pub struct Wal {
    path: PathBuf,
    /// `None` once closed.
    file: Option<File>,
    durability: Durability,
    recovery: Recovery,
    /// Our idea of the file size: a failed write is rolled back to it so a torn frame
    /// never sits in front of later appends.
    len: u64,
    /// Frames written since the last fsync (Group policy).
    pending: usize,
    last_sync: Instant,
    /// Reused frame buffer.
    buf: Vec<u8>,
}

/// Frames larger than this are not kept in the reusable buffer after the write.
const KEEP_BUF_CAPACITY: usize = 1 << 20;

impl Wal {
    /// Opens (creating if absent) the WAL at `path` for appending. Its frames are scanned
    /// and the file is cut back to the end of the last good frame (fsynced), so new
    /// frames never land behind a torn or corrupt tail. A stale `<path>.snap.tmp` is
    /// deleted unread. A missing parent directory is `Error::Io(NotFound)`. Under a
    /// policy that fsyncs, creating the file also fsyncs its directory: fdatasync of the
    /// frames alone would not make the new directory entry durable.
    pub fn open(path: &Path, durability: Durability) -> Result<Wal> {
        let created = !path.exists();
        let file = open_append(path)?;
        if created && durability != Durability::Flush {
            sync_parent_dir(path)?;
        }
        let recovery = recover(&file)?;
        // Best effort: the tmp file is never read, so a failure to delete it is harmless.
        let _ = fs::remove_file(snapshot_tmp_path_for(path));
        Ok(Wal {
            path: path.to_path_buf(),
            file: Some(file),
            durability,
            len: recovery.valid_len,
            recovery,
            pending: 0,
            last_sync: Instant::now(),
            buf: Vec::new(),
        })
    }

    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// `<path>.snap`.
    pub fn snapshot_path(&self) -> PathBuf {
        snapshot_path_for(&self.path)
    }

    pub fn is_closed(&self) -> bool {
        self.file.is_none()
    }

    /// Appends one frame with a single `write_all`, then applies the durability policy.
    pub fn append_body(&mut self, body: &[u8]) -> Result<()> {
        self.append_frames(std::slice::from_ref(&body))
    }

    /// Appends one frame per body, all in one `write_all`.
    pub fn append_bodies(&mut self, bodies: &[Vec<u8>]) -> Result<()> {
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        self.append_frames(&refs)
    }

    fn append_frames(&mut self, bodies: &[&[u8]]) -> Result<()> {
        let file = self.file.as_ref().ok_or(Error::Closed)?;
        if bodies.is_empty() {
            return Ok(());
        }
        if let Some(big) = bodies.iter().find(|b| b.len() > MAX_FRAME_LEN) {
            // A reader would take such a frame for a damaged tail, and the next open would
            // cut it off together with everything after it.
            return Err(Error::FrameTooLarge(big.len()));
        }
        self.buf.clear();
        for body in bodies {
            encode_frame(body, &mut self.buf);
        }
        let mut w: &File = file;
        if let Err(e) = w.write_all(&self.buf) {
            // A partial write would leave a torn frame that hides every later append from
            // replay; cut it off again (best effort: the write error is what matters).
            let _ = file.set_len(self.len);
            return Err(e.into());
        }
        self.len += self.buf.len() as u64;
        if self.buf.capacity() > KEEP_BUF_CAPACITY {
            self.buf = Vec::new();
        }
        self.pending += bodies.len();
        self.apply_durability()
    }

    fn apply_durability(&mut self) -> Result<()> {
        match self.durability {
            Durability::Flush => Ok(()),
            Durability::Fsync => self.sync(),
            Durability::Group { every, interval } => {
                if self.pending >= every.max(1) || self.last_sync.elapsed() >= interval {
                    self.sync()
                } else {
                    Ok(())
                }
            }
        }
    }

    /// fdatasync the WAL now.
    pub fn sync(&mut self) -> Result<()> {
        let file = self.file.as_ref().ok_or(Error::Closed)?;
        file.sync_data()?;
        self.pending = 0;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Closes the WAL; idempotent. Under Group commit, pending frames are fsynced first.
    pub fn close(&mut self) -> Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        let result = if self.pending > 0 && matches!(self.durability, Durability::Group { .. }) {
            self.sync()
        } else {
            Ok(())
        };
        self.file = None;
        result
    }

    /// Atomic, durable checkpoint of `bodies` (fact bodies, in order) to `<path>.snap`.
    /// The WAL itself is untouched; works on a closed Wal too.
    pub fn write_snapshot(&self, bodies: &[Vec<u8>]) -> Result<()> {
        write_snapshot_file(&self.path, bodies)
    }

    /// Pruning barrier: snapshot `bodies`, then empty the WAL (fsynced) and reopen it for
    /// appending. The snapshot is durable before the WAL is cut. Reopens a closed Wal.
    pub fn replace_with_snapshot(&mut self, bodies: &[Vec<u8>]) -> Result<()> {
        self.write_snapshot(bodies)?;
        self.file = None;
        let file = open_append(&self.path)?;
        file.set_len(0)?;
        file.sync_all()?;
        self.file = Some(file);
        self.len = 0;
        self.pending = 0;
        self.last_sync = Instant::now();
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// Scans `file` and truncates it to the end of its last good frame.
fn recover(file: &File) -> Result<Recovery> {
    let original_len = file.metadata()?.len();
    let (valid_len, tail) = scan_file(file, original_len)?;
    if valid_len < original_len {
        file.set_len(valid_len)?;
        file.sync_all()?;
    }
    Ok(Recovery {
        original_len,
        valid_len,
        truncated_bytes: original_len - valid_len,
        tail,
    })
}

/// Streaming version of `frame::scan_frames` over a file of `len` bytes: it holds one body
/// at a time instead of the whole WAL. Returns the good length and how it ended.
fn scan_file(file: &File, len: u64) -> Result<(u64, Tail)> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    reader.seek(SeekFrom::Start(0))?;
    let frame_overhead = (FRAME_HEADER_SIZE + FRAME_CRC_SIZE) as u64;
    let mut pos = 0u64;
    let mut body = Vec::new();
    loop {
        let left = len - pos;
        if left == 0 {
            return Ok((pos, Tail::Clean));
        }
        let mut header = [0u8; FRAME_HEADER_SIZE];
        if left < FRAME_HEADER_SIZE as u64 || !read_full(&mut reader, &mut header)? {
            return Ok((pos, Tail::Torn));
        }
        let body_len = u64::from(u32::from_be_bytes(header));
        if body_len > MAX_FRAME_LEN as u64 {
            return Ok((pos, Tail::Oversized));
        }
        if body_len + frame_overhead > left {
            return Ok((pos, Tail::Torn));
        }
        // body_len <= MAX_FRAME_LEN, so it fits usize.
        body.resize(body_len as usize, 0);
        let mut crc = [0u8; FRAME_CRC_SIZE];
        if !read_full(&mut reader, &mut body)? || !read_full(&mut reader, &mut crc)? {
            return Ok((pos, Tail::Torn));
        }
        if u32::from_be_bytes(crc) != crc32(&body) {
            return Ok((pos, Tail::BadCrc));
        }
        pos += body_len + frame_overhead;
    }
}

/// `read_exact` that reports a short file (it may shrink under us) as `false`.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Drop for Wal {
    /// Group commit promises pending frames are synced on close; honour it when the
    /// owner forgot to call `close` (errors cannot be reported here).
    fn drop(&mut self) {
        let _ = self.close();
    }
}
