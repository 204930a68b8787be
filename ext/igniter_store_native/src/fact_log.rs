//! `Igniter::Store::FactLog`: the in-memory append-only log. Every fact has a
//! compact record (the core's [`CompactFacts`]); a replayed fact is only that,
//! and its Ruby object is built on first touch and kept in its slot (Ruby
//! Arrays of 1,024 slots, the only things the GC has to mark, see
//! [`slots`]), as a written fact's is from the start (doc/performance.md
//! "Native fact records"). Every lookup structure
//! is the core's [`Index`] of positions (per-(store, key) and per-store
//! timelines, key order, ids).

use std::sync::Mutex;

use ledger_core::fact::compact::{uuid_bytes, CompactFacts, View};
use ledger_core::index::{Index, Timeline};
use ledger_core::wal::replay::Decoded;

use magnus::{
    gc::Marker, prelude::*, rb_sys::AsRawValue, typed_data::Obj, value::ReprValue,
    DataTypeFunctions, Error, Float, RArray, RHash, RString, Ruby, Symbol, TypedData, Value,
};

use crate::{
    codecs::NativeRecords,
    convert, errors,
    fact::{Entry, Fact, NewFact},
    file_backend::{FileBackend, Stop},
};

pub(crate) mod lazy;
mod slots;

use slots::Slots;

/// The index of the log's facts, in their order: from the record, or from the
/// built fact when it was appended built.
fn index_of(ruby: &Ruby, facts: &Slots, records: &CompactFacts) -> Result<Index, Error> {
    let mut index = Index::default();
    for pos in 0..records.len() as u32 {
        if let Some(view) = records.view(pos) {
            index_record(ruby, &mut index, &view)?;
            continue;
        }
        let fact = Obj::<Fact>::try_convert(facts.get(ruby, pos))?;
        index
            .insert(
                &fact.store_name(ruby)?,
                &fact.key_text(ruby)?,
                &fact.id_text(ruby)?,
                fact.tt(),
                fact.vt(),
            )
            .ok_or_else(|| full(ruby))?;
    }
    Ok(index)
}

/// Indexes one compact record (the next position of `index`).
fn index_record(ruby: &Ruby, index: &mut Index, view: &View<'_>) -> Result<(), Error> {
    index
        .insert(
            view.store(),
            view.key(),
            &view.id(),
            view.transaction_time(),
            view.valid_time(),
        )
        .map(|_| ())
        .ok_or_else(|| full(ruby))
}

/// What the log's lock guards: the records and their index, always the same length.
#[derive(Default)]
struct State {
    index: Index,
    records: CompactFacts,
}

impl State {
    /// Room for `n` more facts in the records and the id index.
    fn reserve(&mut self, n: usize) {
        self.records.reserve(n);
        self.index.reserve(n);
    }

    /// Appends a replayed fact's record and indexes it (no Ruby involved, so a
    /// replay may run it without the GVL); `None` once positions run out.
    fn push_decoded(&mut self, rec: &Decoded, data: &[u8]) -> Option<()> {
        let (store, key, id, uuid, tt, vt) = match rec {
            Decoded::Fast(f) => {
                self.records.push_fast(f, data);
                // The id's bytes were parsed on the decode threads.
                let uuid = f.bytes.id;
                (f.store, f.key, f.id, uuid, f.transaction_time, f.valid_time)
            }
            Decoded::Packed(p) => {
                self.records.push_packed(p);
                let uuid = uuid_bytes(&p.id);
                (
                    &*p.store,
                    &*p.key,
                    &*p.id,
                    uuid,
                    p.transaction_time,
                    p.valid_time,
                )
            }
            Decoded::Record(r) => {
                self.records.push(r);
                let uuid = uuid_bytes(&r.id);
                (
                    &*r.store,
                    &*r.key,
                    &*r.id,
                    uuid,
                    r.transaction_time,
                    r.valid_time,
                )
            }
        };
        self.index
            .insert_with(store, key, id, uuid, tt, vt)
            .map(|_| ())
    }

    /// Indexes the fact at the next position, whose record was just pushed.
    fn insert(
        &mut self,
        ruby: &Ruby,
        store: &str,
        key: &str,
        id: &str,
        tt: f64,
        vt: Option<f64>,
    ) -> Result<(), Error> {
        self.index
            .insert(store, key, id, tt, vt)
            .map(|_| ())
            .ok_or_else(|| full(ruby))
    }
}

#[derive(TypedData)]
#[magnus(
    class = "Igniter::Store::FactLog",
    free_immediately,
    size,
    mark,
    wb_protected
)]
pub struct FactLog {
    /// Slot `pos` holds the fact at `pos` once built. Never longer than the records.
    facts: Slots,
    state: Mutex<State>,
}

impl DataTypeFunctions for FactLog {
    // Only the slots are marked, never the Mutex: GC may run while it is held.
    fn mark(&self, marker: &Marker) {
        self.facts.mark(marker);
    }
}

/// A lookup argument in the form facts carry it (store: Symbol name, key:
/// `to_s`), resolved before any text is borrowed, because `to_s`/`to_sym`
/// run arbitrary Ruby code.
enum Text {
    Sym(Symbol),
    /// A String; `true` when its UTF-8 transcoding may be looked up (keys).
    Str(RString, bool),
}

fn text_arg(v: Value, is_store: bool) -> Result<Text, Error> {
    if let Some(sym) = Symbol::from_value(v) {
        return Ok(Text::Sym(sym));
    }
    if let Some(s) = RString::from_value(v) {
        return Ok(Text::Str(s, !is_store));
    }
    if is_store {
        return Ok(Text::Sym(v.funcall("to_sym", ())?));
    }
    Ok(Text::Str(v.funcall("to_s", ())?, true))
}

/// The bytes of `s` as text when they need no transcoding: valid UTF-8, or
/// ASCII in any ASCII-compatible encoding.
///
/// # Safety
/// The borrow must end before any Ruby code can run.
unsafe fn plain_text<'a>(s: RString) -> Option<&'a str> {
    // SAFETY: the caller keeps `s` alive and unchanged for the borrow.
    unsafe {
        if let Some(text) = s.test_as_str() {
            // Extend the borrow to the caller's: the same guarantee as above.
            return Some(std::mem::transmute::<&str, &'a str>(text));
        }
        if rb_sys::rb_enc_str_asciionly_p(s.as_raw()) != 0 {
            return std::str::from_utf8(std::mem::transmute::<&[u8], &'a [u8]>(s.as_slice())).ok();
        }
    }
    None
}

/// Runs `f` on the argument's text, borrowing the Ruby string's bytes when
/// they are plain text so warm lookups allocate nothing. A text no stored
/// fact can carry finds nothing (`miss`), as on the pure path: a store name
/// must be plain already (a Symbol of another encoding is another Symbol
/// there), a key may be transcoded (pure looks keys up by their UTF-8 text).
fn with_text<T>(
    ruby: &Ruby,
    text: &Text,
    miss: T,
    f: impl FnOnce(&str) -> Result<T, Error>,
) -> Result<T, Error> {
    let (s, transcodable) = match text {
        Text::Sym(sym) => (convert::sym_str(ruby, *sym), false),
        Text::Str(s, transcodable) => (*s, *transcodable),
    };
    // SAFETY: `s` is alive on this stack frame and `f` only reads the
    // index (no Ruby call), so the bytes cannot change meanwhile.
    if let Some(borrowed) = unsafe { plain_text(s) } {
        return f(borrowed);
    }
    if !transcodable {
        return Ok(miss);
    }
    match convert::utf8_text(ruby, s) {
        Ok(owned) => f(&owned),
        Err(_) => Ok(miss),
    }
}

/// A time bound: nil (none) or `to_f`. NaN bounds nothing meaningfully (every
/// comparison with it is false), so it is refused on both paths.
fn time_arg(ruby: &Ruby, name: &str, v: Option<Value>) -> Result<Option<f64>, Error> {
    let t = match v.filter(|v| !v.is_nil()) {
        None => return Ok(None),
        Some(v) => match Float::from_value(v) {
            Some(f) => f.to_f64(),
            None => v.funcall::<_, _, f64>("to_f", ())?,
        },
    };
    if t.is_nan() {
        return Err(Error::new(
            ruby.exception_arg_error(),
            format!("{name} must be a number, not NaN"),
        ));
    }
    Ok(Some(t))
}

/// The error of an append past the last position the index can hold.
pub(crate) fn full(ruby: &Ruby) -> Error {
    errors::raise(
        ruby,
        "Igniter::Store::Error",
        format!("FactLog is full: it holds at most {} facts", u32::MAX),
    )
}

/// The text `fact_by_id` can match: an id is compared as a Hash key on the
/// pure path (same bytes, comparable encodings), so only plain text is.
fn id_text(s: RString) -> Option<String> {
    // SAFETY: copied at once.
    unsafe { plain_text(s) }.map(str::to_owned)
}

impl FactLog {
    fn new(ruby: &Ruby) -> Obj<FactLog> {
        ruby.obj_wrap(FactLog {
            facts: Slots::new(ruby),
            state: Mutex::new(State::default()),
        })
    }

    /// The records and index. A panic while they were held (caught at the
    /// method boundary) may have left them half-updated: the index is then
    /// rebuilt from the records, which every append fills first (a built
    /// fact's slot before its record, so a slot past the records is cut), so
    /// no fact is lost and the log stays usable.
    fn lock(&self, ruby: &Ruby) -> Result<std::sync::MutexGuard<'_, State>, Error> {
        match self.state.lock() {
            Ok(guard) => Ok(guard),
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                self.facts.truncate(ruby, guard.records.len());
                guard.index = index_of(ruby, &self.facts, &guard.records)?;
                self.state.clear_poison();
                Ok(guard)
            }
        }
    }

    /// The fact at `pos`, built from its record on first touch.
    fn at(&self, ruby: &Ruby, pos: u32) -> Result<Value, Error> {
        let v = self.facts.get(ruby, pos);
        if !v.is_nil() {
            return Ok(v);
        }
        self.materialize(ruby, pos)
    }

    /// Builds the fact at `pos` from its record and keeps it in its slot. The
    /// record is copied out first: building runs Ruby code (`Integer()`), so
    /// another thread may build the same fact meanwhile, and then its object
    /// is the one kept and returned (a fact is one object, whoever asks).
    fn materialize(&self, ruby: &Ruby, pos: u32) -> Result<Value, Error> {
        let (owned, cause_pos) = {
            let state = self.lock(ruby)?;
            let Some(view) = state.records.view(pos) else {
                return Ok(ruby.qnil().as_value());
            };
            let owned = lazy::Owned::of(&view);
            let cause_pos = owned.causation().and_then(|c| state.index.by_id(c));
            (owned, cause_pos)
        };
        // A causation naming a fact already built shares its id String instead
        // of a copy, as a replay that built every fact did.
        let shared_id = cause_pos
            .map(|p| self.facts.get(ruby, p))
            .and_then(|v| Obj::<Fact>::try_convert(v).ok())
            .filter(|cause| owned.causation().is_some_and(|c| cause.id_is(ruby, c)))
            .map(|cause| Fact::id_in(cause, ruby))
            .transpose()?;
        let fact = owned.build(ruby, shared_id)?.as_value();
        let now = self.facts.get(ruby, pos);
        if !now.is_nil() {
            return Ok(now);
        }
        self.facts.set(ruby, pos, fact);
        Ok(fact)
    }

    /// The facts at `positions` (from the index), built where they were not yet.
    /// The caller must not hold the lock (building takes it).
    fn array_of(&self, ruby: &Ruby, positions: &[u32]) -> Result<RArray, Error> {
        let mut values = self.facts.gather(ruby, positions);
        for (v, pos) in values.iter_mut().zip(positions) {
            if v.is_nil() {
                *v = self.materialize(ruby, *pos)?;
            }
        }
        // One bulk copy into the new Array: it is young, so unlike a push per
        // fact this takes no write barrier per element.
        Ok(ruby.ary_new_from_values(&values))
    }

    /// Appends a fact built elsewhere: its slot, then its record, then the index.
    fn push_built(&self, ruby: &Ruby, state: &mut State, fact: Obj<Fact>) -> Result<(), Error> {
        if state.index.is_full() {
            return Err(full(ruby));
        }
        let pos = state.records.len() as u32;
        self.facts.set(ruby, pos, fact.as_value());
        state.records.push_built(fact.tt(), fact.vt());
        Ok(())
    }

    fn append(ruby: &Ruby, rb_self: &Self, fact: Obj<Fact>) -> Result<Obj<Fact>, Error> {
        let store = fact.store_name(ruby)?;
        let key = fact.key_text(ruby)?;
        let id = fact.id_text(ruby)?;
        let mut state = rb_self.lock(ruby)?;
        rb_self.push_built(ruby, &mut state, fact)?;
        state.insert(ruby, &store, &key, &id, fact.tt(), fact.vt())?;
        Ok(fact)
    }

    fn replay(ruby: &Ruby, rb_self: &Self, fact: Obj<Fact>) -> Result<(), Error> {
        Self::append(ruby, rb_self, fact).map(|_| ())
    }

    /// Appends a fact just built, indexing it from the texts the build
    /// already had instead of reading them back from Ruby.
    fn push_new(&self, ruby: &Ruby, fact: Obj<Fact>, entry: &Entry) -> Result<(), Error> {
        let mut state = self.lock(ruby)?;
        self.push_built(ruby, &mut state, fact)?;
        state.insert(
            ruby,
            &entry.store,
            &entry.key,
            &entry.id,
            fact.tt(),
            fact.vt(),
        )
    }

    /// Appends a replayed fact as its record only: no Ruby object until it is read.
    fn push_lazy(
        &self,
        ruby: &Ruby,
        state: &mut State,
        rec: &Decoded,
        data: &[u8],
    ) -> Result<(), Error> {
        if state.index.is_full() {
            return Err(full(ruby));
        }
        state.push_decoded(rec, data).ok_or_else(|| full(ruby))
    }

    /// Persists a fact through `backend` (nil: none): an exact native
    /// FileBackend gets the frame encoded from the fact's record (a packed
    /// value written from its bytes, no Ruby walk), anything else is sent `write_fact`.
    fn persist(ruby: &Ruby, backend: Value, fact: Obj<Fact>) -> Result<(), Error> {
        if backend.is_nil() {
            return Ok(());
        }
        match FileBackend::exact(ruby, backend) {
            // The hash the frame carries is kept for a later `value_hash` read.
            Some(file) => file.write_fact_body(ruby, fact),
            None => backend
                .funcall::<_, _, Value>("write_fact", (fact,))
                .map(|_| ()),
        }
    }

    /// Builds the fact, persists it, then appends it: the shared tail of
    /// `write_new` and `append_new`, in the order that leaves memory
    /// untouched when the backend fails.
    fn create_persist_push(
        &self,
        ruby: &Ruby,
        input: NewFact,
        backend: Value,
    ) -> Result<Obj<Fact>, Error> {
        let (fact, entry) = Fact::create(ruby, input)?;
        Self::persist(ruby, backend, fact)?;
        self.push_new(ruby, fact, &entry)?;
        Ok(fact)
    }

    /// `write_new(store, key, value, causation, schema_version, valid_time,
    /// term, producer, derivation, backend)`: builds the fact (a falsy
    /// causation defaults to the id of the key's latest fact), persists it,
    /// then appends it — one native call for the engine's write.
    fn write_new(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<Obj<Fact>, Error> {
        let [store, key, value, causation, schema_version, valid_time, term, producer, derivation, backend] =
            args
        else {
            return Err(Error::new(
                ruby.exception_arg_error(),
                "write_new takes 10 arguments",
            ));
        };
        // A defaulted causation shares the previous fact's id String, or,
        // while that is not built, records its UUID bits.
        let (causation, cause_uuid) = if causation.to_bool() {
            (*causation, None)
        } else {
            let previous = Self::latest_for(ruby, rb_self, *store, *key, None)?;
            if previous.is_nil() {
                (previous, None)
            } else {
                let previous = Obj::<Fact>::try_convert(previous)?;
                match previous.unbuilt_uuid() {
                    Some(bits) => (ruby.qnil().as_value(), Some(bits)),
                    None => (Fact::id_in(previous, ruby)?, None),
                }
            }
        };
        let input = NewFact {
            store: *store,
            key: *key,
            value: *value,
            causation: Some(causation),
            cause_uuid,
            valid_time: Some(*valid_time),
            term: Some(*term),
            schema_version: Some(*schema_version),
            producer: Some(*producer),
            derivation: Some(*derivation),
        };
        rb_self.create_persist_push(ruby, input, *backend)
    }

    /// `append_new(store, value, schema_version, valid_time, term, producer,
    /// derivation, backend)`: like `write_new` for a history event (fresh
    /// UUID key, no causation).
    fn append_new(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<Obj<Fact>, Error> {
        let [store, value, schema_version, valid_time, term, producer, derivation, backend] = args
        else {
            return Err(Error::new(
                ruby.exception_arg_error(),
                "append_new takes 8 arguments",
            ));
        };
        let input = NewFact {
            store: *store,
            key: convert::frozen_str(ruby, &ledger_core::new_uuid()).as_value(),
            value: *value,
            causation: None,
            cause_uuid: None,
            valid_time: Some(*valid_time),
            term: Some(*term),
            schema_version: Some(*schema_version),
            producer: Some(*producer),
            derivation: Some(*derivation),
        };
        rb_self.create_persist_push(ruby, input, *backend)
    }

    /// Stably sorts every record by transaction time and rebuilds the index:
    /// what a replay whose WAL times stepped back needs (the common, ordered
    /// replay never comes here). Only replayed records are there, none built.
    fn sort_by_time(&self, ruby: &Ruby) -> Result<(), Error> {
        let mut state = self.lock(ruby)?;
        state.records.sort_by_time();
        state.index = index_of(ruby, &self.facts, &state.records)?;
        Ok(())
    }

    /// `replay_from(backend)`: appends every fact `backend.replay` returns. An
    /// exact native FileBackend hands over its decoded records directly (read
    /// and decoded in parallel without the GVL), and they are kept as records:
    /// no Ruby object is built until a fact is read.
    fn replay_from(ruby: &Ruby, rb_self: &Self, backend: Value) -> Result<(), Error> {
        let empty = rb_self.lock(ruby)?.records.is_empty();
        if let (true, Some(file)) = (empty, FileBackend::exact(ruby, backend)) {
            // (last time seen, every time in order so far), over both routes.
            let order = Mutex::new((f64::NEG_INFINITY, true));
            let see = |tt: f64| {
                let mut o = order.lock().unwrap_or_else(|p| p.into_inner());
                o.1 &= tt >= o.0;
                o.0 = tt;
            };
            file.replay_batches(
                ruby,
                // Room for every fact up front: the id map and the records then
                // never grow (and rehash or move) during the replay.
                |n| {
                    rb_self.lock(ruby)?.reserve(n);
                    Ok(())
                },
                |batch| {
                    let mut state = rb_self.lock(ruby)?;
                    for (rec, data) in batch.iter() {
                        see(rec.transaction_time());
                        rb_self.push_lazy(ruby, &mut state, rec, data)?;
                    }
                    Ok(())
                },
                |batch| {
                    // Without the GVL: a poisoned lock is repaired with it.
                    let mut state = rb_self.state.lock().map_err(|_| Stop::Poisoned)?;
                    // The order is taken once per batch, not once per fact.
                    let mut o = order.lock().unwrap_or_else(|p| p.into_inner());
                    for (rec, data) in batch.iter() {
                        if state.index.is_full() {
                            return Err(Stop::Full);
                        }
                        let tt = rec.transaction_time();
                        o.1 &= tt >= o.0;
                        o.0 = tt;
                        state.push_decoded(rec, data).ok_or(Stop::Full)?;
                    }
                    Ok(())
                },
            )?;
            let in_order = order.lock().is_ok_and(|o| o.1);
            if !in_order {
                rb_self.sort_by_time(ruby)?;
            }
            release_free_memory();
            return Ok(());
        }
        let facts: RArray = backend.funcall("replay", ())?;
        for fact in facts.into_iter() {
            Self::append(ruby, rb_self, Obj::<Fact>::try_convert(fact)?)?;
        }
        Ok(())
    }

    /// `append_records(records)`: appends a salvaged segment's records
    /// ([`NativeRecords`], taken from it) as compact records, indexed, with no
    /// Ruby object until a fact is read (doc/performance.md "Segmented open").
    /// True when the log's transaction times still never step back.
    fn append_records(ruby: &Ruby, rb_self: &Self, records: &NativeRecords) -> Result<bool, Error> {
        let batch = records.take(ruby)?;
        let mut guard = rb_self.lock(ruby)?;
        let State { index, records } = &mut *guard;
        let from = records.len();
        if from + batch.len() > u32::MAX as usize {
            return Err(full(ruby));
        }
        let last = from.checked_sub(1).and_then(|p| records.times(p as u32));
        let ordered = match (last, batch.time_span()) {
            (Some((last, _)), Some((first, _))) => last <= first,
            _ => true,
        } && batch.in_time_order();
        records.append(&batch);
        drop(batch);
        for pos in from as u32..records.len() as u32 {
            // Records just appended are never built, so each has a view.
            if let Some(view) = records.view(pos) {
                index_record(ruby, index, &view)?;
            }
        }
        Ok(ordered)
    }

    /// `records_appended(ordered)`: ends a replay made of `append_records` calls:
    /// unless `ordered`, stably sorts the records by transaction time (a log
    /// holding a built fact cannot be sorted so, and raises), then hands the
    /// decode scratch back to the OS.
    fn records_appended(ruby: &Ruby, rb_self: &Self, ordered: bool) -> Result<(), Error> {
        if !ordered {
            let built = {
                let state = rb_self.lock(ruby)?;
                (0..state.records.len() as u32).any(|p| state.records.is_built(p))
            };
            if built {
                return Err(Error::new(
                    ruby.exception_runtime_error(),
                    "records_appended: a log holding built facts cannot be sorted by time",
                ));
            }
            rb_self.sort_by_time(ruby)?;
        }
        release_free_memory();
        Ok(())
    }

    pub(crate) fn latest_for(
        ruby: &Ruby,
        rb_self: &Self,
        store: Value,
        key: Value,
        as_of: Option<Value>,
    ) -> Result<Value, Error> {
        let as_of = time_arg(ruby, "as_of", as_of)?;
        let (store, key) = (text_arg(store, true)?, text_arg(key, false)?);
        let found = with_text(ruby, &store, None, |store| {
            with_text(ruby, &key, None, |key| {
                Ok(rb_self
                    .lock(ruby)?
                    .index
                    .key_timeline(store, key)
                    .and_then(|t| t.latest(as_of)))
            })
        })?;
        match found {
            Some(pos) => rb_self.at(ruby, pos),
            None => Ok(ruby.qnil().as_value()),
        }
    }

    /// `latest_valid(store, key, as_of, valid_at)`: the fact of (store, key)
    /// valid at `valid_at` as known at `as_of` (doc/bitemporal.md), found
    /// in the key's valid-time order.
    fn latest_valid(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<Value, Error> {
        let [store, key, as_of, valid_at] = args else {
            return Err(Error::new(
                ruby.exception_arg_error(),
                "latest_valid takes 4 arguments",
            ));
        };
        let as_of = time_arg(ruby, "as_of", Some(*as_of))?;
        let Some(valid_at) = time_arg(ruby, "valid_at", Some(*valid_at))? else {
            return Self::latest_for(ruby, rb_self, *store, *key, Some(as_of_value(ruby, as_of)));
        };
        let (store, key) = (text_arg(*store, true)?, text_arg(*key, false)?);
        let found = with_text(ruby, &store, None, |store| {
            with_text(ruby, &key, None, |key| {
                Ok(rb_self
                    .lock(ruby)?
                    .index
                    .key_valid(store, key)
                    .and_then(|(t, v)| v.valid_at(t, as_of, valid_at)))
            })
        })?;
        match found {
            Some(pos) => rb_self.at(ruby, pos),
            None => Ok(ruby.qnil().as_value()),
        }
    }

    /// `facts_valid(store, key, as_of, valid_from, valid_to)`: the facts of
    /// (store, key) in effect within `valid_from ..= valid_to` as known at
    /// `as_of`, in valid-time order (doc/bitemporal.md).
    fn facts_valid(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<RArray, Error> {
        let [store, key, as_of, valid_from, valid_to] = args else {
            return Err(Error::new(
                ruby.exception_arg_error(),
                "facts_valid takes 5 arguments",
            ));
        };
        let as_of = time_arg(ruby, "as_of", Some(*as_of))?;
        let valid_from = time_arg(ruby, "valid_from", Some(*valid_from))?;
        let valid_to = time_arg(ruby, "valid_to", Some(*valid_to))?;
        let (store, key) = (text_arg(*store, true)?, text_arg(*key, false)?);
        let positions = with_text(ruby, &store, Vec::new(), |store| {
            with_text(ruby, &key, Vec::new(), |key| {
                Ok(rb_self
                    .lock(ruby)?
                    .index
                    .key_valid(store, key)
                    .map(|(t, v)| v.timeline(t, as_of, valid_from, valid_to))
                    .unwrap_or_default())
            })
        })?;
        rb_self.array_of(ruby, &positions)
    }

    fn facts_for(
        ruby: &Ruby,
        rb_self: &Self,
        store: Value,
        key: Option<Value>,
        since: Option<Value>,
        as_of: Option<Value>,
    ) -> Result<RArray, Error> {
        let (since, as_of) = (
            time_arg(ruby, "since", since)?,
            time_arg(ruby, "as_of", as_of)?,
        );
        let store = text_arg(store, true)?;
        let key = key
            .filter(|k| !k.is_nil())
            .map(|k| text_arg(k, false))
            .transpose()?;
        let positions = with_text(ruby, &store, Vec::new(), |store| match &key {
            Some(key) => with_text(ruby, key, Vec::new(), |key| {
                let state = rb_self.lock(ruby)?;
                Ok(positions_of(
                    state.index.key_timeline(store, key),
                    since,
                    as_of,
                ))
            }),
            None => {
                let state = rb_self.lock(ruby)?;
                Ok(positions_of(
                    state.index.store_timeline(store),
                    since,
                    as_of,
                ))
            }
        })?;
        rb_self.array_of(ruby, &positions)
    }

    fn query_scope(
        ruby: &Ruby,
        rb_self: &Self,
        store: Value,
        filters: RHash,
        as_of: Option<Value>,
    ) -> Result<RArray, Error> {
        let as_of = time_arg(ruby, "as_of", as_of)?;
        // Candidates are collected under the lock; the filter comparisons call
        // Ruby's ==, which may switch threads, so they run after it is released.
        let store = text_arg(store, true)?;
        let candidates: Vec<u32> = with_text(ruby, &store, Vec::new(), |store| {
            let state = rb_self.lock(ruby)?;
            Ok(state
                .index
                .key_timelines(store)
                .filter_map(|t| t.latest(as_of))
                .collect())
        })?;
        let pairs: Vec<(Value, Value)> = {
            let mut pairs = Vec::with_capacity(filters.len());
            filters.foreach(|k: Value, v: Value| {
                pairs.push((k, v));
                Ok(magnus::r_hash::ForEach::Continue)
            })?;
            pairs
        };
        let out = ruby.ary_new();
        for pos in candidates {
            let fact_value = rb_self.at(ruby, pos)?;
            let fact = Obj::<Fact>::try_convert(fact_value)?;
            if matches(ruby, Fact::value_in(fact, ruby)?, &pairs)? {
                out.push(fact_value)?;
            }
        }
        Ok(out)
    }

    /// Every fact in append order (each built, if it was not yet).
    fn all_facts(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let len = rb_self.lock(ruby)?.records.len() as u32;
        for pos in 0..len {
            rb_self.at(ruby, pos)?;
        }
        rb_self.facts.to_array(ruby)
    }

    fn size(ruby: &Ruby, rb_self: &Self) -> Result<u32, Error> {
        Ok(rb_self.lock(ruby)?.index.len())
    }

    fn fact_by_id(ruby: &Ruby, rb_self: &Self, id: Value) -> Result<Value, Error> {
        let Some(id) = RString::from_value(id).and_then(id_text) else {
            return Ok(ruby.qnil().as_value());
        };
        let found = rb_self.lock(ruby)?.index.by_id(&id);
        match found {
            Some(pos) => rb_self.at(ruby, pos),
            None => Ok(ruby.qnil().as_value()),
        }
    }
}

/// The positions of a timeline within the bounds: a sorted timeline's window
/// is copied straight from the index.
fn positions_of(timeline: Option<&Timeline>, since: Option<f64>, as_of: Option<f64>) -> Vec<u32> {
    let Some(timeline) = timeline else {
        return Vec::new();
    };
    match timeline.window(since, as_of) {
        Some(range) => timeline.positions()[range].to_vec(),
        None => timeline.select(since, as_of),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

/// Hands the decode scratch (the WAL buffer, the records, rayon's per-thread
/// malloc arenas) back to the OS: glibc keeps freed memory mapped otherwise.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    // SAFETY: glibc's malloc_trim only releases free pages; it is thread-safe.
    unsafe {
        malloc_trim(0);
    }
}

/// Other allocators have no such call; nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// `value.is_a?(Hash) && filters.all? { |k, v| value[k] == v }` — the same
/// predicate the engine's scope index uses.
fn matches(ruby: &Ruby, value: Value, filters: &[(Value, Value)]) -> Result<bool, Error> {
    let Some(hash) = RHash::from_value(value) else {
        return Ok(false);
    };
    for (k, expected) in filters {
        let actual = hash.get(*k).unwrap_or_else(|| ruby.qnil().as_value());
        if !actual.equal(*expected)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An `as_of` already checked, as the Value `latest_for` takes.
fn as_of_value(ruby: &Ruby, as_of: Option<f64>) -> Value {
    match as_of {
        Some(t) => ruby.float_from_f64(t).as_value(),
        None => ruby.qnil().as_value(),
    }
}

/// The methods Ruby calls, each under [`guard::run`].
mod api {
    use super::*;
    use crate::guard::run;

    pub fn new(ruby: &Ruby) -> Result<Obj<FactLog>, Error> {
        run(ruby, || Ok(FactLog::new(ruby)))
    }
    pub fn append(ruby: &Ruby, log: &FactLog, fact: Obj<Fact>) -> Result<Obj<Fact>, Error> {
        run(ruby, || FactLog::append(ruby, log, fact))
    }
    pub fn replay(ruby: &Ruby, log: &FactLog, fact: Obj<Fact>) -> Result<(), Error> {
        run(ruby, || FactLog::replay(ruby, log, fact))
    }
    pub fn latest(
        ruby: &Ruby,
        log: &FactLog,
        store: Value,
        key: Value,
        as_of: Option<Value>,
    ) -> Result<Value, Error> {
        run(ruby, || FactLog::latest_for(ruby, log, store, key, as_of))
    }
    pub fn write_new(ruby: &Ruby, log: &FactLog, args: &[Value]) -> Result<Obj<Fact>, Error> {
        run(ruby, || FactLog::write_new(ruby, log, args))
    }
    pub fn append_new(ruby: &Ruby, log: &FactLog, args: &[Value]) -> Result<Obj<Fact>, Error> {
        run(ruby, || FactLog::append_new(ruby, log, args))
    }
    pub fn replay_from(ruby: &Ruby, log: &FactLog, backend: Value) -> Result<(), Error> {
        run(ruby, || FactLog::replay_from(ruby, log, backend))
    }
    pub fn append_records(
        ruby: &Ruby,
        log: &FactLog,
        records: &NativeRecords,
    ) -> Result<bool, Error> {
        run(ruby, || FactLog::append_records(ruby, log, records))
    }
    pub fn records_appended(ruby: &Ruby, log: &FactLog, ordered: bool) -> Result<(), Error> {
        run(ruby, || FactLog::records_appended(ruby, log, ordered))
    }
    pub fn latest_valid(ruby: &Ruby, log: &FactLog, args: &[Value]) -> Result<Value, Error> {
        run(ruby, || FactLog::latest_valid(ruby, log, args))
    }
    pub fn facts_valid(ruby: &Ruby, log: &FactLog, args: &[Value]) -> Result<RArray, Error> {
        run(ruby, || FactLog::facts_valid(ruby, log, args))
    }
    pub fn facts(
        ruby: &Ruby,
        log: &FactLog,
        store: Value,
        key: Option<Value>,
        since: Option<Value>,
        as_of: Option<Value>,
    ) -> Result<RArray, Error> {
        run(ruby, || {
            FactLog::facts_for(ruby, log, store, key, since, as_of)
        })
    }
    pub fn query_scope(
        ruby: &Ruby,
        log: &FactLog,
        store: Value,
        filters: RHash,
        as_of: Option<Value>,
    ) -> Result<RArray, Error> {
        run(ruby, || {
            FactLog::query_scope(ruby, log, store, filters, as_of)
        })
    }
    pub fn all_facts(ruby: &Ruby, log: &FactLog) -> Result<RArray, Error> {
        run(ruby, || FactLog::all_facts(ruby, log))
    }
    pub fn size(ruby: &Ruby, log: &FactLog) -> Result<u32, Error> {
        run(ruby, || FactLog::size(ruby, log))
    }
    pub fn fact_by_id(ruby: &Ruby, log: &FactLog, id: Value) -> Result<Value, Error> {
        run(ruby, || FactLog::fact_by_id(ruby, log, id))
    }

    /// Test hook: panics while holding the index lock, half-way through an
    /// append (the fact is in its slot and has its record, not yet indexed).
    pub fn panic_while_indexing(
        ruby: &Ruby,
        log: Obj<FactLog>,
        fact: Obj<Fact>,
    ) -> Result<(), Error> {
        run(ruby, || {
            let mut state = log.lock(ruby)?;
            log.push_built(ruby, &mut state, fact)?;
            panic!("test hook: panic while indexing");
        })
    }
}

/// `NativeTestHooks.panic_while_indexing(log, fact)` (see guard.rs).
pub fn define_test_hooks(_ruby: &Ruby, hooks: magnus::RModule) -> Result<(), Error> {
    hooks.define_singleton_method(
        "panic_while_indexing",
        magnus::function!(api::panic_while_indexing, 2),
    )
}

pub fn define(ruby: &Ruby) -> Result<(), Error> {
    let store = ruby.define_module("Igniter")?.define_module("Store")?;
    let class = store.define_class("FactLog", ruby.class_object())?;
    class.undef_default_alloc_func();
    class.define_singleton_method("new", magnus::function!(api::new, 0))?;
    class.define_method("append", magnus::method!(api::append, 1))?;
    class.define_method("replay", magnus::method!(api::replay, 1))?;
    class.define_method("_latest_for", magnus::method!(api::latest, 3))?;
    class.define_method("latest", magnus::method!(api::latest, 3))?;
    class.define_method("write_new", magnus::method!(api::write_new, -1))?;
    class.define_method("append_new", magnus::method!(api::append_new, -1))?;
    class.define_method("replay_from", magnus::method!(api::replay_from, 1))?;
    class.define_method("append_records", magnus::method!(api::append_records, 1))?;
    class.define_method(
        "records_appended",
        magnus::method!(api::records_appended, 1),
    )?;
    class.define_method("_facts_for", magnus::method!(api::facts, 4))?;
    class.define_method("latest_valid", magnus::method!(api::latest_valid, -1))?;
    class.define_method("facts_valid", magnus::method!(api::facts_valid, -1))?;
    class.define_method("facts", magnus::method!(api::facts, 4))?;
    class.define_method("_query_scope", magnus::method!(api::query_scope, 3))?;
    class.define_method("all_facts", magnus::method!(api::all_facts, 0))?;
    class.define_method("size", magnus::method!(api::size, 0))?;
    class.define_method("fact_by_id", magnus::method!(api::fact_by_id, 1))?;
    Ok(())
}
