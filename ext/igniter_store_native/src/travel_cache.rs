//! `Igniter::Store::TravelCache`: the time-travel (`as_of`) half of the
//! engine's ReadCache — an LRU bounded by `lru_cap` whose point and scope
//! entries share the cap, in Rust. Entries live in the core's [`LruMap`]
//! (one slab, an intrusive recency list, no Ruby object per entry); what they
//! hold stays in one Ruby Array, four cells per slot (value, store, name,
//! as_of), the only Ruby objects the GC has to mark besides the token Hash of
//! [`key`]. A point read as of a time is one call: probe, the log's lookup,
//! insert and eviction (doc/performance.md, "Native time-travel cache").
//!
//! The values are never sent a message. No Ruby code runs while the lock is
//! held: tokens (Ruby `hash`/`eql?`) are resolved before it, the log is asked
//! after it. The pure half is lib/igniter/store/core/pure/travel_cache.rb.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ledger_core::lru::LruMap;
use magnus::{
    gc::Marker,
    rb_sys::{AsRawValue, FromRawValue},
    typed_data::DataType,
    typed_data::Obj,
    value::{Opaque, ReprValue},
    DataTypeFunctions, Error, Float, Integer, RArray, RHash, Ruby, TypedData, Value,
};

use crate::fact_log::FactLog;

mod api;
mod key;

pub use api::define;

use key::{Class, Key, Lookup};

/// Ruby cells per slot: value, store, name, as_of.
const CELLS: usize = 4;

struct State {
    cap: usize,
    map: LruMap<Key, f64>,
    next_token: u64,
    /// Bumped by every drop and clear: a point read that raced one does not
    /// cache what it read before it.
    generation: u64,
}

#[derive(TypedData)]
#[magnus(
    class = "Igniter::Store::TravelCache",
    free_immediately,
    size,
    mark,
    wb_protected
)]
pub struct TravelCache {
    cells: Opaque<RArray>,
    /// Generic key part => token number (see [`key`]).
    tokens: Opaque<RHash>,
    state: Mutex<State>,
}

impl DataTypeFunctions for TravelCache {
    // Never the Mutex: GC may run while it is held (a cell store allocates).
    fn mark(&self, marker: &Marker) {
        marker.mark(self.cells);
        marker.mark(self.tokens);
    }
}

/// The three parts of a key, sorted, with the tokens of the generic ones.
#[derive(Clone, Copy)]
struct Resolved {
    values: [Value; 3],
    classes: [Class; 3],
    tokens: [u64; 3],
    /// A generic part has no token yet: no entry can have this key.
    missing: bool,
}

impl Resolved {
    /// The probe of the key.
    ///
    /// # Safety
    /// No Ruby code may run while the result is in use (it borrows String bytes).
    unsafe fn lookup<'a>(&self, scope: bool) -> Lookup<'a> {
        let part = |i: usize| {
            // SAFETY: the caller's guarantee.
            unsafe { key::probe(self.values[i], self.classes[i], self.tokens[i]) }
        };
        Lookup {
            scope,
            parts: [part(0), part(1), part(2)],
        }
    }
}

/// What a probe found; a miss carries the generation it saw.
enum Found {
    Miss(u64),
    Hit(Value),
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// nil, or a Numeric as seconds.
fn ttl_arg(v: Value) -> Result<Option<f64>, Error> {
    if v.is_nil() {
        return Ok(None);
    }
    match Float::from_value(v) {
        Some(f) => Ok(Some(f.to_f64())),
        None => v.funcall("to_f", ()).map(Some),
    }
}

fn slot_cell(slot: u32, i: usize) -> isize {
    (slot as usize * CELLS + i) as isize
}

impl TravelCache {
    fn new(ruby: &Ruby, cap: Value) -> Result<Obj<TravelCache>, Error> {
        let Some(cap) = Integer::from_value(cap) else {
            return Err(Error::new(
                ruby.exception_arg_error(),
                format!("lru_cap must be an Integer, not {}", cap.inspect()),
            ));
        };
        let cap = cap.to_i64().unwrap_or(i64::MAX).clamp(0, u32::MAX as i64) as usize;
        Ok(ruby.obj_wrap(TravelCache {
            cells: ruby.ary_new().into(),
            tokens: ruby.hash_new().into(),
            state: Mutex::new(State {
                cap,
                map: LruMap::default(),
                next_token: 0,
                generation: 0,
            }),
        }))
    }

    /// The state; a panic while it was held (caught at the method boundary)
    /// may have left it half-updated, so the cache then starts empty (it only
    /// ever holds answers the log gives again).
    fn lock(&self, ruby: &Ruby) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                guard.map.clear();
                self.state.clear_poison();
                // SAFETY: a live Array; clearing runs no Ruby code.
                unsafe { rb_sys::rb_ary_clear(ruby.get_inner(self.cells).as_raw()) };
                guard
            }
        }
    }

    /// Sorts the parts and looks up (with `intern`, hands out) the tokens of
    /// the generic ones. Runs Ruby code (`hash`/`eql?`): never under the lock.
    fn resolve(&self, ruby: &Ruby, values: [Value; 3], intern: bool) -> Result<Resolved, Error> {
        let classes = values.map(key::classify);
        let mut r = Resolved {
            values,
            classes,
            tokens: [0; 3],
            missing: false,
        };
        for i in 0..3 {
            if classes[i] != Class::Generic {
                continue;
            }
            let tokens = ruby.get_inner(self.tokens);
            match tokens.lookup::<_, Option<u64>>(values[i])? {
                Some(t) => r.tokens[i] = t,
                None if intern => {
                    let t = {
                        let mut state = self.lock(ruby);
                        state.next_token += 1;
                        state.next_token
                    };
                    tokens.aset(values[i], t)?;
                    r.tokens[i] = t;
                }
                None => r.missing = true,
            }
        }
        Ok(r)
    }

    fn cell(&self, ruby: &Ruby, slot: u32, i: usize) -> Value {
        let cells = ruby.get_inner(self.cells);
        // SAFETY: bounds-checked, raises nothing, allocates nothing.
        unsafe {
            Value::from_raw(rb_sys::rb_ary_entry(
                cells.as_raw(),
                slot_cell(slot, i) as _,
            ))
        }
    }

    fn set_cell(&self, ruby: &Ruby, slot: u32, i: usize, v: Value) {
        let cells = ruby.get_inner(self.cells);
        // SAFETY: a live Array; rb_ary_store takes the write barrier, may
        // allocate (growing), runs no Ruby code.
        unsafe { rb_sys::rb_ary_store(cells.as_raw(), slot_cell(slot, i) as _, v.as_raw()) };
    }

    /// Removes the entry at `slot` and lets go of what it held.
    fn remove(&self, ruby: &Ruby, state: &mut State, slot: u32) {
        let Some((key, _)) = state.map.remove(slot) else {
            return;
        };
        let nil = ruby.qnil().as_value();
        self.set_cell(ruby, slot, 0, nil);
        for i in 0..3 {
            if key.keeps(i) {
                self.set_cell(ruby, slot, i + 1, nil);
            }
        }
    }

    /// The probe under the lock: a hit is promoted to most recently used, then
    /// dropped if older than `ttl` (a later reader simply misses).
    fn probe(&self, ruby: &Ruby, r: &Resolved, scope: bool, ttl: Option<f64>) -> Found {
        let mut state = self.lock(ruby);
        if r.missing {
            return Found::Miss(state.generation);
        }
        // SAFETY: no Ruby code runs while `lookup` is in use.
        let lookup = unsafe { r.lookup(scope) };
        let Some(slot) = state.map.find(lookup.hashes().key, |k| lookup.is(k)) else {
            return Found::Miss(state.generation);
        };
        state.map.touch(slot);
        let cached_at = state.map.get(slot).map_or(0.0, |(_, at)| *at);
        if ttl.is_some_and(|ttl| now() - cached_at > ttl) {
            self.remove(ruby, &mut state, slot);
            return Found::Miss(state.generation);
        }
        Found::Hit(self.cell(ruby, slot, 0))
    }

    /// Stores (or overwrites in place, keeping its position) an entry, then
    /// evicts the least recently used entries beyond the cap. With `seen`,
    /// nothing is stored if a drop or clear happened since that generation.
    fn store(
        &self,
        ruby: &Ruby,
        r: &Resolved,
        scope: bool,
        value: Value,
        seen: Option<u64>,
    ) -> Result<(), Error> {
        let r = if r.missing {
            self.resolve(ruby, r.values, true)?
        } else {
            *r
        };
        let mut state = self.lock(ruby);
        if seen.is_some_and(|g| g != state.generation) {
            return Ok(());
        }
        // SAFETY: no Ruby code runs while `lookup` is in use.
        let lookup = unsafe { r.lookup(scope) };
        let hashes = lookup.hashes();
        if let Some(slot) = state.map.find(hashes.key, |k| lookup.is(k)) {
            if let Some(at) = state.map.value_mut(slot) {
                *at = now();
            }
            self.set_cell(ruby, slot, 0, value);
            return Ok(());
        }
        let key = lookup.to_key();
        let keeps = [key.keeps(0), key.keeps(1), key.keeps(2)];
        let slot = state.map.insert(hashes, key, now());
        self.set_cell(ruby, slot, 0, value);
        for (i, part) in r.values.iter().enumerate() {
            if keeps[i] {
                self.set_cell(ruby, slot, i + 1, *part);
            }
        }
        while state.map.len() > state.cap {
            let Some(oldest) = state.map.oldest() else {
                break;
            };
            self.remove(ruby, &mut state, oldest);
        }
        let (live, tokens) = (state.map.len(), ruby.get_inner(self.tokens).len());
        drop(state);
        if tokens > 2 * live + 64 {
            self.sweep_tokens(ruby)?;
        }
        Ok(())
    }

    /// Forgets the tokens no entry uses any more: the token Hash is refilled
    /// from the live entries' own parts (which keep their numbers).
    fn sweep_tokens(&self, ruby: &Ruby) -> Result<(), Error> {
        let (objects, numbers): (Vec<Value>, Vec<u64>) = {
            let state = self.lock(ruby);
            let mut pairs = Vec::new();
            for slot in state.map.slots_oldest_first() {
                let Some((key, _)) = state.map.get(slot) else {
                    continue;
                };
                for (i, part) in key.parts.iter().enumerate() {
                    if let Some(t) = part.token() {
                        pairs.push((self.cell(ruby, slot, i + 1), t));
                    }
                }
            }
            pairs.into_iter().unzip()
        };
        // Held by a Ruby Array while Ruby code (`hash`) runs below.
        let held = ruby.ary_new_from_values(&objects);
        let tokens = ruby.get_inner(self.tokens);
        tokens.clear()?;
        for (i, t) in numbers.iter().enumerate() {
            tokens.aset(held.entry::<Value>(i as isize)?, *t)?;
        }
        Ok(())
    }

    fn get(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<Value, Error> {
        let [scope, store, name, as_of, ttl] = args else {
            return Err(arity(ruby, "get", 5));
        };
        let ttl = ttl_arg(*ttl)?;
        let r = rb_self.resolve(ruby, [*store, *name, *as_of], false)?;
        Ok(match rb_self.probe(ruby, &r, scope.to_bool(), ttl) {
            Found::Hit(v) => v,
            Found::Miss(_) => ruby.qnil().as_value(),
        })
    }

    fn put(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<(), Error> {
        let [scope, store, name, as_of, value] = args else {
            return Err(arity(ruby, "put", 5));
        };
        let r = rb_self.resolve(ruby, [*store, *name, *as_of], true)?;
        rb_self.store(ruby, &r, scope.to_bool(), *value, None)
    }

    /// `fetch_point(store, key, as_of, ttl, log, monitor)`: the cached point
    /// answer, else the log's (`log.latest(store, key, as_of)`, straight into
    /// Rust for the native FactLog), cached unless nil.
    ///
    /// It needs no lock of the caller's: each step holds the cache's own, and
    /// the generation check keeps a read that raced a write's drop from
    /// caching its stale answer. Only a key with a generic part (whose tokens
    /// run Ruby's `hash`/`eql?`, so two threads could hand out two tokens for
    /// one object) runs under `monitor` (the ReadCache's, entered here).
    fn fetch_point(ruby: &Ruby, rb_self: &Self, args: &[Value]) -> Result<Value, Error> {
        let [store, key, as_of, ttl, log, monitor] = args else {
            return Err(arity(ruby, "fetch_point", 6));
        };
        let ttl = ttl_arg(*ttl)?;
        let values = [*store, *key, *as_of];
        if !values.iter().any(|v| key::classify(*v) == Class::Generic) {
            return rb_self.fetch_point_in(ruby, values, ttl, *log);
        }
        monitor.funcall::<_, _, Value>("enter", ())?;
        // A panic becomes an error here, so the monitor is always left.
        let result = crate::guard::run(ruby, || rb_self.fetch_point_in(ruby, values, ttl, *log));
        monitor.funcall::<_, _, Value>("exit", ())?;
        result
    }

    fn fetch_point_in(
        &self,
        ruby: &Ruby,
        values: [Value; 3],
        ttl: Option<f64>,
        log: Value,
    ) -> Result<Value, Error> {
        let [store, key, as_of] = values;
        let r = self.resolve(ruby, values, false)?;
        let seen = match self.probe(ruby, &r, false, ttl) {
            Found::Hit(v) => return Ok(v),
            Found::Miss(generation) => generation,
        };
        // SAFETY: `log` is alive on this stack frame for the whole call.
        let value = match unsafe { native_log(log) } {
            Some(native) => FactLog::latest_for(ruby, native, store, key, Some(as_of))?,
            None => log.funcall("latest", (store, key, as_of))?,
        };
        if !value.is_nil() {
            self.store(ruby, &r, false, value, Some(seen))?;
        }
        Ok(value)
    }

    /// `drop(store, key)`: drops every scope entry of `store` and its point
    /// entries of `key` (every key when nil). Returns the distinct names of
    /// the dropped scopes, least recently used first, or nil when none.
    fn drop_entries(ruby: &Ruby, rb_self: &Self, store: Value, key: Value) -> Result<Value, Error> {
        let nil = ruby.qnil().as_value();
        let all_keys = key.is_nil();
        let r = rb_self.resolve(ruby, [store, key, nil], false)?;
        let mut state = rb_self.lock(ruby);
        state.generation += 1;
        if r.classes[0] == Class::Generic && r.tokens[0] == 0 {
            return Ok(nil); // a store never seen: nothing of it is cached
        }
        // SAFETY: no Ruby code runs while `lookup` is in use.
        let lookup = unsafe { r.lookup(false) };
        let store_part = lookup.parts[0];
        let same_store = |k: &Key| store_part.matches(&k.parts[0]);
        let mut doomed = Vec::new();
        let mut names: Vec<u32> = Vec::new();
        let (scope_tag, point_tag) = (
            key::hash_of(true, &[store_part]),
            key::hash_of(false, &[store_part]),
        );
        let scan = state.map.has_tag(scope_tag) || (all_keys && state.map.has_tag(point_tag));
        if scan {
            for slot in state.map.slots_oldest_first() {
                let Some((k, _)) = state.map.get(slot) else {
                    continue;
                };
                if !same_store(k) || (!k.scope && !all_keys) {
                    continue;
                }
                if k.scope && !names.iter().any(|n| same_name(&state.map, *n, k)) {
                    names.push(slot);
                }
                doomed.push(slot);
            }
        }
        // A generic key without a token was never cached.
        let key_known = r.classes[1] != Class::Generic || !r.missing;
        if !all_keys && key_known {
            for slot in state.map.group(lookup.hashes().group) {
                if state.map.get(slot).is_some_and(|(k, _)| {
                    !k.scope && same_store(k) && lookup.parts[1].matches(&k.parts[1])
                }) {
                    doomed.push(slot);
                }
            }
        }
        if doomed.is_empty() {
            return Ok(nil);
        }
        let out = if names.is_empty() {
            nil
        } else {
            let values: Vec<Value> = names.iter().map(|s| rb_self.cell(ruby, *s, 2)).collect();
            // Built before the cells let go of the names (it may allocate).
            ruby.ary_new_from_values(&values).as_value()
        };
        for slot in doomed {
            rb_self.remove(ruby, &mut state, slot);
        }
        Ok(out)
    }

    fn clear(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        {
            let mut state = rb_self.lock(ruby);
            state.generation += 1;
            state.map.clear();
            // SAFETY: a live Array; clearing runs no Ruby code.
            unsafe { rb_sys::rb_ary_clear(ruby.get_inner(rb_self.cells).as_raw()) };
        }
        ruby.get_inner(rb_self.tokens).clear()
    }

    fn size(ruby: &Ruby, rb_self: &Self) -> usize {
        rb_self.lock(ruby).map.len()
    }

    fn cap(ruby: &Ruby, rb_self: &Self) -> usize {
        rb_self.lock(ruby).cap
    }
}

/// True when the scope entry at `slot` has the same name as `k`.
fn same_name(map: &LruMap<Key, f64>, slot: u32, k: &Key) -> bool {
    map.get(slot)
        .is_some_and(|(n, _)| n.parts[1].as_probe().matches(&k.parts[1]))
}

/// The native FactLog `v` wraps, if it is one: the type check of
/// `Obj::try_convert` without its protect frame (it cannot raise), which cost
/// about as much as the cache's own probe.
///
/// # Safety
/// The reference must not outlive `v`.
unsafe fn native_log<'a>(v: Value) -> Option<&'a FactLog> {
    let raw = v.as_raw();
    if rb_sys::SPECIAL_CONST_P(raw) {
        return None;
    }
    // SAFETY: a live heap object; the type pointer is compared before the
    // data pointer is used, and magnus wraps a `FactLog` as `*mut FactLog`.
    unsafe {
        if rb_sys::RB_BUILTIN_TYPE(raw) != rb_sys::ruby_value_type::RUBY_T_DATA
            || !rb_sys::RTYPEDDATA_P(raw)
        {
            return None;
        }
        let wanted =
            <FactLog as TypedData>::data_type() as *const DataType as *const rb_sys::rb_data_type_t;
        if rb_sys::RTYPEDDATA_TYPE(raw) != wanted {
            return None;
        }
        (rb_sys::RTYPEDDATA_GET_DATA(raw) as *const FactLog).as_ref()
    }
}

fn arity(ruby: &Ruby, name: &str, n: usize) -> Error {
    Error::new(
        ruby.exception_arg_error(),
        format!("TravelCache#{name} takes {n} arguments"),
    )
}
