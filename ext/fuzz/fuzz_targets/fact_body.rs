//! Fact body decoder on arbitrary bytes, and fact records built from the input through
//! encode/decode (see `check_fact_body`, `check_fact_record`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledger_core_fuzz::check_fact_body(data);
    ledger_core_fuzz::check_fact_record(data);
});
