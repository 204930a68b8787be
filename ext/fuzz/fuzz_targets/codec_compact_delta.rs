//! `compact_delta_zlib` segment decoder on arbitrary bytes, and segments written by
//! `CompactEncoder` from facts built from the input (see `check_codec_compact_delta`,
//! `check_codec_compact_roundtrip`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledger_core_fuzz::check_codec_compact_delta(data);
    ledger_core_fuzz::check_codec_compact_roundtrip(data);
});
