//! Replays the checked-in fuzz corpus (ext/fuzz/corpus/<target>/*) through the same
//! property checks the cargo-fuzz targets run, on stable, as part of `cargo test`.
//! Inputs that once failed are kept in the corpus under a `regression_` name.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod props;

use std::fs;
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let bytes = fs::read(&path).expect("read corpus input");
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "empty corpus {}", dir.display());
    inputs
}

/// Runs `check` on every input, naming the input that failed.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(
            result.is_ok(),
            "{target}: corpus input {} fails",
            path.display()
        );
    }
}

#[test]
fn frame_decoder_corpus() {
    replay("frame_decoder", props::check_frame_decoder);
}

#[test]
fn wal_recovery_corpus() {
    let scratch = std::env::temp_dir().join(format!("ledger-fuzz-regress-{}", std::process::id()));
    fs::create_dir_all(&scratch).expect("scratch dir");
    replay("wal_recovery", |data| {
        props::check_wal_recovery(data, &scratch)
    });
    let _ = fs::remove_dir_all(&scratch);
}

#[test]
fn json_parse_corpus() {
    replay("json_parse", props::check_json_parse);
}

#[test]
fn json_encode_corpus() {
    replay("json_encode", props::check_json_encode);
}

#[test]
fn fact_body_corpus() {
    replay("fact_body", |data| {
        props::check_fact_body(data);
        props::check_fact_record(data);
    });
}

#[test]
fn codec_json_crc32_corpus() {
    replay("codec_json_crc32", |data| {
        props::check_codec_json_crc32(data);
        props::check_codec_json_crc32_records(data);
    });
}

#[test]
fn codec_compact_delta_corpus() {
    replay("codec_compact_delta", |data| {
        props::check_codec_compact_delta(data);
        props::check_codec_compact_roundtrip(data);
    });
}

#[test]
fn codec_msgpack_corpus() {
    replay("codec_msgpack", |data| {
        props::check_msgpack_unpack(data);
        props::check_msgpack_write(data);
    });
}

#[test]
fn log_index_corpus() {
    replay("log_index", props::log_index::check_log_index);
}

/// Beyond the corpus: operation sequences from a seeded generator, so every
/// `cargo test` runs the index against its model on fresh sequences too.
#[test]
fn log_index_generated_sequences() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..400 {
        let len = 64 + (state % 1024) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                // xorshift64*
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect();
        props::log_index::check_log_index(&data);
    }
}
