//! One member of a fact that may be built on first read (doc/performance.md
//! "Native write path"): a Ruby object reference that starts unset and is
//! filled once, then never changes.

use std::sync::atomic::{AtomicU64, Ordering};

use magnus::{
    gc::Marker,
    rb_sys::{AsRawValue, FromRawValue},
    Value,
};

/// Qundef: no Ruby value is ever this, so it marks a slot not built yet
/// (`false` is 0, so 0 cannot).
const UNSET: u64 = rb_sys::special_consts::Qundef as u64;

/// Ruby's SPECIAL_CONST_P: immediates (Fixnum, Flonum, static Symbols,
/// true, nil) and false need neither marking nor a write barrier.
fn special(raw: u64) -> bool {
    raw & 0x07 != 0 || raw & !(rb_sys::special_consts::Qnil as u64) == 0
}

/// A member reference, built now or on first read. Atomic only so the fact
/// is `Send`: every access runs under the GVL.
pub struct Slot(AtomicU64);

impl Slot {
    /// A slot holding `v` from the start.
    pub fn new(v: Value) -> Slot {
        Slot(AtomicU64::new(v.as_raw()))
    }

    /// A slot to be filled on first read.
    pub fn unset() -> Slot {
        Slot(AtomicU64::new(UNSET))
    }

    /// The value, if built.
    pub fn get(&self) -> Option<Value> {
        let raw = self.0.load(Ordering::Acquire);
        // SAFETY: a VALUE this slot was given, kept alive by the owner's mark.
        (raw != UNSET).then(|| unsafe { Value::from_raw(raw as _) })
    }

    /// Keeps `v` unless the slot was filled meanwhile (building may allocate,
    /// and a GC may run another thread's code at an interrupt check), and
    /// returns the value kept: a member is one object for every reader. The
    /// owner is write-barrier protected, so storing a young object into it
    /// tells the GC (`RB_OBJ_WRITTEN`).
    pub fn fill(&self, owner: Value, v: Value) -> Value {
        let raw = v.as_raw();
        match self
            .0
            .compare_exchange(UNSET, raw, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if !special(raw) {
                    // SAFETY: `owner` is the live object whose mark function
                    // marks this slot, `v` a live heap object.
                    unsafe { rb_sys::rb_gc_writebarrier(owner.as_raw(), v.as_raw()) };
                }
                v
            }
            // SAFETY: as in `get`.
            Err(kept) => unsafe { Value::from_raw(kept as _) },
        }
    }

    /// Marks the value, if built. `rb_gc_mark` pins it, so GC.compact never
    /// moves an object this raw reference names.
    pub fn mark(&self, marker: &Marker) {
        if let Some(v) = self.get() {
            marker.mark(v);
        }
    }

    /// The raw VALUE (Qundef while unset), for a GC guard (see `Fact::wrap`).
    pub fn raw(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// A slot with the same state (for copies of a fact whose members are built).
    pub fn copy(&self) -> Slot {
        Slot(AtomicU64::new(self.0.load(Ordering::Acquire)))
    }
}
