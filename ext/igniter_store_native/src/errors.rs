//! Maps core and OS errors onto the Ruby exception classes both paths raise.
//! The classes are defined in Ruby (errors.rb, json) and looked up when an
//! error happens, so the extension never owns a second copy of them.

use ledger_core::Error as CoreError;
use magnus::{prelude::*, Error, Exception, ExceptionClass, Ruby, Value};

/// Looks up an exception class by its full name, e.g. `"JSON::NestingError"`.
pub fn class(ruby: &Ruby, path: &str) -> ExceptionClass {
    ruby.class_object()
        .funcall::<_, _, Value>("const_get", (path,))
        .ok()
        .and_then(ExceptionClass::from_value)
        .unwrap_or_else(|| ruby.exception_runtime_error())
}

/// An error of the named Ruby class.
pub fn raise(ruby: &Ruby, path: &str, message: String) -> Error {
    Error::new(class(ruby, path), message)
}

/// Errors from the core crate, as the pure path raises them.
pub fn core(ruby: &Ruby, error: CoreError) -> Error {
    match error {
        e @ CoreError::NonFinite(_) => {
            raise(ruby, "Igniter::Store::NonFiniteNumberError", e.to_string())
        }
        e @ CoreError::Nesting(_) => raise(ruby, "JSON::NestingError", e.to_string()),
        e @ CoreError::Parse { .. } => raise(ruby, "JSON::ParserError", e.to_string()),
        e @ CoreError::InvalidRecord(_) => raise(ruby, "Igniter::Store::Error", e.to_string()),
        e @ CoreError::FrameTooLarge(_) => Error::new(ruby.exception_arg_error(), e.to_string()),
        CoreError::Closed => Error::new(ruby.exception_io_error(), "closed stream"),
        e @ CoreError::Corrupt { .. } => ledger(ruby, e),
        e @ CoreError::NotALedger { .. } => ledger(ruby, e),
        e @ CoreError::Locked { .. } => ledger(ruby, e),
        e @ CoreError::ReadOnly { .. } => ledger(ruby, e),
        e @ CoreError::ForkedChild { .. } => ledger(ruby, e),
        e @ CoreError::ForkedWhileBusy { .. } => ledger(ruby, e),
        // Only reaches Ruby if an interrupt raised nothing and the work was not
        // retried (nogvl retries it), so it is Ruby's own Interrupt.
        CoreError::Interrupted => Error::new(ruby.exception_interrupt(), ""),
        CoreError::Io(io) => os(ruby, &io, None),
    }
}

/// The ledger errors of errors.rb, built with their keyword attributes (`path`,
/// `offset`, `reason`, `pid`) so both paths raise equal exceptions.
fn ledger(ruby: &Ruby, error: CoreError) -> Error {
    let message = error.to_string();
    let kw = ruby.hash_new();
    let text = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let (class, filled) = match &error {
        CoreError::Corrupt {
            path,
            offset,
            reason,
        } => (
            "Igniter::Store::CorruptLedgerError",
            kw.aset(ruby.to_symbol("path"), text(path))
                .and_then(|()| kw.aset(ruby.to_symbol("offset"), *offset))
                .and_then(|()| kw.aset(ruby.to_symbol("reason"), ruby.to_symbol(reason.name()))),
        ),
        CoreError::NotALedger { path, .. } => (
            "Igniter::Store::NotALedgerError",
            kw.aset(ruby.to_symbol("path"), text(path)),
        ),
        CoreError::Locked { path, pid, .. } => (
            "Igniter::Store::LedgerLockedError",
            kw.aset(ruby.to_symbol("path"), text(path))
                .and_then(|()| kw.aset(ruby.to_symbol("pid"), *pid)),
        ),
        CoreError::ForkedChild { path, owner, .. }
        | CoreError::ForkedWhileBusy { path, owner, .. } => (
            "Igniter::Store::LedgerLockedError",
            kw.aset(ruby.to_symbol("path"), text(path))
                .and_then(|()| kw.aset(ruby.to_symbol("pid"), *owner)),
        ),
        CoreError::ReadOnly { path } => (
            "Igniter::Store::ReadOnlyLedgerError",
            kw.aset(ruby.to_symbol("path"), text(path)),
        ),
        _ => return raise(ruby, "Igniter::Store::Error", message),
    };
    let built = filled.and_then(|()| {
        class_value(ruby, class)
            .funcall::<_, _, Value>("new", (message.as_str(), magnus::KwArgs(kw)))
    });
    match built.ok().and_then(Exception::from_value) {
        Some(exception) => Error::from(exception),
        None => raise(ruby, class, message),
    }
}

fn class_value(ruby: &Ruby, path: &str) -> Value {
    class(ruby, path).as_value()
}

/// An OS error as the matching `Errno::*` class (what Ruby's own IO raises),
/// or `IOError` when the error carries no errno.
pub fn os(ruby: &Ruby, io: &std::io::Error, path: Option<&str>) -> Error {
    let Some(errno) = io.raw_os_error() else {
        return Error::new(ruby.exception_io_error(), io.to_string());
    };
    let detail = path.unwrap_or("");
    let built = ruby
        .class_object()
        .funcall::<_, _, Value>("const_get", ("SystemCallError",))
        .and_then(|cls| cls.funcall::<_, _, Value>("new", (detail, errno)));
    match built.ok().and_then(Exception::from_value) {
        Some(exception) => Error::from(exception),
        None => Error::new(ruby.exception_io_error(), io.to_string()),
    }
}

/// Invalid or unconvertible string data: a JSON::GeneratorError subclass.
pub fn invalid_encoding(ruby: &Ruby) -> Error {
    raise(
        ruby,
        "Igniter::Store::InvalidEncodingError",
        "source sequence is illegal/malformed utf-8".to_string(),
    )
}

/// A lock poisoned by a panic elsewhere: report it instead of panicking again.
pub fn poisoned(ruby: &Ruby) -> Error {
    Error::new(
        ruby.exception_runtime_error(),
        "igniter-ledger: internal lock poisoned",
    )
}
