//! The quarantine sidecar (format.md "Quarantine"): before an open cuts bytes out of a
//! file, it copies them to `<file>.quarantine/<offset:020>-<length>.bin` with a JSON
//! receipt next to it, and makes both durable. Nothing is ever overwritten.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::json::encode::write_json_string;
use crate::json::hash::sha256_hex;
use crate::wal::fs_util::{lexical_absolute, sync_dir, sync_parent_dir, with_suffix};
use crate::wal::salvage::Reason;

/// `<file>.quarantine`.
pub fn quarantine_dir_for(file: &Path) -> PathBuf {
    with_suffix(file, ".quarantine")
}

/// Copies `bytes` (found at `offset` of `file`) into the quarantine directory of `file`
/// and returns the path of the `.bin`. An existing copy with the same SHA-256 under the
/// same stem is reused (its receipt written if missing); a different one makes the stem
/// take a `-1`, `-2`, … suffix. Data and receipt are fsynced, and the directory (and
/// its parent when the directory is new), before this returns.
pub fn quarantine(file: &Path, offset: u64, bytes: &[u8], reason: Reason) -> io::Result<PathBuf> {
    let dir = quarantine_dir_for(file);
    let created = match fs::create_dir(&dir) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e),
    };
    if created {
        sync_parent_dir(&dir)?;
    }
    let sha = sha256_hex(bytes);
    let base = format!("{offset:020}-{}", bytes.len());
    let mut n = 0u32;
    loop {
        let stem = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let bin = dir.join(format!("{stem}.bin"));
        let receipt = dir.join(format!("{stem}.json"));
        let receipt_line = || {
            receipt_json(
                file,
                offset,
                bytes.len(),
                reason,
                &sha,
                &stem,
                SystemTime::now(),
            )
        };
        if write_new(&bin, bytes)? {
            write_new(&receipt, &receipt_line())?;
            sync_dir(&dir)?;
            return Ok(bin);
        }
        if sha256_hex(&fs::read(&bin)?) == sha {
            if write_new(&receipt, &receipt_line())? {
                sync_dir(&dir)?;
            }
            return Ok(bin);
        }
        n += 1;
    }
}

/// Creates `path` with `bytes`, fsynced; `false` when it exists already (never
/// overwritten).
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            f.write_all(bytes)?;
            f.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The receipt line: `JSON.generate` of the Hash in the shared key order, plus "\n".
pub fn receipt_json(
    file: &Path,
    offset: u64,
    length: usize,
    reason: Reason,
    sha: &str,
    stem: &str,
    at: SystemTime,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"file\":");
    write_json_string(&lexical_absolute(file).to_string_lossy(), &mut out);
    out.extend_from_slice(
        format!(",\"offset\":{offset},\"length\":{length},\"reason\":").as_bytes(),
    );
    write_json_string(reason.name(), &mut out);
    out.extend_from_slice(b",\"quarantined_at\":");
    write_json_string(&iso8601_millis(at), &mut out);
    out.extend_from_slice(b",\"sha256\":");
    write_json_string(sha, &mut out);
    out.extend_from_slice(b",\"data\":");
    write_json_string(&format!("{stem}.bin"), &mut out);
    out.extend_from_slice(b"}\n");
    out
}

/// `Time#utc.iso8601(3)`: `YYYY-MM-DDTHH:MM:SS.mmmZ`, milliseconds truncated.
pub fn iso8601_millis(at: SystemTime) -> String {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
