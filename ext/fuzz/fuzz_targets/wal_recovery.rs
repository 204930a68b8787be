//! WAL open/recovery on a real file holding the input bytes (see `check_wal_recovery`).
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

/// One scratch directory per fuzzing process, reused for every input.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ledger-fuzz-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| ledger_core_fuzz::check_wal_recovery(data, scratch()));
