//! A fact's Ruby object built from its compact record (doc/performance.md
//! "Native fact records"): the same objects `Fact::from_record_after` builds
//! from a decoded record — frozen id and value Strings, the store Symbol, the
//! interned key, deep-frozen Hashes with Symbol keys — read straight from the
//! packed bytes, no model in between.

use ledger_core::fact::compact::View;
use ledger_core::json::packed::{self, Reader};
use magnus::{rb_sys::AsRawValue, typed_data::Obj, value::ReprValue, Error, Ruby, Value};

use crate::convert;
use crate::fact::{Fact, Members};

/// What a record holds, copied out of the log's lock (building runs Ruby code:
/// `Integer()` for big integers), so nothing is borrowed from the log meanwhile.
pub struct Owned {
    id: String,
    store: String,
    key: String,
    value_hash: Option<String>,
    causation: Option<String>,
    transaction_time: f64,
    valid_time: Option<f64>,
    value: Vec<u8>,
    schema_version: Option<Vec<u8>>,
    producer: Option<Vec<u8>>,
    derivation: Option<Vec<u8>>,
}

impl Owned {
    pub fn of(view: &View<'_>) -> Owned {
        let data = view.data();
        Owned {
            id: view.id(),
            store: view.store().to_owned(),
            key: view.key().to_owned(),
            value_hash: view.value_hash(),
            causation: view.causation(),
            transaction_time: view.transaction_time(),
            valid_time: view.valid_time(),
            value: data.value.to_vec(),
            schema_version: data.schema_version.map(<[u8]>::to_vec),
            producer: data.producer.map(<[u8]>::to_vec),
            derivation: data.derivation.map(<[u8]>::to_vec),
        }
    }

    pub fn causation(&self) -> Option<&str> {
        self.causation.as_deref()
    }

    /// The fact, frozen; `causation` is the String to share as its causation
    /// (the id String of the fact it names), if there is one.
    pub fn build(&self, ruby: &Ruby, causation: Option<Value>) -> Result<Obj<Fact>, Error> {
        let text = |s: &Option<String>| match s {
            Some(s) => convert::frozen_str(ruby, s).as_value(),
            None => ruby.qnil().as_value(),
        };
        let data = |bytes: &Option<Vec<u8>>| match bytes {
            Some(b) => value(ruby, b),
            None => Ok(ruby.qnil().as_value()),
        };
        let schema_version = match &self.schema_version {
            Some(b) => value(ruby, b)?,
            None => ruby.integer_from_i64(1).as_value(),
        };
        Ok(Fact::from_members(
            ruby,
            Members {
                id: convert::frozen_str(ruby, &self.id),
                store: convert::symbol(ruby, &self.store),
                key: convert::interned_str(ruby, &self.key),
                value: value(ruby, &self.value)?,
                value_hash: text(&self.value_hash),
                causation: causation.unwrap_or_else(|| text(&self.causation)),
                transaction_time: self.transaction_time,
                valid_time: self.valid_time,
                schema_version,
                producer: data(&self.producer)?,
                derivation: data(&self.derivation)?,
            },
        ))
    }
}

/// The deep-frozen Ruby value of packed bytes, as `convert::to_ruby` builds it
/// from the same model.
pub(crate) fn value(ruby: &Ruby, bytes: &[u8]) -> Result<Value, Error> {
    node(ruby, &mut Reader::new(bytes))
}

fn corrupt(ruby: &Ruby) -> Error {
    // Only bytes the log itself packed are read here; this is a bug, not bad input.
    Error::new(
        ruby.exception_runtime_error(),
        "igniter-ledger: a fact record's packed data is damaged",
    )
}

fn node(ruby: &Ruby, r: &mut Reader<'_>) -> Result<Value, Error> {
    let tag = r.tag().ok_or_else(|| corrupt(ruby))?;
    Ok(match tag {
        packed::NULL => ruby.qnil().as_value(),
        packed::TRUE => ruby.qtrue().as_value(),
        packed::FALSE => ruby.qfalse().as_value(),
        packed::INT => ruby
            .integer_from_i64(r.int().ok_or_else(|| corrupt(ruby))?)
            .as_value(),
        packed::BIG_INT => {
            let digits = r.text().ok_or_else(|| corrupt(ruby))?;
            ruby.module_kernel().funcall("Integer", (digits,))?
        }
        packed::FLOAT => ruby
            .float_from_f64(r.float().ok_or_else(|| corrupt(ruby))?)
            .as_value(),
        packed::STR => convert::frozen_str(ruby, r.text().ok_or_else(|| corrupt(ruby))?).as_value(),
        packed::SYM => convert::symbol(ruby, r.text().ok_or_else(|| corrupt(ruby))?).as_value(),
        packed::ARRAY => {
            let n = r.varint().ok_or_else(|| corrupt(ruby))? as usize;
            let out = ruby.ary_new_capa(n.min(r.rest().len()));
            for _ in 0..n {
                out.push(node(ruby, r)?)?;
            }
            out.freeze();
            out.as_value()
        }
        packed::OBJECT => {
            let n = r.varint().ok_or_else(|| corrupt(ruby))?;
            let out = ruby.hash_new();
            for _ in 0..n {
                let name = convert::symbol(ruby, r.text().ok_or_else(|| corrupt(ruby))?);
                let item = node(ruby, r)?;
                // SAFETY: fresh plain Hash, Symbol key: no Ruby code runs, nothing raises.
                unsafe { rb_sys::rb_hash_aset(out.as_raw(), name.as_raw(), item.as_raw()) };
            }
            out.freeze();
            out.as_value()
        }
        _ => return Err(corrupt(ruby)),
    })
}
