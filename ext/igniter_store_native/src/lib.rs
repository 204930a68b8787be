//! `igniter_store_native`: the Ruby face of the ledger core. One file per Ruby
//! class; every byte-level rule (hashing, framing, recovery) lives in the
//! `ledger_core` crate, which this crate only translates to and from Ruby.

mod codecs;
mod convert;
mod errors;
mod fact;
mod fact_log;
mod file_backend;
/// The panic boundary every registered method runs under.
pub mod guard;
mod nogvl;
mod travel_cache;

use magnus::{Error, Ruby};

#[magnus::init]
fn init(ruby: &Ruby) -> Result<(), Error> {
    fact::define(ruby)?;
    fact_log::define(ruby)?;
    file_backend::define(ruby)?;
    codecs::define(ruby)?;
    travel_cache::define(ruby)?;
    guard::test_hooks::define(ruby)?;
    Ok(())
}
