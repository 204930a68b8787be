//! The panic boundary of every Ruby-visible method.
//!
//! magnus turns a panic that reaches its own wrapper into Ruby's `fatal`,
//! which ends the process. Every method this extension registers runs its
//! body through [`run`] instead, so a bug in Rust surfaces as an ordinary,
//! rescuable `Igniter::Store::InternalError` carrying the panic message; the
//! process lives and nothing already written is touched (see doc/reliability.md).
//! State behind a lock that a panic poisoned is repaired by its owner (the
//! FactLog rebuilds its index from its facts).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use magnus::{Error, Ruby};

use crate::errors;

/// Runs `body`, turning a panic into `Igniter::Store::InternalError`.
pub fn run<T>(ruby: &Ruby, body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => Err(panic_error(ruby, payload.as_ref())),
    }
}

/// The `InternalError` for a caught panic payload.
pub fn panic_error(ruby: &Ruby, payload: &(dyn Any + Send)) -> Error {
    errors::raise(
        ruby,
        "Igniter::Store::InternalError",
        format!(
            "igniter-ledger: internal error in native code: {}",
            panic_message(payload)
        ),
    )
}

/// The text a `panic!` was given (`&str` or `String` payloads), else a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// Test hooks, defined only when `IGNITER_LEDGER_NATIVE_TEST_HOOKS=1` is set
/// when the extension loads (never part of the gem's API): they panic on
/// purpose, so a spec can prove the boundary above holds.
pub mod test_hooks {
    use magnus::{prelude::*, Error, RString, Ruby};

    /// Name of the environment variable that enables the hooks.
    pub const ENV: &str = "IGNITER_LEDGER_NATIVE_TEST_HOOKS";

    fn panic_now(ruby: &Ruby, message: RString) -> Result<(), Error> {
        let text = message.to_string()?;
        super::run(ruby, || panic!("{text}"))
    }

    /// Defines `Igniter::Store::NativeTestHooks.panic(message)` when enabled.
    pub fn define(ruby: &Ruby) -> Result<(), Error> {
        if std::env::var(ENV).as_deref() != Ok("1") {
            return Ok(());
        }
        let hooks = ruby
            .define_module("Igniter")?
            .define_module("Store")?
            .define_module("NativeTestHooks")?;
        hooks.define_singleton_method("panic", magnus::function!(panic_now, 1))?;
        crate::fact_log::define_test_hooks(ruby, hooks)?;
        crate::file_backend::define_test_hooks(hooks)
    }
}
