//! `Igniter::Store::Fact`: an immutable fact whose normalization, hashing and
//! identity are computed in Rust. The Ruby values it hands out (value,
//! producer, ...) are built once, frozen, and kept (GC-marked), so reads never
//! rebuild objects. A fact built by `Fact.build` (and so by every native write)
//! keeps its value packed and builds the Ruby value and its `value_hash` on
//! first read (doc/performance.md "Native write path").

use std::time::{SystemTime, UNIX_EPOCH};

use ledger_core::fact::compact::{uuid_bytes, uuid_text};
use ledger_core::fact::decode::SymbolTrie;
use ledger_core::{FactRecord, Json};
use magnus::{
    gc::Marker,
    prelude::*,
    scan_args::{get_kwargs, scan_args},
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, Float, Integer, RArray, RHash, RString, Ruby, Symbol, TypedData,
    Value,
};

use crate::{convert, errors};

mod packing;
mod slot;
use slot::Slot;

#[derive(TypedData)]
// Write-barrier protected: every reference is stored before the object
// exists and never changes, so the GC need not re-mark old facts at every
// minor collection.
#[magnus(
    class = "Igniter::Store::Fact",
    free_immediately,
    size,
    mark,
    wb_protected
)]
pub struct Fact {
    /// The id String; built on first read from `uuid` when the build drew it.
    id: Slot,
    store: Opaque<Symbol>,
    key: Opaque<RString>,
    /// Built on first read from `packed` when the build packed the value.
    value: Slot,
    /// Likewise: the hash of the packed value, on first read.
    value_hash: Slot,
    /// The causation String or nil; built on first read from `cause_uuid`
    /// when the build took it from a fact whose id was not built yet.
    causation: Slot,
    transaction_time: f64,
    valid_time: Option<f64>,
    /// An Integer (any size).
    schema_version: Opaque<Value>,
    producer: Opaque<Value>,
    derivation: Opaque<Value>,
    /// The value in `ledger_core::json::packed` form, when the build could
    /// pack it without normalizing (fact/packing.rs): the source of the value
    /// and its hash, and of the value's model when the fact is encoded.
    packed: Option<Box<[u8]>>,
    /// The bits of a canonical UUID id, the source of an unbuilt `id`.
    uuid: Option<[u8; 16]>,
    /// Likewise for an unbuilt `causation`.
    cause_uuid: Option<[u8; 16]>,
}

impl DataTypeFunctions for Fact {
    fn mark(&self, marker: &Marker) {
        self.id.mark(marker);
        marker.mark(self.store);
        marker.mark(self.key);
        self.value.mark(marker);
        self.value_hash.mark(marker);
        self.causation.mark(marker);
        marker.mark(self.schema_version);
        marker.mark(self.producer);
        marker.mark(self.derivation);
    }
}

/// `Process.clock_gettime(Process::CLOCK_REALTIME)`, computed the same way.
fn realtime() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as f64 + f64::from(d.subsec_nanos()) / 1e9)
        .unwrap_or(0.0)
}

fn present(v: Option<Value>) -> Option<Value> {
    v.filter(|v| !v.is_nil())
}

fn truthy(v: Option<Value>) -> Option<Value> {
    v.filter(|v| v.to_bool())
}

/// `store.to_sym` for Strings and Symbols (and anything that answers to_sym),
/// its name checked like any stored text: a Symbol whose name is not UTF-8
/// becomes the Symbol of its UTF-8 transcoding, one that has none is refused.
fn store_symbol(ruby: &Ruby, store: Value) -> Result<Symbol, Error> {
    let sym = if let Some(sym) = Symbol::from_value(store) {
        sym
    } else if let Some(s) = RString::from_value(store) {
        return Ok(convert::symbol(ruby, &convert::utf8_text(ruby, s)?));
    } else {
        store.funcall("to_sym", ())?
    };
    let name = convert::sym_str(ruby, sym);
    // SAFETY: only checks the bytes; nothing is kept.
    if name.is_utf8_compatible_encoding() && unsafe { name.test_as_str() }.is_some() {
        return Ok(sym);
    }
    Ok(convert::symbol(ruby, &convert::utf8_text(ruby, name)?))
}

/// `key.to_s`, frozen, never the caller's mutable String.
fn key_string(ruby: &Ruby, key: Value) -> Result<RString, Error> {
    let s = match RString::from_value(key) {
        Some(s) => s,
        None => key.funcall("to_s", ())?,
    };
    // SAFETY: only checks the bytes; nothing is kept. Only a UTF-8 String is
    // kept as it is: a US-ASCII or binary one (`nil.to_s`, `42.to_s`) becomes
    // UTF-8, as on the pure path.
    if s.is_frozen() && s.enc_get() == ruby.utf8_encindex() && unsafe { s.test_as_str() }.is_some()
    {
        return Ok(s);
    }
    Ok(convert::frozen_str(ruby, &convert::utf8_text(ruby, s)?))
}

/// The stored form of a new fact's key and its text: `key.to_s` as an
/// interned frozen UTF-8 String (the pure path's `-key`). A key that is not
/// yet frozen UTF-8 is interned straight from its text, so the write makes no
/// throwaway frozen copy first, and the text serves the fact's record.
fn stored_key(ruby: &Ruby, key: Value) -> Result<(RString, String), Error> {
    let s = match RString::from_value(key) {
        Some(s) => s,
        None => key.funcall("to_s", ())?,
    };
    if s.is_frozen() && s.enc_get() == ruby.utf8_encindex() {
        // SAFETY: copied at once, before any other Ruby call.
        if let Some(text) = unsafe { s.test_as_str() }.map(str::to_owned) {
            return Ok((s.to_interned_str(), text));
        }
    }
    let text = convert::utf8_text(ruby, s)?;
    Ok((convert::interned_str(ruby, &text), text))
}

fn optional_string(ruby: &Ruby, v: Option<Value>) -> Result<Value, Error> {
    match present(v) {
        None => Ok(ruby.qnil().as_value()),
        Some(v) => Ok(key_string(ruby, v)?.as_value()),
    }
}

fn to_f(ruby: &Ruby, v: Value) -> Result<f64, Error> {
    let f = match Float::from_value(v) {
        Some(f) => f.to_f64(),
        None => v.funcall::<_, _, f64>("to_f", ())?,
    };
    if f.is_finite() {
        Ok(f)
    } else {
        Err(convert::non_finite(ruby, f))
    }
}

/// `v.to_i` as an Integer of any size; nil means the default, 1 (as an absent
/// or null `schema_version` does everywhere else).
fn schema_integer(ruby: &Ruby, v: Option<Value>) -> Result<Integer, Error> {
    match present(v) {
        None => Ok(ruby.integer_from_i64(1)),
        Some(v) => match Integer::from_value(v) {
            Some(i) => Ok(i),
            None => v.funcall::<_, _, Integer>("to_i", ()),
        },
    }
}

/// The stored form of an Integer: `Json::Int`, or `Json::BigInt` beyond 64 bits.
fn integer_model(i: Integer) -> Result<Json, Error> {
    match i.to_i64() {
        Ok(n) => Ok(Json::Int(n)),
        Err(_) => Ok(Json::BigInt(
            i.funcall::<_, _, RString>("to_s", ())?.to_string()?,
        )),
    }
}

/// The Ruby Integer of a stored `schema_version`.
fn integer_value(ruby: &Ruby, j: &Json) -> Result<Value, Error> {
    match j {
        Json::Int(_) | Json::BigInt(_) => convert::to_ruby(ruby, j),
        _ => Ok(ruby.integer_from_i64(1).as_value()),
    }
}

/// `valid_time`, else a truthy `term`, as a finite Float; a falsy source means
/// none (`valid_time: false` is no time, as `nil` is).
fn valid_time_of(
    ruby: &Ruby,
    valid_time: Option<Value>,
    term: Option<Value>,
) -> Result<Option<f64>, Error> {
    let source = match present(valid_time) {
        Some(v) => Some(v),
        None => term,
    };
    truthy(source).map(|v| to_f(ruby, v)).transpose()
}

/// A normalized producer/derivation and its model (`Json::Null` for nil).
fn normalized_or_nil(ruby: &Ruby, v: Option<Value>) -> Result<(Value, Json), Error> {
    match truthy(v) {
        None => Ok((ruby.qnil().as_value(), Json::Null)),
        Some(v) => convert::normalize(ruby, v),
    }
}

/// The `symbols:` member of `Fact.from_h` as the model of its entries; an
/// entry with no model (it holds a Proc, a NaN, …) is malformed and left out,
/// as the trie leaves out any other malformed entry (doc/format.md).
fn symbol_paths(ruby: &Ruby, symbols: Option<Value>) -> Json {
    let Some(entries) = symbols.and_then(RArray::from_value) else {
        return Json::Null;
    };
    Json::Array(
        entries
            .into_iter()
            .filter_map(|entry| convert::model(ruby, entry).ok())
            .collect(),
    )
}

/// `a.equal?(b)`.
fn same_object(a: Value, b: Value) -> bool {
    use magnus::rb_sys::AsRawValue;
    a.as_raw() == b.as_raw()
}

/// Copy-on-write along the trie of a normalized (deep-frozen) Ruby value:
/// the Strings where paths end become Symbols (`to_sym`, their encoding
/// kept), everything else, objects included, stays as it is.
fn restore_symbols(v: Value, node: &SymbolTrie) -> Result<Value, Error> {
    if node.is_leaf() && RString::from_value(v).is_some() {
        return v.funcall("to_sym", ());
    }
    let ruby = Ruby::get_with(v);
    if let Some(hash) = RHash::from_value(v) {
        let mut copy: Option<RHash> = None;
        for (name, child) in node.keys() {
            let key = convert::symbol(&ruby, name);
            let Some(item) = hash.get(key) else { continue };
            let restored = restore_symbols(item, child)?;
            if !same_object(restored, item) {
                let target = match copy {
                    Some(c) => c,
                    None => hash.funcall::<_, _, RHash>("dup", ())?,
                };
                target.aset(key, restored)?;
                copy = Some(target);
            }
        }
        return Ok(copy.map_or(v, |c| {
            c.freeze();
            c.as_value()
        }));
    }
    if let Some(array) = RArray::from_value(v) {
        let mut copy: Option<RArray> = None;
        for (i, child) in node.indexes() {
            let Ok(at) = isize::try_from(i) else { continue };
            if i >= array.len() {
                continue;
            }
            let item: Value = array.entry(at)?;
            let restored = restore_symbols(item, child)?;
            if !same_object(restored, item) {
                let target = match copy {
                    Some(c) => c,
                    None => array.funcall::<_, _, RArray>("dup", ())?,
                };
                target.store(at, restored)?;
                copy = Some(target);
            }
        }
        return Ok(copy.map_or(v, |c| {
            c.freeze();
            c.as_value()
        }));
    }
    Ok(v)
}

/// The arguments of `Fact.build`, positional (absent = None).
pub struct NewFact {
    pub store: Value,
    pub key: Value,
    pub value: Value,
    pub causation: Option<Value>,
    /// A causation given as the UUID bits of a fact's unbuilt id (instead of `causation`).
    pub cause_uuid: Option<[u8; 16]>,
    pub valid_time: Option<Value>,
    pub term: Option<Value>,
    pub schema_version: Option<Value>,
    pub producer: Option<Value>,
    pub derivation: Option<Value>,
}

/// The texts a new fact is indexed under (from [`Fact::create`]).
pub struct Entry {
    pub store: String,
    pub key: String,
    pub id: String,
}

/// The error of packed bytes that do not decode: only the fact itself packed
/// them, so this is a bug, not bad input.
fn damaged(ruby: &Ruby) -> Error {
    Error::new(
        ruby.exception_runtime_error(),
        "igniter-ledger: a fact's packed value is damaged",
    )
}

/// A new fact's value, value_hash and packed form. A value
/// fact/packing.rs takes is kept packed and its Ruby value and hash are
/// built on first read; any other is normalized and hashed now, as before.
fn value_data(ruby: &Ruby, v: Value) -> Result<ValueData, Error> {
    let packed = PACK_SCRATCH.with(|cell| {
        let mut out = cell.borrow_mut();
        out.clear();
        packing::pack(ruby, v, &mut out).then(|| Box::<[u8]>::from(&out[..]))
    });
    if let Some(packed) = packed {
        // A value the copy would be itself (an immediate, a Symbol, a frozen
        // String) is kept as it is, as the normalizing walk keeps it.
        let container = RHash::from_value(v).is_some() || RArray::from_value(v).is_some();
        let kept = !container && (v.is_frozen() || Symbol::from_value(v).is_some());
        let value = if kept { Slot::new(v) } else { Slot::unset() };
        return Ok(ValueData {
            value,
            hash: Slot::unset(),
            packed: Some(packed),
        });
    }
    let (value, model) = convert::normalize(ruby, v)?;
    let hash = ledger_core::value_hash(&model).map_err(|e| errors::core(ruby, e))?;
    Ok(ValueData {
        value: Slot::new(value),
        hash: Slot::new(convert::frozen_str(ruby, &hash).as_value()),
        packed: None,
    })
}

/// A new fact's value members (see [`value_data`]).
struct ValueData {
    value: Slot,
    hash: Slot,
    packed: Option<Box<[u8]>>,
}

/// A member in `slot`, or the frozen String of the UUID `bits` it is built
/// from on first read, or nil (a slot left unset always has its bits).
fn built_or(
    this: Obj<Fact>,
    ruby: &Ruby,
    slot: &Slot,
    bits: Option<[u8; 16]>,
) -> Result<Value, Error> {
    if let Some(v) = slot.get() {
        return Ok(v);
    }
    let bits = bits.ok_or_else(|| damaged(ruby))?;
    let built = convert::frozen_str(ruby, &uuid_text(&bits)).as_value();
    Ok(slot.fill(this.as_value(), built))
}

thread_local! {
    /// The buffer a value is packed into before its exact-size copy is taken.
    static PACK_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(256));
}

/// The members of [`Fact::from_members`], as Ruby values.
pub struct Members {
    pub id: RString,
    pub store: Symbol,
    pub key: RString,
    pub value: Value,
    pub value_hash: Value,
    pub causation: Value,
    pub transaction_time: f64,
    pub valid_time: Option<f64>,
    pub schema_version: Value,
    pub producer: Value,
    pub derivation: Value,
}

impl Fact {
    fn wrap(ruby: &Ruby, fact: Fact) -> Obj<Fact> {
        // Until the object exists its members are only in `fact`, which
        // `obj_wrap` moves into a Box before allocating the object, and that
        // allocation may run a GC: it marks the machine stack, not the Box.
        // So a copy of every member stays on the stack through the
        // allocation (the idiom of Ruby's RB_GC_GUARD).
        let guard = fact.raw_members(ruby);
        let obj = ruby.obj_wrap(fact);
        std::hint::black_box(&guard);
        obj.freeze();
        obj
    }

    /// Every member VALUE (Qundef for an unbuilt slot), for `wrap`'s guard.
    fn raw_members(&self, ruby: &Ruby) -> [u64; 9] {
        use magnus::rb_sys::AsRawValue;
        let raw = |v: Value| v.as_raw();
        [
            self.id.raw(),
            raw(ruby.get_inner(self.store).as_value()),
            raw(ruby.get_inner(self.key).as_value()),
            self.value.raw(),
            self.value_hash.raw(),
            self.causation.raw(),
            raw(ruby.get_inner(self.schema_version)),
            raw(ruby.get_inner(self.producer)),
            raw(ruby.get_inner(self.derivation)),
        ]
    }

    /// `Fact.build(store:, key:, value:, causation: nil, valid_time: nil,
    /// term: nil, schema_version: 1, producer: nil, derivation: nil)`.
    fn build(ruby: &Ruby, args: &[Value]) -> Result<Obj<Fact>, Error> {
        let args = scan_args::<(), (), (), (), RHash, ()>(args)?;
        type Opt = (
            Option<Value>,
            Option<Value>,
            Option<Value>,
            Option<Value>,
            Option<Value>,
            Option<Value>,
        );
        let kw = get_kwargs::<_, (Value, Value, Value), Opt, ()>(
            args.keywords,
            &["store", "key", "value"],
            &[
                "causation",
                "valid_time",
                "term",
                "schema_version",
                "producer",
                "derivation",
            ],
        )?;
        let (store, key, value) = kw.required;
        let (causation, valid_time, term, schema_version, producer, derivation) = kw.optional;
        let input = NewFact {
            store,
            key,
            value,
            causation,
            cause_uuid: None,
            valid_time,
            term,
            schema_version,
            producer,
            derivation,
        };
        Ok(Self::create(ruby, input)?.0)
    }

    /// The whole of `Fact.build` on positional inputs. Also returns the texts
    /// the log indexes the new fact under (no second read of its members).
    pub fn create(ruby: &Ruby, input: NewFact) -> Result<(Obj<Fact>, Entry), Error> {
        let store = store_symbol(ruby, input.store)?;
        let (key, key_text) = stored_key(ruby, input.key)?;
        let ValueData {
            value,
            hash: value_hash,
            packed,
        } = value_data(ruby, input.value)?;
        let valid_time = valid_time_of(ruby, input.valid_time, input.term)?;
        let schema_version = schema_integer(ruby, input.schema_version)?;
        let (causation, cause_uuid) = match input.cause_uuid {
            Some(bits) => (Slot::unset(), Some(bits)),
            None => (Slot::new(optional_string(ruby, input.causation)?), None),
        };
        let producer = normalized_or_nil(ruby, input.producer)?.0;
        let derivation = normalized_or_nil(ruby, input.derivation)?.0;
        let id = ledger_core::new_uuid();
        let uuid = uuid_bytes(&id);
        let entry = Entry {
            store: convert::sym_text(ruby, store)?,
            key: key_text,
            id,
        };
        let fact = Self::wrap(
            ruby,
            Fact {
                id: match uuid {
                    Some(_) => Slot::unset(),
                    None => Slot::new(convert::frozen_str(ruby, &entry.id).as_value()),
                },
                store: store.into(),
                key: key.into(),
                value,
                value_hash,
                causation,
                transaction_time: realtime(),
                valid_time,
                schema_version: schema_version.as_value().into(),
                producer: producer.into(),
                derivation: derivation.into(),
                packed,
                uuid,
                cause_uuid,
            },
        );
        Ok((fact, entry))
    }

    /// The id String, built from the UUID bits on first read and then kept.
    pub fn id_in(this: Obj<Fact>, ruby: &Ruby) -> Result<Value, Error> {
        built_or(this, ruby, &this.id, this.uuid)
    }

    /// The causation (String or nil), built on first read like the id.
    pub fn causation_in(this: Obj<Fact>, ruby: &Ruby) -> Result<Value, Error> {
        built_or(this, ruby, &this.causation, this.cause_uuid)
    }

    /// The UUID bits of the id while its String is not built: what a fact
    /// caused by this one records instead of sharing the String.
    pub fn unbuilt_uuid(&self) -> Option<[u8; 16]> {
        self.uuid.filter(|_| self.id.get().is_none())
    }

    /// The value, built from its packed form on first read and then kept.
    pub fn value_in(this: Obj<Fact>, ruby: &Ruby) -> Result<Value, Error> {
        if let Some(v) = this.value.get() {
            return Ok(v);
        }
        let bytes = this.packed.as_deref().ok_or_else(|| damaged(ruby))?;
        let built = crate::fact_log::lazy::value(ruby, bytes)?;
        Ok(this.value.fill(this.as_value(), built))
    }

    /// The `value_hash` String, computed from the packed value on first read
    /// and then kept.
    pub fn value_hash_in(this: Obj<Fact>, ruby: &Ruby) -> Result<Value, Error> {
        if let Some(v) = this.value_hash.get() {
            return Ok(v);
        }
        let text = this.packed_hash(ruby)?;
        let built = convert::frozen_str(ruby, &text).as_value();
        Ok(this.value_hash.fill(this.as_value(), built))
    }

    /// `value_hash` of the packed value.
    fn packed_hash(&self, ruby: &Ruby) -> Result<String, Error> {
        let bytes = self.packed.as_deref().ok_or_else(|| damaged(ruby))?;
        ledger_core::json::packed_canonical::packed_value_hash(bytes).ok_or_else(|| damaged(ruby))
    }

    /// The `value_hash` text, from the built String or computed.
    fn hash_text(&self, ruby: &Ruby) -> Result<Option<String>, Error> {
        match self.value_hash.get() {
            Some(v) => match RString::from_value(v) {
                Some(s) => Ok(Some(convert::utf8_text(ruby, s)?)),
                None => Ok(None),
            },
            None => self.packed_hash(ruby).map(Some),
        }
    }

    /// The value's model: unpacked when packed (no Ruby walk), else walked.
    fn value_model(&self, ruby: &Ruby) -> Result<Json, Error> {
        match &self.packed {
            Some(bytes) => ledger_core::json::packed::unpack(bytes).ok_or_else(|| damaged(ruby)),
            None => convert::model(ruby, self.value.get().ok_or_else(|| damaged(ruby))?),
        }
    }

    /// `Fact.from_h(hash)`: restores a fact from wire, WAL or snapshot form,
    /// keeping id, times, hash and causation verbatim (Symbol or String keys).
    /// Data members are normalized and checked as at `build`, times must be
    /// finite: a fact that could not be written is refused here, not later.
    fn from_h(ruby: &Ruby, hash: RHash) -> Result<Obj<Fact>, Error> {
        let get = |name: &str| -> Option<Value> {
            present(
                hash.get(convert::symbol(ruby, name))
                    .or_else(|| hash.get(name)),
            )
        };
        let store = get("store")
            .ok_or_else(|| Error::new(ruby.exception_key_error(), "key not found: :store"))?;
        // `a || b`: a false time falls through to its legacy name, then to none.
        let tt = match truthy(get("transaction_time")).or_else(|| truthy(get("timestamp"))) {
            Some(v) => to_f(ruby, v)?,
            None => 0.0,
        };
        let valid_time = truthy(get("valid_time"))
            .or_else(|| truthy(get("term")))
            .map(|v| to_f(ruby, v))
            .transpose()?;
        let paths = symbol_paths(ruby, get("symbols"));
        let trie = SymbolTrie::from_paths(&paths);
        let restore = |field: &str, value: Option<Value>| -> Result<Value, Error> {
            let Some(v) = value else {
                return Ok(ruby.qnil().as_value());
            };
            let normalized = convert::normalize(ruby, v)?.0;
            match trie.key(field) {
                Some(node) => restore_symbols(normalized, node),
                None => Ok(normalized),
            }
        };
        let id = match get("id") {
            Some(v) => key_string(ruby, v)?,
            None => convert::frozen_str(ruby, &ledger_core::new_uuid()),
        };
        Ok(Self::wrap(
            ruby,
            Fact {
                id: Slot::new(id.as_value()),
                store: store_symbol(ruby, store)?.into(),
                key: key_string(ruby, get("key").unwrap_or_else(|| ruby.qnil().as_value()))?.into(),
                value: Slot::new(restore("value", get("value"))?),
                value_hash: Slot::new(optional_string(ruby, get("value_hash"))?),
                causation: Slot::new(optional_string(ruby, get("causation"))?),
                transaction_time: tt,
                valid_time,
                schema_version: schema_integer(ruby, get("schema_version"))?
                    .as_value()
                    .into(),
                producer: restore("producer", truthy(get("producer")))?.into(),
                derivation: restore("derivation", truthy(get("derivation")))?.into(),
                packed: None,
                uuid: None,
                cause_uuid: None,
            },
        ))
    }

    /// `Fact.new(**members)` (also `Fact[**members]`): keyword construction
    /// from the 11 members, converted and checked as by `from_h`; the result
    /// is frozen like every fact. Unknown keywords and positional arguments
    /// raise `ArgumentError` with Struct's messages.
    fn new(ruby: &Ruby, args: &[Value]) -> Result<Obj<Fact>, Error> {
        let args = scan_args::<(), (), (), (), RHash, ()>(args)?;
        let members = args.keywords;
        let mut unknown = Vec::new();
        members.foreach(|k: Value, _: Value| {
            let known = Symbol::from_value(k)
                .map(|sym| convert::sym_str(ruby, sym))
                // SAFETY: compared at once, nothing kept.
                .is_some_and(|name| {
                    MEMBERS
                        .iter()
                        .any(|m| unsafe { name.as_slice() } == m.as_bytes())
                });
            if !known {
                unknown.push(k.inspect());
            }
            Ok(magnus::r_hash::ForEach::Continue)
        })?;
        if !unknown.is_empty() {
            return Err(Error::new(
                ruby.exception_arg_error(),
                format!("unknown keywords: {}", unknown.join(", ")),
            ));
        }
        Self::from_h(ruby, members)
    }

    /// `_dump(level)`: the Marshal form of a fact is its WAL body (doc/format.md),
    /// the same bytes on both paths, so a dump loads on either.
    fn dump(ruby: &Ruby, rb_self: Obj<Fact>, _level: Value) -> Result<RString, Error> {
        let mut body = Vec::with_capacity(256);
        Self::encode_body(rb_self, ruby, |_| Ok(()), &mut body)?;
        // The body is UTF-8 JSON text, held as a UTF-8 String like the pure path's.
        let text = String::from_utf8(body).map_err(|_| errors::invalid_encoding(ruby))?;
        Ok(ruby.str_new(&text))
    }

    /// `_unstamped_body(id)`: the body the PostgreSQL backend stores for this
    /// fact (doc/postgres.md, "Tables"): the fact body under `id`, with
    /// causation null and transaction_time 0.0, which the write transaction
    /// settles in their own columns. Byte for byte what the pure path's
    /// `Postgres::Rows.body` makes.
    fn unstamped_body(ruby: &Ruby, rb_self: Obj<Fact>, id: RString) -> Result<RString, Error> {
        let mut body = Vec::with_capacity(256);
        let edit = |rec: &mut FactRecord| {
            rec.id = convert::utf8_text(ruby, id)?;
            rec.causation = None;
            rec.transaction_time = 0.0;
            Ok(())
        };
        Self::encode_body(rb_self, ruby, edit, &mut body)?;
        let text = String::from_utf8(body).map_err(|_| errors::invalid_encoding(ruby))?;
        Ok(ruby.str_new(&text))
    }

    /// `_stamped(id, causation, transaction_time)`: a copy of this fact under
    /// the id, causation and time a PostgreSQL commit settled; every other
    /// member is shared. Equal to the pure path's
    /// `Fact.from_h(to_h.merge(id:, causation:, transaction_time:))`.
    fn stamped(
        ruby: &Ruby,
        rb_self: Obj<Fact>,
        id: Value,
        causation: Value,
        time: Value,
    ) -> Result<Obj<Fact>, Error> {
        Ok(Self::wrap(
            ruby,
            Fact {
                id: Slot::new(key_string(ruby, id)?.as_value()),
                causation: Slot::new(optional_string(ruby, Some(causation))?),
                transaction_time: to_f(ruby, time)?,
                uuid: None,
                cause_uuid: None,
                ..Self::share_members(rb_self)
            },
        ))
    }

    /// The members as they stand, built or not: a stamped copy replaces the
    /// id, causation and time, and builds its value (from the shared packed
    /// bytes) only if it is read, as the original would have. A member the
    /// original had built is the very object in the copy. The pure path's
    /// `_stamped` builds a new fact from `to_h`, so no reader can tell the
    /// difference; the PostgreSQL write stamps every fact it commits, and
    /// building each value there cost ~12,000 instructions a fact.
    fn share_members(this: Obj<Fact>) -> Fact {
        Fact {
            id: this.id.copy(),
            store: this.store,
            key: this.key,
            value: this.value.copy(),
            value_hash: this.value_hash.copy(),
            causation: this.causation.copy(),
            transaction_time: this.transaction_time,
            valid_time: this.valid_time,
            schema_version: this.schema_version,
            producer: this.producer,
            derivation: this.derivation,
            packed: this.packed.clone(),
            uuid: this.uuid,
            cause_uuid: this.cause_uuid,
        }
    }

    /// The members, shared (for copies and [`Fact::stamped`]): the lazy ones
    /// are built first, so a copy's value is the very object of the original.
    fn clone_members(this: Obj<Fact>, ruby: &Ruby) -> Result<Fact, Error> {
        Self::id_in(this, ruby)?;
        Self::causation_in(this, ruby)?;
        Self::value_in(this, ruby)?;
        Self::value_hash_in(this, ruby)?;
        Ok(Self::share_members(this))
    }

    /// `Fact._load(body)`: a fact from its `_dump`; a body that breaks a decode
    /// rule is an `ArgumentError` naming the rule.
    fn load(ruby: &Ruby, body: RString) -> Result<Obj<Fact>, Error> {
        // SAFETY: copied before any other Ruby call.
        let bytes = unsafe { body.as_slice() }.to_vec();
        match ledger_core::decode_fact_body(&bytes) {
            Ok(rec) => Self::from_record(ruby, &rec),
            Err(e) => Err(Error::new(
                ruby.exception_arg_error(),
                format!(
                    "marshal data is not a fact: {}",
                    ledger_core::fact::decode::rejection_reason(&e)
                ),
            )),
        }
    }

    /// A new fact object with the same members (frozen: a fact never changes).
    fn copy(this: Obj<Fact>, ruby: &Ruby) -> Result<Obj<Fact>, Error> {
        Ok(Self::wrap(ruby, Self::clone_members(this, ruby)?))
    }

    /// A fact decoded by the core (WAL or snapshot replay).
    pub fn from_record(ruby: &Ruby, rec: &FactRecord) -> Result<Obj<Fact>, Error> {
        Self::from_record_after(ruby, rec, None)
    }

    /// [`Fact::from_record`] given the fact replayed before it under the same
    /// key: a causation naming that fact shares its id String instead of a
    /// copy (the pure path gets the same sharing from interning). Keys and
    /// value Strings are interned; ids and hashes, unique, are not.
    pub fn from_record_after(
        ruby: &Ruby,
        rec: &FactRecord,
        previous: Option<Obj<Fact>>,
    ) -> Result<Obj<Fact>, Error> {
        let opt = |s: &Option<String>| match s {
            Some(s) => convert::frozen_str(ruby, s).as_value(),
            None => ruby.qnil().as_value(),
        };
        let causation = match (&rec.causation, previous) {
            (Some(c), Some(prev)) if prev.id_is(ruby, c) => Self::id_in(prev, ruby)?,
            _ => opt(&rec.causation),
        };
        let nil_or = |j: &Json| -> Result<Value, Error> {
            match j {
                Json::Null => Ok(ruby.qnil().as_value()),
                j => convert::to_ruby(ruby, j),
            }
        };
        Ok(Self::wrap(
            ruby,
            Fact {
                id: Slot::new(convert::frozen_str(ruby, &rec.id).as_value()),
                store: convert::symbol(ruby, &rec.store).into(),
                key: convert::interned_str(ruby, &rec.key).into(),
                value: Slot::new(convert::to_ruby(ruby, &rec.value)?),
                value_hash: Slot::new(opt(&rec.value_hash)),
                causation: Slot::new(causation),
                transaction_time: rec.transaction_time,
                valid_time: rec.valid_time,
                schema_version: integer_value(ruby, &rec.schema_version)?.into(),
                producer: nil_or(&rec.producer)?.into(),
                derivation: nil_or(&rec.derivation)?.into(),
                packed: None,
                uuid: None,
                cause_uuid: None,
            },
        ))
    }

    /// A fact from members already built as Ruby values: how the log builds a
    /// fact from its compact record on first touch (fact_log/lazy.rs). The
    /// caller builds each member exactly as [`Fact::from_record_after`] does.
    pub fn from_members(ruby: &Ruby, m: Members) -> Obj<Fact> {
        Self::wrap(
            ruby,
            Fact {
                id: Slot::new(m.id.as_value()),
                store: m.store.into(),
                key: m.key.into(),
                value: Slot::new(m.value),
                value_hash: Slot::new(m.value_hash),
                causation: Slot::new(m.causation),
                transaction_time: m.transaction_time,
                valid_time: m.valid_time,
                schema_version: m.schema_version.into(),
                producer: m.producer.into(),
                derivation: m.derivation.into(),
                packed: None,
                uuid: None,
                cause_uuid: None,
            },
        )
    }

    /// Appends this fact's frame body (doc/format.md "WAL") to `out`, after
    /// `edit` has changed members of its record (the PostgreSQL body's id,
    /// causation and time). A packed value is written straight from its bytes
    /// (`ledger_core::json::packed_json`), not unpacked into a model first.
    /// The `value_hash` the body carries is computed once and kept, for a
    /// later `value_hash` read or a stamped copy.
    pub fn encode_body(
        this: Obj<Fact>,
        ruby: &Ruby,
        edit: impl FnOnce(&mut FactRecord) -> Result<(), Error>,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let (packed, unhashed) = match &this.packed {
            Some(bytes) => (Some(&bytes[..]), this.value_hash.get().is_none()),
            None => (None, false),
        };
        if let (Some(bytes), true) = (packed, unhashed) {
            // One walk writes the value's text and gives its hash (see
            // `write_json_packed_hashed`); the String is kept for a later read.
            let mut json = Vec::with_capacity(bytes.len() * 2);
            let mut paths = Vec::new();
            let hash = ledger_core::json::packed_json::write_json_packed_hashed(
                bytes, "value", &mut json, &mut paths,
            )
            .map_err(|e| errors::core(ruby, e))?;
            let built = convert::frozen_str(ruby, &hash).as_value();
            this.value_hash.fill(this.as_value(), built);
            let mut rec = this.record_with(ruby, false, Some(hash))?;
            edit(&mut rec)?;
            let value = ledger_core::BodyValue::Written {
                json: &json,
                paths: &paths,
            };
            return ledger_core::encode_fact_body_with(&rec, value, out)
                .map_err(|e| errors::core(ruby, e));
        }
        Self::value_hash_in(this, ruby)?;
        let mut rec = this.record_with(ruby, packed.is_none(), None)?;
        edit(&mut rec)?;
        let value = match packed {
            Some(bytes) => ledger_core::BodyValue::Packed(bytes),
            None => ledger_core::BodyValue::Model,
        };
        ledger_core::encode_fact_body_with(&rec, value, out).map_err(|e| errors::core(ruby, e))
    }

    /// The record the core encodes into a WAL or snapshot frame.
    pub fn to_record(&self, ruby: &Ruby) -> Result<FactRecord, Error> {
        self.record_with(ruby, true, None)
    }

    /// The record, its value's model left `Null` unless `with_value`, its
    /// `value_hash` the given text or else the kept or computed one.
    fn record_with(
        &self,
        ruby: &Ruby,
        with_value: bool,
        hash: Option<String>,
    ) -> Result<FactRecord, Error> {
        let text = |v: Value| -> Result<Option<String>, Error> {
            match RString::from_value(v) {
                Some(s) => Ok(Some(convert::utf8_text(ruby, s)?)),
                None => Ok(None),
            }
        };
        Ok(FactRecord {
            id: self.id_text(ruby)?,
            store: convert::sym_text(ruby, ruby.get_inner(self.store))?,
            key: convert::utf8_text(ruby, ruby.get_inner(self.key))?,
            value: if with_value {
                self.value_model(ruby)?
            } else {
                Json::Null
            },
            value_hash: match hash {
                Some(text) => Some(text),
                None => self.hash_text(ruby)?,
            },
            causation: match (self.causation.get(), self.cause_uuid) {
                (Some(v), _) => text(v)?,
                (None, bits) => bits.map(|b| uuid_text(&b)),
            },
            transaction_time: self.transaction_time,
            valid_time: self.valid_time,
            schema_version: integer_model(Integer::try_convert(
                ruby.get_inner(self.schema_version),
            )?)?,
            producer: convert::model(ruby, ruby.get_inner(self.producer))?,
            derivation: convert::model(ruby, ruby.get_inner(self.derivation))?,
        })
    }

    pub fn store_name(&self, ruby: &Ruby) -> Result<String, Error> {
        convert::sym_text(ruby, ruby.get_inner(self.store))
    }

    /// The key's text, for the log's Rust-side index.
    pub fn key_text(&self, ruby: &Ruby) -> Result<String, Error> {
        convert::utf8_text(ruby, ruby.get_inner(self.key))
    }

    pub fn id_text(&self, ruby: &Ruby) -> Result<String, Error> {
        match (self.id.get().and_then(RString::from_value), self.uuid) {
            (Some(s), _) => convert::utf8_text(ruby, s),
            (None, Some(bits)) => Ok(uuid_text(&bits)),
            (None, None) => Err(damaged(ruby)),
        }
    }

    /// True when the id's text is `text`.
    pub fn id_is(&self, _ruby: &Ruby, text: &str) -> bool {
        match (self.id.get().and_then(RString::from_value), self.uuid) {
            // SAFETY: only compares the bytes; nothing is kept.
            (Some(id), _) => (unsafe { id.as_slice() }) == text.as_bytes(),
            (None, Some(bits)) => uuid_bytes(text) == Some(bits),
            (None, None) => false,
        }
    }

    pub fn tt(&self) -> f64 {
        self.transaction_time
    }

    pub fn vt(&self) -> Option<f64> {
        self.valid_time
    }

    /// The 11 members in WAL order, as Ruby values (the lazy ones built).
    fn members(this: Obj<Fact>, ruby: &Ruby) -> Result<[(&'static str, Value); 11], Error> {
        let float = |f: f64| ruby.float_from_f64(f).as_value();
        Ok([
            ("id", Self::id_in(this, ruby)?),
            ("store", ruby.get_inner(this.store).as_value()),
            ("key", ruby.get_inner(this.key).as_value()),
            ("value", Self::value_in(this, ruby)?),
            ("value_hash", Self::value_hash_in(this, ruby)?),
            ("causation", Self::causation_in(this, ruby)?),
            ("transaction_time", float(this.transaction_time)),
            (
                "valid_time",
                this.valid_time
                    .map_or_else(|| ruby.qnil().as_value(), float),
            ),
            ("schema_version", ruby.get_inner(this.schema_version)),
            ("producer", ruby.get_inner(this.producer)),
            ("derivation", ruby.get_inner(this.derivation)),
        ])
    }

    /// Member equality, `==` or `eql?` per member, like Struct's.
    fn same(ruby: &Ruby, a: Obj<Fact>, other: Value, strict: bool) -> Result<bool, Error> {
        let Ok(other) = Obj::<Fact>::try_convert(other) else {
            return Ok(false);
        };
        let (mine, theirs) = (Self::members(a, ruby)?, Self::members(other, ruby)?);
        for ((_, x), (_, y)) in mine.iter().zip(theirs.iter()) {
            let same = if strict { x.eql(*y)? } else { x.equal(*y)? };
            if !same {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Member names, in `to_h` / WAL order.
const MEMBERS: [&str; 11] = [
    "id",
    "store",
    "key",
    "value",
    "value_hash",
    "causation",
    "transaction_time",
    "valid_time",
    "schema_version",
    "producer",
    "derivation",
];

mod methods;
pub use methods::define;
