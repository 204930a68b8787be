//! The arguments of `FileBackend.new`, checked by the pure path's rules
//! (lib/igniter/store/file_backend.rb `check_durability`, `check_path`): the
//! same inputs are accepted, and the same ones refused with the same error.

use std::time::Duration;

use ledger_core::{Durability, RecoveryMode};
use magnus::{prelude::*, Error, Integer, RHash, RString, Ruby, Symbol, Value};

/// `:flush` (default), `:fsync`, or a non-empty Hash with `group:` (nil or a
/// positive Integer) and/or `interval:` (nil or a Numeric >= 0).
pub fn durability(ruby: &Ruby, v: Value) -> Result<Durability, Error> {
    if let Some(sym) = Symbol::from_value(v) {
        match sym.name()?.as_ref() {
            "flush" => return Ok(Durability::Flush),
            "fsync" => return Ok(Durability::Fsync),
            _ => {}
        }
    }
    if let Some(h) = RHash::from_value(v) {
        if let Some(policy) = group_policy(ruby, h)? {
            return Ok(policy);
        }
    }
    Err(Error::new(
        ruby.exception_arg_error(),
        format!(
            "unknown durability policy: {} (expected :flush, :fsync or {{group: Integer, interval: seconds}})",
            v.inspect()
        ),
    ))
}

/// A missing or nil `group` never triggers by count, a missing or nil
/// `interval` never by time. `None`: not a valid group policy.
fn group_policy(ruby: &Ruby, h: RHash) -> Result<Option<Durability>, Error> {
    let group = h.get(ruby.to_symbol("group"));
    let interval = h.get(ruby.to_symbol("interval"));
    let known = usize::from(group.is_some()) + usize::from(interval.is_some());
    if known == 0 || known != h.len() {
        return Ok(None);
    }
    let (Some(every), Some(interval)) = (group_every(group)?, sync_interval(ruby, interval)?)
    else {
        return Ok(None);
    };
    Ok(Some(Durability::Group { every, interval }))
}

/// Frames per sync: a positive Integer; beyond usize (a Bignum) no count is
/// ever reached, as on the pure path.
fn group_every(group: Option<Value>) -> Result<Option<usize>, Error> {
    let Some(g) = group.filter(|g| !g.is_nil()) else {
        return Ok(Some(usize::MAX));
    };
    let Some(n) = Integer::from_value(g) else {
        return Ok(None);
    };
    if !n.funcall::<_, _, bool>("positive?", ())? {
        return Ok(None);
    }
    Ok(Some(n.to_u64().map_or(usize::MAX, |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    })))
}

/// Seconds between syncs: a Numeric for which `interval >= 0` holds (Ruby's
/// own comparison, so Rational, Bignum and -0.0 behave as on the pure path).
fn sync_interval(ruby: &Ruby, interval: Option<Value>) -> Result<Option<Duration>, Error> {
    let Some(i) = interval.filter(|i| !i.is_nil()) else {
        return Ok(Some(Duration::MAX));
    };
    if !i.is_kind_of(ruby.class_numeric()) || !i.funcall::<_, _, Value>(">=", (0,))?.to_bool() {
        return Ok(None);
    }
    let secs = i.funcall::<_, _, f64>("to_f", ())?;
    // Beyond Duration's range (1e30 s, a huge Bignum, Infinity) means "never by
    // time", as on the pure path; from_secs_f64 would panic there.
    Ok(Some(
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX),
    ))
}

/// `:salvage` (default), `:strict` or `:truncate`.
pub fn recovery(ruby: &Ruby, v: Option<Value>) -> Result<RecoveryMode, Error> {
    let Some(v) = v else {
        return Ok(RecoveryMode::Salvage);
    };
    if let Some(sym) = Symbol::from_value(v) {
        match sym.name()?.as_ref() {
            "salvage" => return Ok(RecoveryMode::Salvage),
            "strict" => return Ok(RecoveryMode::Strict),
            "truncate" => return Ok(RecoveryMode::Truncate),
            _ => {}
        }
    }
    Err(Error::new(
        ruby.exception_arg_error(),
        format!(
            "unknown recovery mode: {} (expected :salvage, :strict or :truncate)",
            v.inspect()
        ),
    ))
}

/// The path as a UTF-8 String without NUL bytes (the pure path's rule): a receipt
/// names the file in JSON, and the OS cannot open a name with NUL.
pub fn path(ruby: &Ruby, v: Value) -> Result<String, Error> {
    let s: RString = v.funcall("to_s", ())?;
    // SAFETY: the bytes are copied before any Ruby call can move or free the String.
    let bytes = unsafe { s.as_slice() }.to_vec();
    if bytes.contains(&0) {
        return Err(Error::new(
            ruby.exception_arg_error(),
            format!("path contains a null byte: {}", s.inspect()),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ruby.exception_arg_error(),
            format!("path is not valid UTF-8: {}", s.inspect()),
        )
    })
}
