//! Insertion-order and canonical JSON encoders on values built from the input
//! (see `check_json_encode`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledger_core_fuzz::check_json_encode(data));
