//! Strict JSON parser on arbitrary bytes, with encode round trips (see `check_json_parse`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledger_core_fuzz::check_json_parse(data));
