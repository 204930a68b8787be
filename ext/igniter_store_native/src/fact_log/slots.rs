//! The log's built facts, by position, in Ruby Arrays of [`CHUNK`] slots
//! each (doc/performance.md "GC marking of the native store").
//!
//! Why chunks: storing a young fact into an old Array takes a write barrier,
//! and the barrier puts the whole Array into the GC's remembered set, so the
//! next minor collection marks every slot of it again. With one Array for the
//! log that was every fact it held, at every minor GC after a write (or a
//! first read of a replayed fact); with chunks it is the 1,024 slots of the
//! chunk written, plus the short Array of chunks when a chunk is added.
//! A chunk is a plain Ruby Array, so its marking (and moving, under
//! GC.compact) is Ruby's own; only the Array of chunks is the log's to mark.

use magnus::{
    gc::Marker,
    rb_sys::{AsRawValue, FromRawValue},
    value::{Opaque, ReprValue},
    Error, RArray, Ruby, Value,
};

/// Slots per chunk: a power of two, so a position splits with a shift.
const CHUNK_BITS: u32 = 10;
pub(crate) const CHUNK: usize = 1 << CHUNK_BITS;

fn split(pos: u32) -> (isize, isize) {
    (
        (pos >> CHUNK_BITS) as isize,
        (pos as usize & (CHUNK - 1)) as isize,
    )
}

/// Slot `pos` holds the fact at `pos` once built; nil (or past the end of
/// its chunk, or in a chunk not made yet) until then.
pub(crate) struct Slots(Opaque<RArray>);

/// `rb_ary_entry`: bounds-checked (nil past the end), never raises and
/// allocates nothing, so it needs no protect frame.
///
/// # Safety
/// `ary` must be a live Array.
unsafe fn entry(ary: Value, i: isize) -> Value {
    // SAFETY: the caller's guarantee.
    unsafe { Value::from_raw(rb_sys::rb_ary_entry(ary.as_raw(), i as _)) }
}

/// The entry at `pos` of the chunks `outer` (the Array of chunks' entries),
/// read straight from the Arrays' memory (no call into Ruby: a read is on
/// every lookup's path); `None` past an end.
///
/// # Safety
/// `outer` must be the entries of the log's live Array of chunks, and no Ruby
/// code may run while the slices are borrowed (they are not kept).
unsafe fn slot_in(outer: &[Value], pos: u32) -> Option<Value> {
    let (c, i) = split(pos);
    let chunk = *outer.get(c as usize)?;
    if chunk.is_nil() {
        return None;
    }
    // SAFETY: the caller's guarantee; every non-nil entry of the Array of
    // chunks is a chunk Array (only `Slots::set` stores there).
    unsafe {
        let raw = chunk.as_raw();
        let len = rb_sys::RARRAY_LEN(raw) as usize;
        let ptr = rb_sys::RARRAY_CONST_PTR(raw);
        ((i as usize) < len).then(|| Value::from_raw(*ptr.add(i as usize)))
    }
}

impl Slots {
    pub(crate) fn new(ruby: &Ruby) -> Slots {
        Slots(ruby.ary_new().into())
    }

    /// The Array of chunks; each chunk Array marks its own slots.
    pub(crate) fn mark(&self, marker: &Marker) {
        marker.mark(self.0);
    }

    /// The fact at `pos`, or nil while it is not built.
    pub(crate) fn get(&self, ruby: &Ruby, pos: u32) -> Value {
        let chunks = ruby.get_inner(self.0);
        // SAFETY: read at once; nothing runs Ruby code meanwhile.
        unsafe { slot_in(chunks.as_slice(), pos) }.unwrap_or_else(|| ruby.qnil().as_value())
    }

    /// Keeps `fact` in slot `pos`, making its chunk first if need be.
    pub(crate) fn set(&self, ruby: &Ruby, pos: u32, fact: Value) {
        let (c, i) = split(pos);
        let chunks = ruby.get_inner(self.0);
        // SAFETY: as in `get`.
        let mut chunk = unsafe { entry(chunks.as_value(), c) };
        if chunk.is_nil() {
            chunk = ruby.ary_new_capa(CHUNK).as_value();
            // SAFETY: a live Array and a live chunk; rb_ary_store takes the
            // write barrier and fills a gap before `c` with nil.
            unsafe { rb_sys::rb_ary_store(chunks.as_raw(), c as _, chunk.as_raw()) };
        }
        // SAFETY: a live chunk Array and a live fact; rb_ary_store takes the
        // write barrier (remembering this chunk only) and fills a gap before
        // `i` with nil.
        unsafe { rb_sys::rb_ary_store(chunk.as_raw(), i as _, fact.as_raw()) };
    }

    /// Forgets every slot from `len` on (the repair of a poisoned lock).
    pub(crate) fn truncate(&self, ruby: &Ruby, len: usize) {
        let chunks = ruby.get_inner(self.0);
        let whole = len / CHUNK;
        let rest = len % CHUNK;
        let keep = whole + usize::from(rest > 0);
        // SAFETY: shrinking live Arrays; raises nothing.
        unsafe {
            if chunks.len() > keep {
                rb_sys::rb_ary_resize(chunks.as_raw(), keep as _);
            }
            if rest > 0 {
                let chunk = entry(chunks.as_value(), whole as isize);
                if !chunk.is_nil() && RArray::from_value(chunk).is_some_and(|a| a.len() > rest) {
                    rb_sys::rb_ary_resize(chunk.as_raw(), rest as _);
                }
            }
        }
    }

    /// The slots at `positions`, nil where not built.
    pub(crate) fn gather(&self, ruby: &Ruby, positions: &[u32]) -> Vec<Value> {
        let chunks = ruby.get_inner(self.0);
        let nil = ruby.qnil().as_value();
        let mut values = Vec::with_capacity(positions.len());
        // SAFETY: every slot is read before anything can change the Arrays
        // (no Ruby call in between).
        unsafe {
            let outer = chunks.as_slice();
            values.extend(positions.iter().map(|p| slot_in(outer, *p).unwrap_or(nil)));
        }
        values
    }

    /// A new Array of every slot in order (each built: the caller built them).
    pub(crate) fn to_array(&self, ruby: &Ruby) -> Result<RArray, Error> {
        let chunks = ruby.get_inner(self.0);
        let mut parts: Vec<RArray> = Vec::with_capacity(chunks.len());
        // SAFETY: as in `get`.
        for c in 0..chunks.len() {
            let chunk = unsafe { entry(chunks.as_value(), c as isize) };
            if let Some(chunk) = RArray::from_value(chunk) {
                parts.push(chunk);
            }
        }
        let total = parts.iter().map(|a| a.len()).sum();
        let out = ruby.ary_new_capa(total);
        for part in parts {
            // SAFETY: the slice is copied at once into `out` (young, so no
            // barrier per element) and nothing runs Ruby code meanwhile.
            out.cat(unsafe { part.as_slice() })?;
        }
        Ok(out)
    }
}
