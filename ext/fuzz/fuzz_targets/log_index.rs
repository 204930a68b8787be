//! The fact log's index against a reference model (see `check_log_index`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ledger_core_fuzz::log_index::check_log_index(data));
