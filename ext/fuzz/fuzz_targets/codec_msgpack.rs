//! MessagePack reader on arbitrary bytes, and the writer on values built from the input
//! (see `check_msgpack_unpack`, `check_msgpack_write`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ledger_core_fuzz::check_msgpack_unpack(data);
    ledger_core_fuzz::check_msgpack_write(data);
});
