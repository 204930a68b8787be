//! `json_crc32` segment decoder on arbitrary bytes, and segments written from fact
//! records built from the input (see `check_codec_json_crc32`,
//! `check_codec_json_crc32_records`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledger_core_fuzz::check_codec_json_crc32(data);
    ledger_core_fuzz::check_codec_json_crc32_records(data);
});
