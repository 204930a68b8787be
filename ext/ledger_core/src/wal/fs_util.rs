//! Small filesystem helpers shared by the WAL and snapshot writers.

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::wal::cancel::Cancel;

/// Bytes read between two cancel checkpoints by [`read_whole`].
pub(crate) const READ_CHUNK: u64 = 8 << 20;

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
    sync_dir(dir)
}

/// fsync the directory `dir` itself (same tolerance as [`sync_parent_dir`]).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
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

/// Ruby's `File.absolute_path`: relative paths are taken from the current directory,
/// then `.` and `..` are resolved lexically (symlinks are not followed), so both paths
/// write the same `file` into quarantine receipts.
pub fn lexical_absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::from("/");
    for part in joined.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The whole file at `path` (empty when it does not exist), read in chunks with a
/// cancel checkpoint between them. The buffer is reserved from the file's size
/// with `try_reserve`, so a file too large for memory is an I/O error
/// (`OutOfMemory`) instead of an abort.
pub(crate) fn read_whole(path: &Path, cancel: &Cancel) -> Result<Vec<u8>> {
    Ok(read_whole_identified(path, cancel)?.0)
}

/// A file's identity: its device and inode numbers.
pub(crate) type FileId = (u64, u64);

/// The identity of an open file (see [`FileId`]).
pub(crate) fn file_id(meta: &Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// [`read_whole`], with the identity of the file the bytes were read from (`None`
/// when it does not exist).
pub(crate) fn read_whole_identified(
    path: &Path,
    cancel: &Cancel,
) -> Result<(Vec<u8>, Option<FileId>)> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    let id = file_id(&meta);
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            "file too large to read into memory",
        )
    })?;
    loop {
        cancel.check()?;
        if (&file).take(READ_CHUNK).read_to_end(&mut buf)? == 0 {
            return Ok((buf, Some(id)));
        }
    }
}
