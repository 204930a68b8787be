//! `Igniter::Store::Codecs::Native` and `Igniter::Store::Codecs::NativeCompactEncoder`:
//! the byte-level halves of the segment codecs (framing, CRC, JSON, MessagePack,
//! inflate, delta and dictionary coding) run in the core crate; the Ruby codec classes
//! keep their state machine and IO and call in here on the native path.
//!
//! Segment salvage (scanning, resynchronizing after damage, decoding) runs without the
//! GVL on bytes copied out of the Ruby String; the Ruby facts are built afterwards on the
//! Ruby thread.

use std::sync::Mutex;

use ledger_core::codec::compact_delta::{self as compact, CompactEncoder};
use ledger_core::codec::json_crc32 as json_codec;
use ledger_core::codec::segment_salvage::Salvaged;
use ledger_core::fact::compact::CompactFacts;
use ledger_core::{FactRecord, Json};
use magnus::{
    prelude::*, typed_data::Obj, value::ReprValue, DataTypeFunctions, Error, RArray, RHash,
    RString, Ruby, TypedData, Value,
};

use crate::{convert, errors, fact::Fact, nogvl};

/// A copy of a String's bytes, so they can be used without the GVL.
fn bytes_of(s: RString) -> Vec<u8> {
    // SAFETY: copied before any other Ruby call can run.
    unsafe { s.as_slice() }.to_vec()
}

/// `[facts, frames, spans]`, the shape of the Ruby codecs' `salvage`: kept frames as
/// `[offset, length, fact_count]`, damaged spans as `[offset, length, reason]`.
fn salvaged(ruby: &Ruby, result: &Salvaged<FactRecord>) -> Result<RArray, Error> {
    let facts = ruby.ary_new_capa(result.facts.len());
    for rec in &result.facts {
        facts.push(Fact::from_record(ruby, rec)?)?;
    }
    scan_of(ruby, facts.as_value(), result)
}

/// `[facts, frames, spans]` with `facts` given (an Array of facts, or [`NativeRecords`]).
fn scan_of<F>(ruby: &Ruby, facts: Value, result: &Salvaged<F>) -> Result<RArray, Error> {
    let int = |n: usize| ruby.integer_from_u64(n as u64).as_value();
    let frames = ruby.ary_new_capa(result.frames.len());
    for f in &result.frames {
        frames.push(ruby.ary_new_from_values(&[int(f.offset), int(f.len), int(f.facts)]))?;
    }
    let spans = ruby.ary_new_capa(result.spans.len());
    for s in &result.spans {
        let reason = ruby.to_symbol(s.reason.name()).as_value();
        spans.push(ruby.ary_new_from_values(&[int(s.offset), int(s.len), reason]))?;
    }
    Ok(ruby.ary_new_from_values(&[facts, frames.as_value(), spans.as_value()]))
}

/// `Native.json_frame(fact)`: the `json_crc32` frame of a fact (binary String).
fn json_frame(ruby: &Ruby, fact: Obj<Fact>) -> Result<RString, Error> {
    let record = fact.to_record(ruby)?;
    let mut out = Vec::with_capacity(384);
    json_codec::encode_fact_frame(&record, &mut out).map_err(|e| errors::core(ruby, e))?;
    Ok(ruby.str_from_slice(&out))
}

/// `Native.salvage_json(bytes)` → `[facts, frames, spans]`; with `records` true
/// (`Native.salvage_json_records`), `facts` is a [`NativeRecords`] instead of an Array
/// of facts.
fn salvage_json(ruby: &Ruby, bytes: RString, records: bool) -> Result<RArray, Error> {
    let buf = bytes_of(bytes);
    if records {
        let (kept, result) = nogvl::blocking(ruby, || {
            let result = json_codec::salvage_segment(&buf);
            let mut kept = CompactFacts::default();
            result.facts.iter().for_each(|rec| kept.push(rec));
            (kept, result)
        })?;
        return scan_of(ruby, NativeRecords::wrap(ruby, kept), &result);
    }
    let result = nogvl::blocking(ruby, || json_codec::salvage_segment(&buf))?;
    salvaged(ruby, &result)
}

/// `Native.salvage_compact(bytes)` → `[facts, frames, spans]`, or nil when the segment
/// holds something only the Ruby decoder reproduces exactly (it then salvages it).
/// With `records` true (`Native.salvage_compact_records`), `facts` is a [`NativeRecords`]: each decoded record goes
/// into it as soon as its window of frames is decoded, no Ruby object is built, and
/// its `value_hash` is computed when it is read.
fn salvage_compact(ruby: &Ruby, bytes: RString, records: bool) -> Result<Option<RArray>, Error> {
    let buf = bytes_of(bytes);
    if records {
        let found = nogvl::blocking(ruby, || {
            let mut kept = CompactFacts::default();
            compact::salvage_segment_packed(&buf, |rec| kept.push_packed_hash_on_read(&rec))
                .map(|r| (kept, r))
        })?;
        return match found {
            Ok((kept, result)) => Ok(Some(scan_of(
                ruby,
                NativeRecords::wrap(ruby, kept),
                &result,
            )?)),
            Err(_) => Ok(None),
        };
    }
    match nogvl::blocking(ruby, || compact::salvage_segment(&buf))? {
        Ok(result) => Ok(Some(salvaged(ruby, &result)?)),
        Err(_) => Ok(None),
    }
}

/// `Igniter::Store::Codecs::NativeRecords`: the facts of one salvaged segment as the
/// log's compact records (doc/performance.md "Segmented open"), for a replay that
/// hands them to the native FactLog without a Ruby object per fact. `facts` builds
/// the Ruby facts (the same ones `salvage` returns) for any other reader.
#[derive(TypedData)]
#[magnus(
    class = "Igniter::Store::Codecs::NativeRecords",
    free_immediately,
    size
)]
pub struct NativeRecords {
    /// `None` once taken by a log.
    records: Mutex<Option<CompactFacts>>,
}

impl DataTypeFunctions for NativeRecords {}

impl NativeRecords {
    fn wrap(ruby: &Ruby, records: CompactFacts) -> Value {
        ruby.obj_wrap(NativeRecords {
            records: Mutex::new(Some(records)),
        })
        .as_value()
    }

    fn with<T>(&self, ruby: &Ruby, f: impl FnOnce(&CompactFacts) -> T) -> Result<T, Error> {
        let guard = self.records.lock().map_err(|_| errors::poisoned(ruby))?;
        match guard.as_ref() {
            Some(records) => Ok(f(records)),
            None => Err(Error::new(
                ruby.exception_runtime_error(),
                "these records were handed to a FactLog already",
            )),
        }
    }

    /// The records, for a FactLog to append; the handle is empty afterwards.
    pub(crate) fn take(&self, ruby: &Ruby) -> Result<CompactFacts, Error> {
        let mut guard = self.records.lock().map_err(|_| errors::poisoned(ruby))?;
        guard.take().ok_or_else(|| {
            Error::new(
                ruby.exception_runtime_error(),
                "these records were handed to a FactLog already",
            )
        })
    }

    /// `NativeRecords.of(facts)`: the records of built facts (every member, as a WAL
    /// frame holds them).
    fn of(ruby: &Ruby, facts: RArray) -> Result<Value, Error> {
        let mut records = CompactFacts::default();
        for v in facts.into_iter() {
            records.push(&Obj::<Fact>::try_convert(v)?.to_record(ruby)?);
        }
        Ok(Self::wrap(ruby, records))
    }

    fn size(ruby: &Ruby, rb_self: &Self) -> Result<usize, Error> {
        rb_self.with(ruby, CompactFacts::len)
    }

    /// `first(n)`: a handle of the first `n` records (a `:truncate` replay's prefix).
    fn first(ruby: &Ruby, rb_self: &Self, n: usize) -> Result<Value, Error> {
        let mut head = rb_self.with(ruby, CompactFacts::clone)?;
        head.truncate(n.min(head.len()));
        Ok(Self::wrap(ruby, head))
    }

    /// Whether the transaction times never step back.
    fn in_time_order(ruby: &Ruby, rb_self: &Self) -> Result<bool, Error> {
        rb_self.with(ruby, CompactFacts::in_time_order)
    }

    /// `[first, last]` transaction time, nil when empty.
    fn time_span(ruby: &Ruby, rb_self: &Self) -> Result<Option<(f64, f64)>, Error> {
        rb_self.with(ruby, CompactFacts::time_span)
    }

    /// `facts`: the Ruby facts of the records, in order (as `salvage` builds them).
    fn facts(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let recs: Vec<FactRecord> = rb_self.with(ruby, |r| {
            (0..r.len() as u32)
                .filter_map(|p| r.view(p).map(|v| v.to_record()))
                .collect()
        })?;
        let out = ruby.ary_new_capa(recs.len());
        for rec in &recs {
            out.push(Fact::from_record(ruby, rec)?)?;
        }
        Ok(out)
    }
}

/// The write side of one compact segment. The Ruby codec writes the header frame and
/// compresses the batch payloads (see the core module for why).
#[derive(TypedData)]
#[magnus(
    class = "Igniter::Store::Codecs::NativeCompactEncoder",
    free_immediately,
    size
)]
pub struct NativeCompactEncoder {
    fields: Vec<String>,
    encoder: Mutex<CompactEncoder>,
}

impl DataTypeFunctions for NativeCompactEncoder {}

impl NativeCompactEncoder {
    /// `new(fields, header)`: the header's field names, in header order, and the header
    /// frame's MessagePack body (repeated in every batch).
    fn new(ruby: &Ruby, fields: RArray, header: RString) -> Result<Self, Error> {
        let fields = fields
            .into_iter()
            .map(|f| match RString::from_value(f) {
                Some(s) => convert::utf8_text(ruby, s),
                None => Err(Error::new(
                    ruby.exception_type_error(),
                    "field names must be Strings",
                )),
            })
            .collect::<Result<_, _>>()?;
        let header = bytes_of(header);
        Ok(Self {
            fields,
            encoder: Mutex::new(CompactEncoder::new(&header)),
        })
    }

    fn encoder(&self, ruby: &Ruby) -> Result<std::sync::MutexGuard<'_, CompactEncoder>, Error> {
        self.encoder.lock().map_err(|_| errors::poisoned(ruby))
    }

    /// `push(fact)`: buffers one fact's entry. For each header field the value under the
    /// Symbol key, else the String key, else nil; other keys are dropped.
    fn push(ruby: &Ruby, rb_self: &Self, fact: Obj<Fact>) -> Result<(), Error> {
        let value = Fact::value_in(fact, ruby)?;
        let Some(hash) = RHash::from_value(value) else {
            return Err(Error::new(
                ruby.exception_no_method_error(),
                format!("undefined method `key?' for {}", value.inspect()),
            ));
        };
        let mut vals = Vec::with_capacity(rb_self.fields.len());
        for field in &rb_self.fields {
            let v = hash
                .get(ruby.to_symbol(field))
                .or_else(|| hash.get(ruby.str_new(field)))
                .unwrap_or_else(|| ruby.qnil().as_value());
            vals.push(if v.is_nil() {
                Json::Null
            } else {
                convert::model(ruby, v)?
            });
        }
        let key = fact.key_text(ruby)?;
        let result = rb_self.encoder(ruby)?.push(&key, fact.tt(), &vals);
        result.map_err(|e| {
            Error::new(
                ruby.exception_arg_error(),
                format!("cannot MessagePack-encode: {e}"),
            )
        })
    }

    /// `batch` → `[count, uncompressed payload]`, or nil when nothing is pending.
    /// Changes nothing: the caller writes the frame, then calls `commit`.
    fn batch(ruby: &Ruby, rb_self: &Self) -> Result<Option<RArray>, Error> {
        let batch = rb_self.encoder(ruby)?.batch();
        Ok(batch.map(|(count, payload)| {
            ruby.ary_new_from_values(&[
                ruby.integer_from_u64(u64::from(count)).as_value(),
                ruby.str_from_slice(&payload).as_value(),
            ])
        }))
    }

    /// `rollback`: takes back the last `push` (its fact could not be written).
    fn rollback(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        rb_self.encoder(ruby)?.rollback();
        Ok(())
    }

    /// `commit`: the batch from `batch` reached the file.
    fn commit(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        rb_self.encoder(ruby)?.commit();
        Ok(())
    }

    /// Facts buffered since the last batch.
    fn pending(ruby: &Ruby, rb_self: &Self) -> Result<usize, Error> {
        Ok(rb_self.encoder(ruby)?.pending())
    }
}

/// The functions Ruby calls, each under [`guard::run`](crate::guard::run).
mod api {
    use super::*;
    use crate::guard::run;

    pub fn json_frame(ruby: &Ruby, fact: Obj<Fact>) -> Result<RString, Error> {
        run(ruby, || super::json_frame(ruby, fact))
    }
    pub fn salvage_json(ruby: &Ruby, bytes: RString) -> Result<RArray, Error> {
        run(ruby, || super::salvage_json(ruby, bytes, false))
    }
    pub fn salvage_compact(ruby: &Ruby, bytes: RString) -> Result<Option<RArray>, Error> {
        run(ruby, || super::salvage_compact(ruby, bytes, false))
    }
    pub fn salvage_json_records(ruby: &Ruby, bytes: RString) -> Result<RArray, Error> {
        run(ruby, || super::salvage_json(ruby, bytes, true))
    }
    pub fn salvage_compact_records(ruby: &Ruby, bytes: RString) -> Result<Option<RArray>, Error> {
        run(ruby, || super::salvage_compact(ruby, bytes, true))
    }
    pub fn records_of(ruby: &Ruby, facts: RArray) -> Result<Value, Error> {
        run(ruby, || NativeRecords::of(ruby, facts))
    }
    pub fn records_size(ruby: &Ruby, r: &NativeRecords) -> Result<usize, Error> {
        run(ruby, || NativeRecords::size(ruby, r))
    }
    pub fn records_first(ruby: &Ruby, r: &NativeRecords, n: usize) -> Result<Value, Error> {
        run(ruby, || NativeRecords::first(ruby, r, n))
    }
    pub fn records_in_order(ruby: &Ruby, r: &NativeRecords) -> Result<bool, Error> {
        run(ruby, || NativeRecords::in_time_order(ruby, r))
    }
    pub fn records_time_span(ruby: &Ruby, r: &NativeRecords) -> Result<Option<(f64, f64)>, Error> {
        run(ruby, || NativeRecords::time_span(ruby, r))
    }
    pub fn records_facts(ruby: &Ruby, r: &NativeRecords) -> Result<RArray, Error> {
        run(ruby, || NativeRecords::facts(ruby, r))
    }
    pub fn encoder_new(
        ruby: &Ruby,
        fields: RArray,
        header: RString,
    ) -> Result<NativeCompactEncoder, Error> {
        run(ruby, || NativeCompactEncoder::new(ruby, fields, header))
    }
    pub fn push(ruby: &Ruby, enc: &NativeCompactEncoder, fact: Obj<Fact>) -> Result<(), Error> {
        run(ruby, || NativeCompactEncoder::push(ruby, enc, fact))
    }
    pub fn batch(ruby: &Ruby, enc: &NativeCompactEncoder) -> Result<Option<RArray>, Error> {
        run(ruby, || NativeCompactEncoder::batch(ruby, enc))
    }
    pub fn rollback(ruby: &Ruby, enc: &NativeCompactEncoder) -> Result<(), Error> {
        run(ruby, || NativeCompactEncoder::rollback(ruby, enc))
    }
    pub fn commit(ruby: &Ruby, enc: &NativeCompactEncoder) -> Result<(), Error> {
        run(ruby, || NativeCompactEncoder::commit(ruby, enc))
    }
    pub fn pending(ruby: &Ruby, enc: &NativeCompactEncoder) -> Result<usize, Error> {
        run(ruby, || NativeCompactEncoder::pending(ruby, enc))
    }
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let codecs = ruby
        .define_module("Igniter")?
        .define_module("Store")?
        .define_module("Codecs")?;
    let native = codecs.define_module("Native")?;
    native.define_singleton_method("json_frame", magnus::function!(api::json_frame, 1))?;
    native.define_singleton_method("salvage_json", magnus::function!(api::salvage_json, 1))?;
    native.define_singleton_method(
        "salvage_compact",
        magnus::function!(api::salvage_compact, 1),
    )?;
    native.define_singleton_method(
        "salvage_json_records",
        magnus::function!(api::salvage_json_records, 1),
    )?;
    native.define_singleton_method(
        "salvage_compact_records",
        magnus::function!(api::salvage_compact_records, 1),
    )?;
    let records = codecs.define_class("NativeRecords", ruby.class_object())?;
    records.undef_default_alloc_func();
    records.define_singleton_method("of", magnus::function!(api::records_of, 1))?;
    records.define_method("size", magnus::method!(api::records_size, 0))?;
    records.define_method("first", magnus::method!(api::records_first, 1))?;
    records.define_method("in_time_order?", magnus::method!(api::records_in_order, 0))?;
    records.define_method("time_span", magnus::method!(api::records_time_span, 0))?;
    records.define_method("facts", magnus::method!(api::records_facts, 0))?;
    let encoder = codecs.define_class("NativeCompactEncoder", ruby.class_object())?;
    encoder.undef_default_alloc_func();
    encoder.define_singleton_method("new", magnus::function!(api::encoder_new, 2))?;
    encoder.define_method("push", magnus::method!(api::push, 1))?;
    encoder.define_method("batch", magnus::method!(api::batch, 0))?;
    encoder.define_method("commit", magnus::method!(api::commit, 0))?;
    encoder.define_method("rollback", magnus::method!(api::rollback, 0))?;
    encoder.define_method("pending", magnus::method!(api::pending, 0))?;
    Ok(())
}
