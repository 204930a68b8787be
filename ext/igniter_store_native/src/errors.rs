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
        e @ CoreError::NonFinite(_) => raise(ruby, "Igniter::Store::NonFiniteNumberError", e.to_string()),
        e @ CoreError::Nesting(_) => raise(ruby, "JSON::NestingError", e.to_string()),
        e @ CoreError::Parse { .. } => raise(ruby, "JSON::ParserError", e.to_string()),
        e @ CoreError::InvalidRecord(_) => raise(ruby, "Igniter::Store::Error", e.to_string()),
        e @ CoreError::FrameTooLarge(_) => Error::new(ruby.exception_arg_error(), e.to_string()),
        CoreError::Closed => Error::new(ruby.exception_io_error(), "closed stream"),
        CoreError::Io(io) => os(ruby, &io, None),
    }
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
    Error::new(ruby.exception_runtime_error(), "igniter-ledger: internal lock poisoned")
}
