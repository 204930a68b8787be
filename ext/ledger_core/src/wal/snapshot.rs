//! The snapshot file `<wal>.snap` (format.md "Snapshot"): a header frame, then one fact
//! frame per fact. Written via `<wal>.snap.tmp` + fsync + rename + directory fsync, so a
//! reader sees either the old snapshot or the complete new one; read with the salvage
//! scanner, so a damaged frame costs only itself.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::fact::FactRecord;
use crate::json::encode::write_float;
use crate::json::parse::parse;
use crate::json::Json;
use crate::wal::cancel::Cancel;
use crate::wal::frame::{encode_frame, FRAME_HEADER_SIZE, MAX_FRAME_LEN};
use crate::wal::fs_util::{read_whole, sync_parent_dir, with_suffix};
use crate::wal::recover::RecoveryMode;
use crate::wal::replay::{decode_checked, refuse_in_strict, undecodable, Finding};
use crate::wal::salvage::{scan_with, SliceSource, Verdict};

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

/// Reads the facts of the snapshot file at `snap_path` (the `.snap` file itself) under
/// the salvage rule; damage is read around and dropped from the result.
pub fn read_snapshot(snap_path: &Path) -> Vec<FactRecord> {
    read_snapshot_with(snap_path, RecoveryMode::Salvage, Cancel::never())
        .map(|(facts, _)| facts)
        .unwrap_or_default()
}

/// Reads the snapshot like a WAL (format.md "Snapshot"): a snapshot header frame at
/// offset 0 is skipped, a damaged frame costs only its own bytes (the scan resynchronizes
/// after it), and an undecodable body is left out. Returns the facts and the damage
/// found (with its bytes, for the quarantine); `Strict` refuses damage instead. The
/// snapshot itself is never rewritten: the next checkpoint replaces it whole. A missing
/// file has no facts. Stops with [`Error::Interrupted`] once `cancel` is raised.
pub fn read_snapshot_with(
    snap_path: &Path,
    mode: RecoveryMode,
    cancel: &Cancel,
) -> Result<(Vec<FactRecord>, Vec<Finding>)> {
    let buf = read_whole(snap_path, cancel)?;
    let mut bodies = Vec::new();
    let scan = scan_with(&mut SliceSource(&buf), cancel, |offset, body| {
        if offset == 0 && is_snapshot_header(body) {
            return Verdict::Header;
        }
        let start = offset as usize + FRAME_HEADER_SIZE;
        bodies.push(start..start + body.len());
        Verdict::Keep
    })?;
    let mut findings: Vec<Finding> = scan
        .damage()
        .map(|(offset, length, reason)| Finding::new(snap_path, &buf, offset, length, reason))
        .collect();
    let (facts, failed) = decode_checked(&buf, &bodies, cancel)?;
    findings.extend(undecodable(snap_path, &buf, &bodies, failed));
    findings.sort_by_key(|f| f.offset);
    refuse_in_strict(snap_path, &findings, mode)?;
    Ok((facts, findings))
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
