//! Ruby values <-> the core's `Json` model.
//!
//! One walk serves two jobs: normalizing a caller's value at `Fact.build`
//! (a new deep-frozen Ruby structure with Symbol keys, plus its Json model for
//! hashing) and reading a stored fact's frozen value for encoding (the model
//! only). Sharing the walk keeps both paths' type rules in one place.

use ledger_core::json::encode::MAX_NESTING;
use ledger_core::Json;
use magnus::rb_sys::{AsRawValue, FromRawValue};
use magnus::{
    prelude::*, value::ReprValue, Error, Float, Integer, RArray, RHash, RString, Ruby, Symbol,
    Value,
};

use crate::errors;

/// The encoding indexes [`str_view`] compares with, asked of Ruby once.
struct Encindexes {
    utf8: i32,
    usascii: i32,
    binary: i32,
}

static ENCINDEXES: std::sync::OnceLock<Encindexes> = std::sync::OnceLock::new();

fn encindexes() -> &'static Encindexes {
    ENCINDEXES.get_or_init(|| {
        // SAFETY: plain getters of Ruby's built-in encoding table.
        unsafe {
            Encindexes {
                utf8: rb_sys::rb_utf8_encindex(),
                usascii: rb_sys::rb_usascii_encindex(),
                binary: rb_sys::rb_ascii8bit_encindex(),
            }
        }
    })
}

/// Whether the live String `s` is in UTF-8 (its flags read, no call into Ruby).
pub fn is_utf8(s: RString) -> bool {
    // SAFETY: `s` is a live String, so its encoding can be read.
    unsafe { rb_sys::ENCODING_GET(s.as_raw()) == encindexes().utf8 }
}

/// The text of `s` as it stands, when Ruby's `test_as_str` would give it:
/// UTF-8 or US-ASCII holding valid text, or binary holding 7-bit text. The
/// same test, read from the String's flags (encoding index, cached code
/// range) instead of through five calls into libruby per String; only a
/// String whose code range is not known yet is scanned by Ruby, which then
/// caches it as any String method would. A write packs a dozen Strings and
/// Symbol names, so this is ~2,000 instructions a write (doc/performance.md,
/// "Native write path").
///
/// # Safety
///
/// The slice views Ruby's memory: the caller copies it before any Ruby code
/// can run or allocate (which could change or free the String).
pub unsafe fn str_view<'a>(s: RString) -> Option<&'a str> {
    use rb_sys::ruby_coderange_type as cr_type;
    let ix = encindexes();
    let raw = s.as_raw();
    // SAFETY: `s` is a live String: its flags and encoding can be read.
    let (enc, mut cr) = unsafe {
        let flags = (*(raw as *const rb_sys::RBasic)).flags;
        (
            rb_sys::ENCODING_GET(raw),
            flags & cr_type::RUBY_ENC_CODERANGE_MASK as rb_sys::VALUE,
        )
    };
    if cr == 0 {
        // SAFETY: as above; Ruby scans and caches the code range.
        cr = unsafe { rb_sys::rb_enc_str_coderange(raw) } as rb_sys::VALUE;
    }
    let seven = cr == cr_type::RUBY_ENC_CODERANGE_7BIT as rb_sys::VALUE;
    let valid = seven || cr == cr_type::RUBY_ENC_CODERANGE_VALID as rb_sys::VALUE;
    let text = ((enc == ix.utf8 || enc == ix.usascii) && valid) || (enc == ix.binary && seven);
    if !text {
        return None;
    }
    // SAFETY: a String of those encodings and code ranges holds valid UTF-8.
    unsafe {
        let len = rb_sys::RSTRING_LEN(raw) as usize;
        let bytes = std::slice::from_raw_parts(rb_sys::RSTRING_PTR(raw) as *const u8, len);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

/// UTF-8 text of a Ruby String. UTF-8/US-ASCII must be valid, binary must be
/// 7-bit, any other encoding is transcoded; anything else is the same
/// `InvalidEncodingError` the pure path raises.
pub fn utf8_text(ruby: &Ruby, s: RString) -> Result<String, Error> {
    // SAFETY: the slice is copied before any other Ruby call can touch `s`.
    if let Some(text) = unsafe { str_view(s) } {
        return Ok(text.to_owned());
    }
    if s.is_utf8_compatible_encoding() || s.enc_get() == ruby.ascii8bit_encindex() {
        return Err(errors::invalid_encoding(ruby));
    }
    let converted = s
        .conv_enc(ruby.utf8_encoding())
        .map_err(|_| errors::invalid_encoding(ruby))?;
    // SAFETY: as above, copied immediately.
    unsafe { converted.test_as_str() }
        .map(str::to_owned)
        .ok_or_else(|| errors::invalid_encoding(ruby))
}

/// UTF-8 text of a Symbol's name, under the rules of [`utf8_text`]. Read from
/// the Symbol's String, never from a C string, so a NUL inside the name is
/// kept (`:"a\0b"` is not `:a`).
pub fn sym_text(ruby: &Ruby, sym: Symbol) -> Result<String, Error> {
    utf8_text(ruby, sym_str(ruby, sym))
}

/// The frozen String behind a Symbol's name (no copy).
pub fn sym_str(ruby: &Ruby, sym: Symbol) -> RString {
    // SAFETY: `sym` is a live Symbol; rb_sym2str returns its (frozen) name String.
    let raw = unsafe { rb_sys::rb_sym2str(sym.as_raw()) };
    // SAFETY: a VALUE Ruby just returned.
    RString::from_value(unsafe { Value::from_raw(raw) }).unwrap_or_else(|| ruby.str_new(""))
}

/// The name of `v`'s class as `obj.class.to_s` prints it (never its singleton class).
fn class_name(v: Value) -> String {
    // SAFETY: `v` is live; rb_obj_class only reads its class pointer.
    let class = unsafe { Value::from_raw(rb_sys::rb_obj_class(v.as_raw())) };
    class.to_string()
}

/// `to_s` of an object outside the JSON model, refused when the text
/// carries a memory address (`#<Proc:0x000055d…>`): it differs in every
/// process, so it could be neither stored faithfully nor hashed reproducibly.
fn stable_text(ruby: &Ruby, v: Value) -> Result<String, Error> {
    let text: RString = v.funcall("to_s", ())?;
    let text = utf8_text(ruby, text)?;
    if carries_address(&text) {
        return Err(errors::raise(
            ruby,
            "Igniter::Store::UnrepresentableValueError",
            format!(
                "{} value has no JSON form: its text carries a memory address",
                class_name(v)
            ),
        ));
    }
    Ok(text)
}

/// A Class or Module as a value: refused. It cannot be frozen or copied into
/// a fact (a `dup` is a new anonymous class) and would come back from the WAL
/// as a String, so the caller is asked to store its name.
fn refuse_module(ruby: &Ruby, v: Value) -> Error {
    errors::raise(
        ruby,
        "Igniter::Store::UnrepresentableValueError",
        format!(
            "{} value has no JSON form: store its name instead",
            class_name(v)
        ),
    )
}

/// True for a Class or Module object (T_CLASS / T_MODULE).
fn is_module(v: Value) -> bool {
    // SAFETY: reads the type tag of a live object.
    let t = unsafe { rb_sys::RB_TYPE(v.as_raw()) };
    t == rb_sys::ruby_value_type::RUBY_T_CLASS || t == rb_sys::ruby_value_type::RUBY_T_MODULE
}

/// `0x` and 16 hex digits: how Ruby prints an object's address.
fn carries_address(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(18)
        .any(|w| w.starts_with(b"0x") && w.iter().skip(2).all(u8::is_ascii_hexdigit))
}

/// The error both paths raise for NaN and ±Infinity.
pub fn non_finite(ruby: &Ruby, f: f64) -> Error {
    let shown = if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    };
    errors::raise(
        ruby,
        "Igniter::Store::NonFiniteNumberError",
        format!("{shown} not allowed in JSON"),
    )
}

fn nesting(ruby: &Ruby, depth: usize) -> Error {
    errors::raise(
        ruby,
        "JSON::NestingError",
        format!("nesting of {depth} is too deep"),
    )
}

/// A frozen copy of `v`, or `v` itself when it is already frozen.
fn frozen(v: Value) -> Result<Value, Error> {
    if v.is_frozen() {
        return Ok(v);
    }
    if let Some(s) = RString::from_value(v) {
        // A frozen String sharing the caller's buffer (copy-on-write), as `dup.freeze`
        // would give, without a method call. Only the String class itself: a subclass
        // instance keeps going through its own `dup`.
        // SAFETY: rb_cString is a constant global set at VM boot.
        if s.class().as_raw() == unsafe { rb_sys::rb_cString } {
            // SAFETY: `s` is a live String; rb_str_new_frozen only reads it.
            return Ok(unsafe { Value::from_raw(rb_sys::rb_str_new_frozen(s.as_raw())) });
        }
    }
    let copy: Value = v.funcall("dup", ())?;
    copy.freeze();
    Ok(copy)
}

/// The interned (deduplicated, frozen) UTF-8 String of `s`, as `-"..."` and
/// `JSON.parse(freeze: true)` give on the pure path: equal texts share one object.
pub fn interned_str(ruby: &Ruby, s: &str) -> RString {
    // An empty &str may point at 0x1, which Ruby would still read from.
    static EMPTY: [u8; 1] = [0];
    let ptr = if s.is_empty() {
        EMPTY.as_ptr()
    } else {
        s.as_ptr()
    };
    // SAFETY: the bytes are valid UTF-8 and copied by Ruby when not yet interned.
    unsafe {
        let v = rb_sys::rb_enc_interned_str(ptr.cast(), s.len() as _, rb_sys::rb_utf8_encoding());
        RString::from_value(Value::from_raw(v)).unwrap_or_else(|| frozen_str(ruby, s))
    }
}

/// Walks `v`. With `build`, also returns the normalized deep-frozen Ruby copy
/// (String Hash keys become Symbols, containers are new objects, unfrozen
/// scalars become frozen dups). `depth` counts containers from 1.
pub fn walk(
    ruby: &Ruby,
    v: Value,
    depth: usize,
    build: bool,
) -> Result<(Option<Value>, Json), Error> {
    let keep = |json: Json| Ok((build.then_some(v), json));
    if v.is_nil() {
        return keep(Json::Null);
    }
    if v.as_raw() == ruby.qtrue().as_raw() {
        return keep(Json::Bool(true));
    }
    if v.as_raw() == ruby.qfalse().as_raw() {
        return keep(Json::Bool(false));
    }
    if let Some(f) = Float::from_value(v) {
        let f = f.to_f64();
        if !f.is_finite() {
            return Err(non_finite(ruby, f));
        }
        return keep(Json::Float(f));
    }
    if let Some(i) = Integer::from_value(v) {
        return match i.to_i64() {
            Ok(n) => keep(Json::Int(n)),
            Err(_) => keep(Json::BigInt(
                i.funcall::<_, _, RString>("to_s", ())?.to_string()?,
            )),
        };
    }
    if let Some(sym) = Symbol::from_value(v) {
        return keep(Json::Sym(sym_text(ruby, sym)?));
    }
    if let Some(s) = RString::from_value(v) {
        let text = utf8_text(ruby, s)?;
        let out = if build { Some(frozen(v)?) } else { None };
        return Ok((out, Json::Str(text)));
    }
    if let Some(hash) = RHash::from_value(v) {
        return walk_hash(ruby, hash, depth, build);
    }
    if let Some(array) = RArray::from_value(v) {
        return walk_array(ruby, array, depth, build);
    }
    if is_module(v) {
        return Err(refuse_module(ruby, v));
    }
    // Anything else is stored as its to_s text; in memory the object stays.
    let json = Json::Str(stable_text(ruby, v)?);
    let out = if build { Some(frozen(v)?) } else { None };
    Ok((out, json))
}

fn walk_hash(
    ruby: &Ruby,
    hash: RHash,
    depth: usize,
    build: bool,
) -> Result<(Option<Value>, Json), Error> {
    if depth > MAX_NESTING {
        return Err(nesting(ruby, depth));
    }
    let out = build.then(|| ruby.hash_new());
    let mut pairs: Vec<(String, Json)> = Vec::with_capacity(hash.len());
    // Symbol keys whose names are already UTF-8 cannot share a name; other
    // keys become the Symbol of their name in the copy, so there a shared
    // name shows as a shorter Hash. Only a transcoded Symbol escapes both.
    let (mut all_plain_symbols, mut transcoded_symbol) = (true, false);
    hash.foreach(|k: Value, item: Value| {
        let (sym, name, kind) = key_symbol(ruby, k)?;
        all_plain_symbols &= kind == KeyKind::PlainSymbol;
        transcoded_symbol |= kind == KeyKind::TranscodedSymbol;
        let (child, json) = walk(ruby, item, depth + 1, build)?;
        if let (Some(out), Some(child)) = (out, child) {
            // SAFETY: `out` is a fresh, unfrozen, plain Hash and the key a Symbol,
            // so the insert runs no Ruby code and cannot raise.
            unsafe { rb_sys::rb_hash_aset(out.as_raw(), sym.as_raw(), child.as_raw()) };
        }
        pairs.push((name, json));
        Ok(magnus::r_hash::ForEach::Continue)
    })?;
    // Keys that collide after conversion (:a and "a"): the later one wins, in
    // the model as in the Ruby Hash, at the first one's position. The Ruby
    // copy already tells whether any did; otherwise one hashed pass decides.
    let collided = match out {
        Some(out) => {
            out.len() != pairs.len()
                || (transcoded_symbol && !ledger_core::json::keys_distinct(&pairs))
        }
        None => !all_plain_symbols && !ledger_core::json::keys_distinct(&pairs),
    };
    let pairs = if collided {
        ledger_core::json::last_wins(pairs)
    } else {
        pairs
    };
    if let Some(out) = out {
        out.freeze();
    }
    Ok((out.map(|h| h.as_value()), Json::Object(pairs)))
}

fn walk_array(
    ruby: &Ruby,
    array: RArray,
    depth: usize,
    build: bool,
) -> Result<(Option<Value>, Json), Error> {
    if depth > MAX_NESTING {
        return Err(nesting(ruby, depth));
    }
    let items = (0..array.len())
        .map(|i| array.entry::<Value>(i as isize))
        .collect::<Result<Vec<_>, _>>()?;
    let out = build.then(|| ruby.ary_new_capa(items.len()));
    let mut elements = Vec::with_capacity(items.len());
    for item in items {
        let (child, json) = walk(ruby, item, depth + 1, build)?;
        if let (Some(out), Some(child)) = (out, child) {
            out.push(child)?;
        }
        elements.push(json);
    }
    if let Some(out) = out {
        out.freeze();
    }
    Ok((out.map(|a| a.as_value()), Json::Array(elements)))
}

/// What a Hash key was, for the collision check of [`walk_hash`].
#[derive(PartialEq, Eq)]
enum KeyKind {
    /// A Symbol whose name is UTF-8 as it stands.
    PlainSymbol,
    /// A Symbol whose name had to be transcoded (kept as is in the copy).
    TranscodedSymbol,
    /// A String or other object: the copy holds the Symbol of its name.
    Named,
}

/// A Hash key as a Symbol plus its name: Symbols stay, Strings are interned,
/// anything else goes through `to_s`.
fn key_symbol(ruby: &Ruby, k: Value) -> Result<(Symbol, String, KeyKind), Error> {
    if let Some(sym) = Symbol::from_value(k) {
        let s = sym_str(ruby, sym);
        // SAFETY: copied at once, before any other Ruby call.
        if let Some(text) = unsafe { s.test_as_str() } {
            return Ok((sym, text.to_owned(), KeyKind::PlainSymbol));
        }
        return Ok((sym, utf8_text(ruby, s)?, KeyKind::TranscodedSymbol));
    }
    let name = match RString::from_value(k) {
        Some(s) => utf8_text(ruby, s)?,
        None => stable_text(ruby, k)?,
    };
    Ok((symbol(ruby, &name), name, KeyKind::Named))
}

/// Normalizes a caller's value: (frozen Ruby copy, model).
pub fn normalize(ruby: &Ruby, v: Value) -> Result<(Value, Json), Error> {
    let (out, json) = walk(ruby, v, 1, true)?;
    Ok((out.unwrap_or(v), json))
}

/// The model of an already-normalized value, for encoding.
pub fn model(ruby: &Ruby, v: Value) -> Result<Json, Error> {
    Ok(walk(ruby, v, 1, false)?.1)
}

/// Builds the deep-frozen Ruby value of a decoded model (Symbol Hash keys).
pub fn to_ruby(ruby: &Ruby, json: &Json) -> Result<Value, Error> {
    Ok(match json {
        Json::Null => ruby.qnil().as_value(),
        Json::Bool(true) => ruby.qtrue().as_value(),
        Json::Bool(false) => ruby.qfalse().as_value(),
        Json::Int(n) => ruby.integer_from_i64(*n).as_value(),
        Json::BigInt(digits) => ruby
            .module_kernel()
            .funcall("Integer", (digits.as_str(),))?,
        Json::Float(f) => ruby.float_from_f64(*f).as_value(),
        Json::Str(s) => frozen_str(ruby, s).as_value(),
        Json::Sym(s) => symbol(ruby, s).as_value(),
        Json::Array(items) => {
            let out = ruby.ary_new_capa(items.len());
            for item in items {
                out.push(to_ruby(ruby, item)?)?;
            }
            out.freeze();
            out.as_value()
        }
        Json::Object(pairs) => {
            let out = ruby.hash_new();
            for (k, item) in pairs {
                let item = to_ruby(ruby, item)?;
                // SAFETY: fresh plain Hash, Symbol key: no Ruby code runs, nothing raises.
                unsafe {
                    rb_sys::rb_hash_aset(out.as_raw(), symbol(ruby, k).as_raw(), item.as_raw())
                };
            }
            out.freeze();
            out.as_value()
        }
    })
}

/// The Symbol named `s`, as `ruby.to_symbol` gives it. A decoded fact names the same few
/// Hash keys over and over: static Symbols (immediates, never collected or moved) are
/// remembered per thread by name, other existing Symbols are looked up straight from the
/// bytes, and only a new name pays for the temporary String and the protected call.
pub fn symbol(ruby: &Ruby, s: &str) -> Symbol {
    if let Some(raw) = STATIC_SYMBOLS.with(|m| m.borrow().get(s).copied()) {
        // SAFETY: `raw` was a static Symbol when cached, and static Symbols live forever.
        if let Some(sym) = Symbol::from_value(unsafe { Value::from_raw(raw) }) {
            return sym;
        }
    }
    // An empty &str may point at 0x1, which Ruby would still read from.
    static EMPTY: [u8; 1] = [0];
    let ptr = if s.is_empty() {
        EMPTY.as_ptr()
    } else {
        s.as_ptr()
    };
    // SAFETY: valid UTF-8 bytes, only read; rb_check_symbol_cstr raises only on broken
    // encodings and returns the existing (static or dynamic) Symbol or nil, creating nothing.
    let found = unsafe {
        Value::from_raw(rb_sys::rb_check_symbol_cstr(
            ptr.cast(),
            s.len() as _,
            rb_sys::rb_utf8_encoding(),
        ))
    };
    let sym = Symbol::from_value(found).unwrap_or_else(|| ruby.to_symbol(s));
    let raw = sym.as_raw();
    // Ruby's STATIC_SYM_P: the low byte of an immediate Symbol is RUBY_SYMBOL_FLAG.
    if raw & 0xff == rb_sys::ruby_special_consts::RUBY_SYMBOL_FLAG as rb_sys::VALUE {
        STATIC_SYMBOLS.with(|m| {
            let mut m = m.borrow_mut();
            // Bounded: data with endless distinct key names must not grow the memo.
            if m.len() >= STATIC_SYMBOLS_CAP {
                m.clear();
            }
            m.insert(s.into(), raw);
        });
    }
    sym
}

const STATIC_SYMBOLS_CAP: usize = 4096;

thread_local! {
    /// Name → static Symbol (as its raw VALUE) of recently converted keys.
    static STATIC_SYMBOLS: std::cell::RefCell<std::collections::HashMap<Box<str>, rb_sys::VALUE>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// A new frozen UTF-8 Ruby String.
pub fn frozen_str(ruby: &Ruby, s: &str) -> RString {
    let out = ruby.str_new(s);
    out.freeze();
    out
}
