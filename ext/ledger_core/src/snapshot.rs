//! The snapshot file `<wal>.snap` (format.md "Snapshot"): a header frame, then one fact
//! frame per fact. Written via `<wal>.snap.tmp` + fsync + rename + directory fsync, so a
//! reader sees either the old snapshot or the complete new one.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::encode::write_float;
use crate::error::{Error, Result};
use crate::fact_record::FactRecord;
use crate::frame::{decode_frame_at, encode_frame, scan_frames, MAX_FRAME_LEN};
use crate::fs_util::{sync_parent_dir, with_suffix};
use crate::json::Json;
use crate::parse::parse;
use crate::replay::decode_bodies_parallel;

/// `<wal path>.snap`.
pub fn snapshot_path_for(wal_path: &Path) -> PathBuf {
    with_suffix(wal_path, ".snap")
}

/// `<wal path>.snap.tmp`: written then renamed; never read.
pub fn snapshot_tmp_path_for(wal_path: &Path) -> PathBuf {
    with_suffix(wal_path, ".snap.tmp")
}

/// Appends the header body `{"type":"snapshot_header","fact_count":N,"written_at":F}`.
pub fn encode_header(fact_count: usize, written_at: f64, out: &mut Vec<u8>) -> Result<()> {
    out.extend_from_slice(b"{\"type\":\"snapshot_header\",\"fact_count\":");
    let _ = write!(out, "{fact_count}");
    out.extend_from_slice(b",\"written_at\":");
    write_float(written_at, out)?;
    out.push(b'}');
    Ok(())
}

/// Whether `body` is a snapshot header: a JSON object whose `type` is "snapshot_header".
/// `fact_count` is not checked (0.5.2 did not either).
pub fn is_snapshot_header(body: &[u8]) -> bool {
    matches!(parse(body), Ok(v) if v.get("type") == Some(&Json::Str("snapshot_header".into())))
}

/// Now as float seconds since the epoch (Ruby `Time.now.to_f` / CLOCK_REALTIME).
pub(crate) fn now_epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Reads the facts of the snapshot file at `snap_path` (the `.snap` file itself).
///
/// A missing or unreadable file, or a first frame that is missing, damaged, not JSON or not
/// a `snapshot_header`, yields no facts. Fact frames are read up to the first damaged
/// frame; undecodable bodies are skipped one by one.
pub fn read_snapshot(snap_path: &Path) -> Vec<FactRecord> {
    let Ok(buf) = fs::read(snap_path) else {
        return Vec::new();
    };
    let Some((header, facts_start)) = decode_frame_at(&buf, 0) else {
        return Vec::new();
    };
    if !buf.get(header).is_some_and(is_snapshot_header) {
        return Vec::new();
    }
    let rest = buf.get(facts_start..).unwrap_or(&[]);
    let scan = scan_frames(rest);
    decode_bodies_parallel(rest, &scan.bodies)
}

/// Writes `bodies` (fact bodies, in order) as the snapshot of `wal_path`: tmp file, header
/// frame, fact frames, fsync, rename over `.snap`, fsync the directory. On failure the tmp
/// file is removed and the old snapshot is untouched.
pub fn write_snapshot_file(wal_path: &Path, bodies: &[Vec<u8>]) -> Result<()> {
    if let Some(big) = bodies.iter().find(|b| b.len() > MAX_FRAME_LEN) {
        return Err(Error::FrameTooLarge(big.len()));
    }
    let tmp = snapshot_tmp_path_for(wal_path);
    let result = write_tmp_and_rename(wal_path, &tmp, bodies);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_tmp_and_rename(wal_path: &Path, tmp: &Path, bodies: &[Vec<u8>]) -> Result<()> {
    let mut header = Vec::with_capacity(96);
    encode_header(bodies.len(), now_epoch_secs(), &mut header)?;

    let mut w = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    let mut frame = Vec::new();
    encode_frame(&header, &mut frame);
    w.write_all(&frame)?;
    for body in bodies {
        frame.clear();
        encode_frame(body, &mut frame);
        w.write_all(&frame)?;
    }
    let file = w.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    file.sync_all()?;
    drop(file);

    fs::rename(tmp, snapshot_path_for(wal_path))?;
    sync_parent_dir(wal_path)?;
    Ok(())
}
