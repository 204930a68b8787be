//! A caller's value packed straight into the in-memory form of
//! `ledger_core::json::packed`, without building any Ruby object or `Json`
//! model (doc/performance.md "Native write path"). It takes only values
//! whose deep-frozen copy (`convert::normalize`) is exactly what unpacking
//! builds back: nil, booleans, Fixnums, Flonums, Symbols with a UTF-8 (or
//! ASCII) name, UTF-8 Strings of class String, and Hashes and Arrays of
//! those whose keys are such Symbols or Strings and do not collide. For
//! anything else it answers `false` and the caller normalizes as before:
//! the object stays in memory as it is (a Time, a BigDecimal, a String in
//! another encoding or of a subclass, a Bignum, a heap Float), and every
//! refusal (NaN, nesting, bad encoding, a Class) raises there. No Ruby code
//! runs and nothing is allocated on the Ruby heap, so the walk cannot
//! switch threads or trigger a GC while it borrows the caller's objects.

use ledger_core::json::encode::MAX_NESTING;
use ledger_core::json::packed;
use magnus::{
    prelude::*,
    rb_sys::{AsRawValue, FromRawValue},
    Fixnum, Flonum, RArray, RHash, RString, Ruby, Symbol, Value,
};

use crate::convert;

/// Appends the packed form of `v` to `out` and returns true, or leaves `out`
/// as it was and returns false when `v` needs the general walk.
pub fn pack(ruby: &Ruby, v: Value, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let ok = node(ruby, v, 1, out);
    if !ok {
        out.truncate(start);
    }
    ok
}

/// `depth` counts containers from 1, as `convert::walk` does.
fn node(ruby: &Ruby, v: Value, depth: usize, out: &mut Vec<u8>) -> bool {
    let raw = v.as_raw();
    if v.is_nil() {
        out.push(packed::NULL);
        return true;
    }
    if raw == ruby.qtrue().as_raw() {
        out.push(packed::TRUE);
        return true;
    }
    if raw == ruby.qfalse().as_raw() {
        out.push(packed::FALSE);
        return true;
    }
    if let Some(n) = Fixnum::from_value(v) {
        let n = n.to_i64();
        out.push(packed::INT);
        packed::varint(((n << 1) ^ (n >> 63)) as u64, out);
        return true;
    }
    if let Some(f) = Flonum::from_value(v) {
        let f = f.to_f64();
        if !f.is_finite() {
            return false;
        }
        out.push(packed::FLOAT);
        out.extend_from_slice(&f.to_le_bytes());
        return true;
    }
    if let Some(sym) = Symbol::from_value(v) {
        return match name_of_symbol(ruby, sym) {
            Some(name) => {
                packed::text(packed::SYM, name, out);
                true
            }
            None => false,
        };
    }
    // SAFETY: reads the type tag of a live object.
    let t = unsafe { rb_sys::RB_TYPE(raw) };
    use rb_sys::ruby_value_type::{RUBY_T_ARRAY, RUBY_T_HASH, RUBY_T_STRING};
    if t == RUBY_T_STRING {
        let Some(s) = RString::from_value(v) else {
            return false;
        };
        // SAFETY: rb_cString is a constant global set at VM boot.
        if s.class().as_raw() != unsafe { rb_sys::rb_cString } || !convert::is_utf8(s) {
            return false;
        }
        // SAFETY: copied into `out` at once; no Ruby code runs meanwhile.
        return match unsafe { convert::str_view(s) } {
            Some(text) => {
                packed::text(packed::STR, text, out);
                true
            }
            None => false,
        };
    }
    if t == RUBY_T_HASH {
        return RHash::from_value(v).is_some_and(|h| hash(ruby, h, depth, out));
    }
    if t == RUBY_T_ARRAY {
        return RArray::from_value(v).is_some_and(|a| array(ruby, a, depth, out));
    }
    false
}

/// A Symbol's name when it is UTF-8 text as it stands, the name the Symbol
/// built back from it (`convert::symbol`) is the very same Symbol for.
fn name_of_symbol<'a>(ruby: &Ruby, sym: Symbol) -> Option<&'a str> {
    let name = convert::sym_str(ruby, sym);
    // SAFETY: a Symbol's name String is frozen and lives as long as the
    // Symbol, which the caller's value holds for the whole walk.
    unsafe { convert::str_view(name) }
}

fn array(ruby: &Ruby, array: RArray, depth: usize, out: &mut Vec<u8>) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    // SAFETY: nothing in the walk runs Ruby code or allocates on the Ruby
    // heap, so the Array cannot change while its slice is read.
    let items = unsafe { array.as_slice() };
    out.push(packed::ARRAY);
    packed::varint(items.len() as u64, out);
    items.iter().all(|item| node(ruby, *item, depth + 1, out))
}

/// What the Hash iteration callback works on.
struct HashWalk<'a, 'b> {
    ruby: &'a Ruby,
    out: &'b mut Vec<u8>,
    depth: usize,
    ok: bool,
    /// Where the first member starts in `out`, and how many were packed.
    first: usize,
    count: usize,
    /// Where each member name starts and ends in `out`, kept once a key is
    /// not a Symbol (only then can two keys share a name).
    names: Option<Vec<(usize, usize)>>,
}

fn hash(ruby: &Ruby, hash: RHash, depth: usize, out: &mut Vec<u8>) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    out.push(packed::OBJECT);
    packed::varint(hash.len() as u64, out);
    let first = out.len();
    let mut walk = HashWalk {
        ruby,
        out,
        depth,
        ok: true,
        first,
        count: 0,
        names: None,
    };
    let walk = &mut walk;
    // SAFETY: `member` runs no Ruby code and never raises, so the iteration
    // cannot be interrupted, and `walk` outlives it.
    unsafe {
        rb_sys::rb_hash_foreach(
            hash.as_raw(),
            Some(member),
            walk as *mut HashWalk<'_, '_> as rb_sys::VALUE,
        )
    };
    if !walk.ok {
        return false;
    }
    match walk.names.take() {
        None => true,
        Some(names) => distinct(walk.out, names),
    }
}

/// `rb_hash_foreach`'s callback: packs one member, or stops the walk.
unsafe extern "C" fn member(key: rb_sys::VALUE, item: rb_sys::VALUE, arg: rb_sys::VALUE) -> i32 {
    // SAFETY: `arg` is the `HashWalk` of `hash`, alive and not otherwise borrowed.
    let walk = unsafe { &mut *(arg as *mut HashWalk<'_, '_>) };
    // SAFETY: key and item are live members of the Hash being iterated.
    let (key, item) = unsafe { (Value::from_raw(key), Value::from_raw(item)) };
    let start = walk.out.len();
    let named = if let Some(sym) = Symbol::from_value(key) {
        match name_of_symbol(walk.ruby, sym) {
            Some(name) => {
                name_bytes(name, walk.out);
                false
            }
            None => return fail(walk),
        }
    } else if let Some(s) = RString::from_value(key) {
        // SAFETY: copied into `out` at once.
        match unsafe { convert::str_view(s) } {
            Some(name) => {
                name_bytes(name, walk.out);
                true
            }
            None => return fail(walk),
        }
    } else {
        return fail(walk);
    };
    if named && walk.names.is_none() {
        match earlier_names(walk.out, walk.first, walk.count) {
            Some(names) => walk.names = Some(names),
            None => return fail(walk),
        }
    }
    if let Some(names) = walk.names.as_mut() {
        names.push((start, walk.out.len()));
    }
    if !node(walk.ruby, item, walk.depth + 1, walk.out) {
        return fail(walk);
    }
    walk.count += 1;
    CONTINUE
}

fn fail(walk: &mut HashWalk<'_, '_>) -> i32 {
    walk.ok = false;
    STOP
}

/// `rb_hash_foreach` callback answers.
const CONTINUE: i32 = 0;
const STOP: i32 = 1;

/// The name spans of the `count` members packed from `first` on (all under
/// Symbol keys so far), read back from `out`.
fn earlier_names(out: &[u8], first: usize, count: usize) -> Option<Vec<(usize, usize)>> {
    let mut names = Vec::with_capacity(count + 1);
    let mut at = first;
    for _ in 0..count {
        let mut r = packed::Reader::new(out.get(at..)?);
        r.text()?;
        let end = out.len() - r.rest().len();
        names.push((at, end));
        at = packed::node_end(out, end)?;
    }
    Some(names)
}

fn name_bytes(name: &str, out: &mut Vec<u8>) {
    packed::varint(name.len() as u64, out);
    out.extend_from_slice(name.as_bytes());
}

/// True when no two recorded names are equal (the spans include each
/// name's length prefix, so equal spans mean equal names).
fn distinct(out: &[u8], names: Vec<(usize, usize)>) -> bool {
    let mut spans: Vec<&[u8]> = names.iter().map(|&(a, b)| &out[a..b]).collect();
    spans.sort_unstable();
    spans.windows(2).all(|w| w[0] != w[1])
}
