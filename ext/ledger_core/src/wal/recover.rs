//! Turning a [`Scan`] into a recovery (format.md "Recovery"): which bytes each mode
//! keeps, the quarantine copies, and the crash-safe cut or rewrite of the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::wal::fs_util::{sync_parent_dir, with_suffix};
use crate::wal::quarantine::quarantine;
use crate::wal::salvage::{Reason, Scan, Segment};

/// What an open does with damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Keep every valid frame; quarantine and cut only the damaged spans.
    #[default]
    Salvage,
    /// Refuse any damage with [`Error::Corrupt`]; change nothing.
    Strict,
    /// Keep the frames before the first damage (point in time); quarantine the rest.
    Truncate,
}

impl RecoveryMode {
    pub fn name(self) -> &'static str {
        match self {
            RecoveryMode::Salvage => "salvage",
            RecoveryMode::Strict => "strict",
            RecoveryMode::Truncate => "truncate",
        }
    }
}

/// One span an open (or a replay) found, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedSpan {
    /// The file the bytes come from (the WAL or its snapshot).
    pub file: PathBuf,
    pub offset: u64,
    pub length: u64,
    pub reason: Reason,
    /// The `.bin` copy; `None` for a read-only open, which writes nothing.
    pub quarantine_path: Option<PathBuf>,
}

/// What opening found and did (`FileBackend#recovery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    pub mode: RecoveryMode,
    pub read_only: bool,
    /// File size before recovery.
    pub original_len: u64,
    /// Bytes kept: the file's size after recovery (what it would be, read-only).
    pub valid_len: u64,
    /// Bytes cut out (`original_len - valid_len`), every one of them quarantined first.
    pub truncated_bytes: u64,
    /// Reason of the first damage; `None` for a clean file.
    pub tail: Option<Reason>,
    pub quarantined: Vec<QuarantinedSpan>,
    /// Frames kept after the first damage.
    pub salvaged_frames: u64,
    /// Damage spans found (`after_damage` spans are not damage).
    pub damaged_spans: u64,
}

impl Recovery {
    /// The report of a file that was not there or was empty.
    pub fn clean(mode: RecoveryMode, read_only: bool, len: u64) -> Recovery {
        Recovery {
            mode,
            read_only,
            original_len: len,
            valid_len: len,
            truncated_bytes: 0,
            tail: None,
            quarantined: Vec::new(),
            salvaged_frames: 0,
            damaged_spans: 0,
        }
    }

    /// Adds a span found later (by replay) unless the report already lists it.
    pub fn note(&mut self, span: QuarantinedSpan) {
        let known = self
            .quarantined
            .iter()
            .any(|s| s.file == span.file && s.offset == span.offset && s.length == span.length);
        if !known {
            self.damaged_spans += 1;
            self.tail.get_or_insert(span.reason);
            self.quarantined.push(span);
        }
    }
}

/// Which bytes a mode keeps and which it quarantines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Byte ranges kept, in order.
    pub keep: Vec<Range<u64>>,
    /// Spans copied to quarantine: offset, length, reason.
    pub quarantine: Vec<(u64, u64, Reason)>,
    pub salvaged_frames: u64,
    pub damaged_spans: u64,
    pub tail: Option<Reason>,
}

impl Plan {
    pub fn kept_len(&self) -> u64 {
        self.keep.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether the kept bytes are a prefix of the file (a cut suffices).
    pub fn is_prefix(&self) -> bool {
        self.keep.len() <= 1 && self.keep.first().is_none_or(|r| r.start == 0)
    }
}

/// The plan of `mode` for `scan` of the file at `path`; `Error::Corrupt` under
/// `Strict` when there is damage.
pub fn plan(scan: &Scan, mode: RecoveryMode, path: &Path) -> Result<Plan> {
    let damaged_spans = scan.damage().count() as u64;
    let tail = scan.first_damage().map(|(_, _, r)| r);
    let clean = |keep| Plan {
        keep,
        quarantine: Vec::new(),
        salvaged_frames: 0,
        damaged_spans,
        tail,
    };
    match mode {
        RecoveryMode::Strict => match scan.first_damage() {
            Some((offset, _, reason)) => Err(Error::Corrupt {
                path: path.to_path_buf(),
                offset,
                reason,
            }),
            None => Ok(clean(kept(&scan.segments))),
        },
        RecoveryMode::Salvage => Ok(salvage_plan(&scan.segments, clean(Vec::new()))),
        RecoveryMode::Truncate => {
            let Some(cut) = scan
                .segments
                .iter()
                .position(|s| matches!(s, Segment::Damage { .. }))
            else {
                return Ok(clean(kept(&scan.segments)));
            };
            Ok(Plan {
                quarantine: truncate_quarantine(&scan.segments[cut..]),
                ..clean(kept(&scan.segments[..cut]))
            })
        }
    }
}

/// `:salvage`: every sound frame is kept, and so is an undecodable one (it is
/// structurally sound: every reader skips it and reads on, and a newer
/// writer's fact must survive a downgrade); every damage span is quarantined.
/// Also counts the frames kept after the first damage. Fills in `plan`.
fn salvage_plan(segments: &[Segment], mut plan: Plan) -> Plan {
    let mut seen_damage = false;
    for seg in segments {
        match *seg {
            Segment::Frames {
                offset,
                length,
                count,
            } => {
                push_range(&mut plan.keep, offset..offset + length);
                if seen_damage {
                    plan.salvaged_frames += count;
                }
            }
            Segment::Damage {
                offset,
                length,
                reason,
            } => {
                seen_damage = true;
                plan.quarantine.push((offset, length, reason));
                if reason == Reason::Undecodable {
                    push_range(&mut plan.keep, offset..offset + length);
                }
            }
        }
    }
    plan
}

/// `:truncate`: from the first damage on, everything is quarantined, sound
/// frames as `after_damage`.
fn truncate_quarantine(from_damage: &[Segment]) -> Vec<(u64, u64, Reason)> {
    from_damage
        .iter()
        .map(|s| match *s {
            Segment::Frames { offset, length, .. } => (offset, length, Reason::AfterDamage),
            Segment::Damage {
                offset,
                length,
                reason,
            } => (offset, length, reason),
        })
        .collect()
}

fn kept(segments: &[Segment]) -> Vec<Range<u64>> {
    let mut keep = Vec::new();
    for seg in segments {
        if let Segment::Frames { offset, length, .. } = *seg {
            push_range(&mut keep, offset..offset + length);
        }
    }
    keep
}

fn push_range(keep: &mut Vec<Range<u64>>, r: Range<u64>) {
    match keep.last_mut() {
        Some(last) if last.end == r.start => last.end = r.end,
        _ => keep.push(r),
    }
}

/// The report of `plan`, with the quarantine paths written (or `None` each, read-only).
pub fn report(
    plan: &Plan,
    mode: RecoveryMode,
    read_only: bool,
    path: &Path,
    original_len: u64,
    paths: Vec<Option<PathBuf>>,
) -> Recovery {
    let valid_len = plan.kept_len();
    Recovery {
        mode,
        read_only,
        original_len,
        valid_len,
        truncated_bytes: original_len - valid_len,
        tail: plan.tail,
        quarantined: plan
            .quarantine
            .iter()
            .zip(paths)
            .map(
                |(&(offset, length, reason), quarantine_path)| QuarantinedSpan {
                    file: path.to_path_buf(),
                    offset,
                    length,
                    reason,
                    quarantine_path,
                },
            )
            .collect(),
        salvaged_frames: plan.salvaged_frames,
        damaged_spans: plan.damaged_spans,
    }
}

/// Copies every span of `plan` out of `file` into quarantine (durably), then makes the
/// file hold exactly the kept bytes: a cut when they are a prefix, else a rewrite via
/// `<path>.recovery.tmp` + fsync + rename + directory fsync. A crash at any point leaves
/// the old file or the new one, and never a cut without its quarantine copy.
pub fn apply(plan: &Plan, file: &File, path: &Path) -> Result<Vec<Option<PathBuf>>> {
    let mut paths = Vec::with_capacity(plan.quarantine.len());
    for &(offset, length, reason) in &plan.quarantine {
        let mut bytes = vec![0u8; length as usize];
        file.read_exact_at(&mut bytes, offset)?;
        paths.push(Some(quarantine(path, offset, &bytes, reason)?));
    }
    let original_len = file.metadata()?.len();
    if plan.kept_len() == original_len {
        return Ok(paths);
    }
    if plan.is_prefix() {
        let cut = OpenOptions::new().write(true).open(path)?;
        cut.set_len(plan.kept_len())?;
        cut.sync_all()?;
    } else {
        rewrite(plan, file, path)?;
    }
    Ok(paths)
}

/// `<path>.recovery.tmp`: a rewrite in progress; a stale one is deleted on open.
pub fn recovery_tmp_path_for(path: &Path) -> PathBuf {
    with_suffix(path, ".recovery.tmp")
}

fn rewrite(plan: &Plan, file: &File, path: &Path) -> Result<()> {
    let tmp = recovery_tmp_path_for(path);
    let result = (|| -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        let mut chunk = vec![0u8; 1 << 20];
        for r in &plan.keep {
            let mut at = r.start;
            while at < r.end {
                let n = ((r.end - at) as usize).min(chunk.len());
                file.read_exact_at(&mut chunk[..n], at)?;
                out.write_all(&chunk[..n])?;
                at += n as u64;
            }
        }
        let out = out.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        drop(out);
        fs::rename(&tmp, path)?;
        sync_parent_dir(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(Error::from)
}
