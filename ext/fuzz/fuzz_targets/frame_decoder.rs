//! Frame scanner and single-frame reader on arbitrary bytes (see `check_frame_decoder`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledger_core_fuzz::check_frame_decoder(data));
