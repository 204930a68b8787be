//! Small filesystem helpers shared by the WAL and snapshot writers.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its last component as a string (".snap" after
/// "ledger.wal" gives "ledger.wal.snap"; `set_extension` would replace ".wal").
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// fsync the directory holding `path`, so a rename or create in it is durable.
/// Filesystems that cannot fsync a directory (EINVAL) are tolerated: there is nothing
/// more we could do there.
pub(crate) fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        r => r,
    }
}
