//! `Igniter::Store::Fact`: an immutable fact whose normalization, hashing and
//! identity are computed in Rust. The Ruby values it hands out (value,
//! producer, ...) are built once, frozen, and kept (GC-marked), so reads never
//! rebuild objects.

use std::time::{SystemTime, UNIX_EPOCH};

use ledger_core::{FactRecord, Json};
use magnus::{
    gc::Marker,
    prelude::*,
    scan_args::{get_kwargs, scan_args},
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, Float, Integer, RHash, RString, Ruby, Symbol, TypedData, Value,
};

use crate::{convert, errors};

#[derive(TypedData)]
// Write-barrier protected: every reference is stored before the object
// exists and never changes, so the GC need not re-mark old facts at every
// minor collection.
#[magnus(class = "Igniter::Store::Fact", free_immediately, size, mark, wb_protected)]
pub struct Fact {
    id: Opaque<RString>,
    store: Opaque<Symbol>,
    key: Opaque<RString>,
    value: Opaque<Value>,
    value_hash: Opaque<Value>,
    causation: Opaque<Value>,
    transaction_time: f64,
    valid_time: Option<f64>,
    schema_version: i64,
    producer: Opaque<Value>,
    derivation: Opaque<Value>,
}

impl DataTypeFunctions for Fact {
    fn mark(&self, marker: &Marker) {
        marker.mark(self.id);
        marker.mark(self.store);
        marker.mark(self.key);
        marker.mark(self.value);
        marker.mark(self.value_hash);
        marker.mark(self.causation);
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

/// `store.to_sym` for Strings and Symbols (and anything that answers to_sym).
fn store_symbol(ruby: &Ruby, store: Value) -> Result<Symbol, Error> {
    if let Some(sym) = Symbol::from_value(store) {
        return Ok(sym);
    }
    if let Some(s) = RString::from_value(store) {
        return Ok(convert::symbol(ruby, &convert::utf8_text(ruby, s)?));
    }
    store.funcall("to_sym", ())
}

/// `key.to_s`, frozen, never the caller's mutable String.
fn key_string(ruby: &Ruby, key: Value) -> Result<RString, Error> {
    let s = match RString::from_value(key) {
        Some(s) => s,
        None => key.funcall("to_s", ())?,
    };
    // SAFETY: only checks the bytes; nothing is kept.
    if s.is_frozen() && unsafe { s.test_as_str() }.is_some() {
        return Ok(s);
    }
    Ok(convert::frozen_str(ruby, &convert::utf8_text(ruby, s)?))
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

fn to_i(v: Value) -> Result<i64, Error> {
    match Integer::from_value(v) {
        Some(i) => i.to_i64(),
        None => v.funcall::<_, _, Integer>("to_i", ())?.to_i64(),
    }
}

/// A normalized producer/derivation and its model (`Json::Null` for nil).
fn normalized_or_nil(ruby: &Ruby, v: Option<Value>) -> Result<(Value, Json), Error> {
    match truthy(v) {
        None => Ok((ruby.qnil().as_value(), Json::Null)),
        Some(v) => convert::normalize(ruby, v),
    }
}

/// The arguments of `Fact.build`, positional (absent = None).
pub struct NewFact {
    pub store: Value,
    pub key: Value,
    pub value: Value,
    pub causation: Option<Value>,
    pub valid_time: Option<Value>,
    pub term: Option<Value>,
    pub schema_version: Option<Value>,
    pub producer: Option<Value>,
    pub derivation: Option<Value>,
}

impl Fact {
    fn wrap(ruby: &Ruby, fact: Fact) -> Obj<Fact> {
        let obj = ruby.obj_wrap(fact);
        obj.freeze();
        obj
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
            &["causation", "valid_time", "term", "schema_version", "producer", "derivation"],
        )?;
        let (store, key, value) = kw.required;
        let (causation, valid_time, term, schema_version, producer, derivation) = kw.optional;
        let input = NewFact { store, key, value, causation, valid_time, term, schema_version, producer, derivation };
        Ok(Self::create(ruby, input)?.0)
    }

    /// The whole of `Fact.build` on positional inputs. Also returns the
    /// fact's record (the models the walk produced, no second walk), for a
    /// caller that persists or indexes the new fact.
    pub fn create(ruby: &Ruby, input: NewFact) -> Result<(Obj<Fact>, FactRecord), Error> {
        let store = store_symbol(ruby, input.store)?;
        let key = key_string(ruby, input.key)?.to_interned_str();
        let (value, model) = convert::normalize(ruby, input.value)?;
        let hash = ledger_core::value_hash(&model).map_err(|e| errors::core(ruby, e))?;
        let valid_time = match (present(input.valid_time), truthy(input.term)) {
            (Some(v), _) | (None, Some(v)) => Some(to_f(ruby, v)?),
            (None, None) => None,
        };
        let schema_version = match present(input.schema_version) {
            Some(v) => to_i(v)?,
            None => 1,
        };
        let causation = optional_string(ruby, input.causation)?;
        let (producer, producer_model) = normalized_or_nil(ruby, input.producer)?;
        let (derivation, derivation_model) = normalized_or_nil(ruby, input.derivation)?;
        let id = ledger_core::new_uuid();
        let record = FactRecord {
            store: store.name()?.into_owned(),
            key: convert::utf8_text(ruby, key)?,
            value: model,
            causation: match RString::from_value(causation) {
                Some(s) => Some(convert::utf8_text(ruby, s)?),
                None => None,
            },
            transaction_time: realtime(),
            valid_time,
            schema_version,
            producer: producer_model,
            derivation: derivation_model,
            value_hash: None,
            id: String::new(),
        };
        let fact = Self::wrap(
            ruby,
            Fact {
                id: convert::frozen_str(ruby, &id).into(),
                store: store.into(),
                key: key.into(),
                value: value.into(),
                value_hash: convert::frozen_str(ruby, &hash).as_value().into(),
                causation: causation.into(),
                transaction_time: record.transaction_time,
                valid_time,
                schema_version,
                producer: producer.into(),
                derivation: derivation.into(),
            },
        );
        Ok((fact, FactRecord { id, value_hash: Some(hash), ..record }))
    }

    /// `Fact.from_h(hash)`: restores a fact from wire, WAL or snapshot form,
    /// keeping id, times, hash and causation verbatim (Symbol or String keys).
    fn from_h(ruby: &Ruby, hash: RHash) -> Result<Obj<Fact>, Error> {
        let get = |name: &str| -> Option<Value> {
            present(hash.get(convert::symbol(ruby, name)).or_else(|| hash.get(name)))
        };
        let store = get("store").ok_or_else(|| {
            Error::new(ruby.exception_key_error(), "key not found: :store")
        })?;
        let tt = match get("transaction_time").or_else(|| get("timestamp")) {
            Some(v) => to_f(ruby, v)?,
            None => 0.0,
        };
        let valid_time = match get("valid_time").or_else(|| get("term")) {
            Some(v) => Some(to_f(ruby, v)?),
            None => None,
        };
        let symbols = get("symbols");
        let restore = |field: &str, value: Option<Value>| -> Result<Value, Error> {
            let Some(v) = value else {
                return Ok(ruby.qnil().as_value());
            };
            match symbols {
                None => Ok(convert::normalize(ruby, v)?.0),
                Some(paths) => {
                    let mut model = convert::model(ruby, v)?;
                    let paths = convert::model(ruby, paths)?;
                    ledger_core::fact_record::apply_symbol_paths(field, &mut model, &paths);
                    convert::to_ruby(ruby, &model)
                }
            }
        };
        let id = match get("id") {
            Some(v) => key_string(ruby, v)?,
            None => convert::frozen_str(ruby, &ledger_core::new_uuid()),
        };
        Ok(Self::wrap(
            ruby,
            Fact {
                id: id.into(),
                store: store_symbol(ruby, store)?.into(),
                key: key_string(ruby, get("key").unwrap_or_else(|| ruby.qnil().as_value()))?.into(),
                value: restore("value", get("value"))?.into(),
                value_hash: optional_string(ruby, get("value_hash"))?.into(),
                causation: optional_string(ruby, get("causation"))?.into(),
                transaction_time: tt,
                valid_time,
                schema_version: get("schema_version").map(to_i).transpose()?.unwrap_or(1),
                producer: restore("producer", truthy(get("producer")))?.into(),
                derivation: restore("derivation", truthy(get("derivation")))?.into(),
            },
        ))
    }

    /// A fact decoded by the core (WAL or snapshot replay).
    pub fn from_record(ruby: &Ruby, rec: &FactRecord) -> Result<Obj<Fact>, Error> {
        Self::from_record_after(ruby, rec, None)
    }

    /// [`Fact::from_record`] given the fact replayed before it under the same
    /// key: a causation naming that fact shares its id String instead of a
    /// copy (the pure path gets the same sharing from interning). Keys and
    /// value Strings are interned; ids and hashes, unique, are not.
    pub fn from_record_after(ruby: &Ruby, rec: &FactRecord, previous: Option<Obj<Fact>>) -> Result<Obj<Fact>, Error> {
        let opt = |s: &Option<String>| match s {
            Some(s) => convert::frozen_str(ruby, s).as_value(),
            None => ruby.qnil().as_value(),
        };
        let causation = match (&rec.causation, previous) {
            (Some(c), Some(prev)) if prev.id_is(ruby, c) => prev.id_value(ruby),
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
                id: convert::frozen_str(ruby, &rec.id).into(),
                store: convert::symbol(ruby, &rec.store).into(),
                key: convert::interned_str(ruby, &rec.key).into(),
                value: convert::to_ruby(ruby, &rec.value)?.into(),
                value_hash: opt(&rec.value_hash).into(),
                causation: causation.into(),
                transaction_time: rec.transaction_time,
                valid_time: rec.valid_time,
                schema_version: rec.schema_version,
                producer: nil_or(&rec.producer)?.into(),
                derivation: nil_or(&rec.derivation)?.into(),
            },
        ))
    }

    /// The record the core encodes into a WAL or snapshot frame.
    pub fn to_record(&self, ruby: &Ruby) -> Result<FactRecord, Error> {
        let text = |v: Value| -> Result<Option<String>, Error> {
            match RString::from_value(v) {
                Some(s) => Ok(Some(convert::utf8_text(ruby, s)?)),
                None => Ok(None),
            }
        };
        Ok(FactRecord {
            id: convert::utf8_text(ruby, ruby.get_inner(self.id))?,
            store: ruby.get_inner(self.store).name()?.into_owned(),
            key: convert::utf8_text(ruby, ruby.get_inner(self.key))?,
            value: convert::model(ruby, ruby.get_inner(self.value))?,
            value_hash: text(ruby.get_inner(self.value_hash))?,
            causation: text(ruby.get_inner(self.causation))?,
            transaction_time: self.transaction_time,
            valid_time: self.valid_time,
            schema_version: self.schema_version,
            producer: convert::model(ruby, ruby.get_inner(self.producer))?,
            derivation: convert::model(ruby, ruby.get_inner(self.derivation))?,
        })
    }

    pub fn store_name(&self, ruby: &Ruby) -> Result<String, Error> {
        Ok(ruby.get_inner(self.store).name()?.into_owned())
    }

    /// The key's text, for the log's Rust-side index.
    pub fn key_text(&self, ruby: &Ruby) -> Result<String, Error> {
        convert::utf8_text(ruby, ruby.get_inner(self.key))
    }

    pub fn id_text(&self, ruby: &Ruby) -> Result<String, Error> {
        convert::utf8_text(ruby, ruby.get_inner(self.id))
    }

    /// True when the id's text is `text`.
    pub fn id_is(&self, ruby: &Ruby, text: &str) -> bool {
        let id = ruby.get_inner(self.id);
        // SAFETY: only compares the bytes; nothing is kept.
        let bytes = unsafe { id.as_slice() };
        bytes == text.as_bytes()
    }

    /// The id String itself (no copy).
    pub fn id_value(&self, ruby: &Ruby) -> Value {
        ruby.get_inner(self.id).as_value()
    }

    pub fn tt(&self) -> f64 {
        self.transaction_time
    }

    pub fn value_of(&self, ruby: &Ruby) -> Value {
        ruby.get_inner(self.value)
    }

    fn id(ruby: &Ruby, rb_self: &Self) -> RString {
        ruby.get_inner(rb_self.id)
    }
    fn store(ruby: &Ruby, rb_self: &Self) -> Symbol {
        ruby.get_inner(rb_self.store)
    }
    fn key(ruby: &Ruby, rb_self: &Self) -> RString {
        ruby.get_inner(rb_self.key)
    }
    fn value(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.value)
    }
    fn value_hash(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.value_hash)
    }
    fn causation(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.causation)
    }
    fn transaction_time(&self) -> f64 {
        self.transaction_time
    }
    fn valid_time(&self) -> Option<f64> {
        self.valid_time
    }
    fn schema_version(&self) -> i64 {
        self.schema_version
    }
    fn producer(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.producer)
    }
    fn derivation(ruby: &Ruby, rb_self: &Self) -> Value {
        ruby.get_inner(rb_self.derivation)
    }

    /// The 11 members in WAL order, as Ruby values.
    fn members(&self, ruby: &Ruby) -> [(&'static str, Value); 11] {
        let float = |f: f64| ruby.float_from_f64(f).as_value();
        [
            ("id", ruby.get_inner(self.id).as_value()),
            ("store", ruby.get_inner(self.store).as_value()),
            ("key", ruby.get_inner(self.key).as_value()),
            ("value", ruby.get_inner(self.value)),
            ("value_hash", ruby.get_inner(self.value_hash)),
            ("causation", ruby.get_inner(self.causation)),
            ("transaction_time", float(self.transaction_time)),
            ("valid_time", self.valid_time.map_or_else(|| ruby.qnil().as_value(), float)),
            ("schema_version", ruby.integer_from_i64(self.schema_version).as_value()),
            ("producer", ruby.get_inner(self.producer)),
            ("derivation", ruby.get_inner(self.derivation)),
        ]
    }

    fn to_h(ruby: &Ruby, rb_self: &Self) -> Result<RHash, Error> {
        let out = ruby.hash_new();
        for (name, v) in rb_self.members(ruby) {
            out.aset(convert::symbol(ruby, name), v)?;
        }
        Ok(out)
    }

    /// Value equality over all 11 members, like the pure Struct.
    fn eq(ruby: &Ruby, rb_self: &Self, other: Value) -> Result<bool, Error> {
        let Ok(other) = Obj::<Fact>::try_convert(other) else {
            return Ok(false);
        };
        for ((_, a), (_, b)) in rb_self.members(ruby).iter().zip(other.members(ruby).iter()) {
            if !a.eql(*b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn hash(ruby: &Ruby, rb_self: &Self) -> Result<Value, Error> {
        let values = ruby.ary_new_capa(11);
        for (_, v) in rb_self.members(ruby) {
            values.push(v)?;
        }
        values.funcall("hash", ())
    }

    fn inspect(ruby: &Ruby, rb_self: &Self) -> Result<String, Error> {
        let parts: Result<Vec<String>, Error> = rb_self
            .members(ruby)
            .iter()
            .map(|(name, v)| Ok(format!("{name}={}", v.inspect())))
            .collect();
        Ok(format!("#<Igniter::Store::Fact {}>", parts?.join(", ")))
    }
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("Fact", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.define_singleton_method("build", magnus::function!(Fact::build, -1))?;
    class.define_singleton_method("from_h", magnus::function!(Fact::from_h, 1))?;
    class.define_method("id", magnus::method!(Fact::id, 0))?;
    class.define_method("store", magnus::method!(Fact::store, 0))?;
    class.define_method("key", magnus::method!(Fact::key, 0))?;
    class.define_method("value", magnus::method!(Fact::value, 0))?;
    class.define_method("value_hash", magnus::method!(Fact::value_hash, 0))?;
    class.define_method("causation", magnus::method!(Fact::causation, 0))?;
    class.define_method("transaction_time", magnus::method!(Fact::transaction_time, 0))?;
    class.define_method("timestamp", magnus::method!(Fact::transaction_time, 0))?;
    class.define_method("valid_time", magnus::method!(Fact::valid_time, 0))?;
    class.define_method("term", magnus::method!(Fact::valid_time, 0))?;
    class.define_method("schema_version", magnus::method!(Fact::schema_version, 0))?;
    class.define_method("producer", magnus::method!(Fact::producer, 0))?;
    class.define_method("derivation", magnus::method!(Fact::derivation, 0))?;
    class.define_method("to_h", magnus::method!(Fact::to_h, 0))?;
    class.define_method("==", magnus::method!(Fact::eq, 1))?;
    class.define_method("eql?", magnus::method!(Fact::eq, 1))?;
    class.define_method("hash", magnus::method!(Fact::hash, 0))?;
    class.define_method("inspect", magnus::method!(Fact::inspect, 0))?;
    class.define_method("to_s", magnus::method!(Fact::inspect, 0))?;
    Ok(())
}
