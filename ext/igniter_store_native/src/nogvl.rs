//! Runs Rust work with the GVL released, so other Ruby threads keep running
//! while a thread waits for the disk: an fsync, a snapshot, a replay's file
//! reading, CRC checks and JSON decoding.
//!
//! The closures must not touch Ruby: callers copy their inputs into Rust-owned
//! data first (the `Send` bounds keep Ruby values out). Panics are caught
//! inside the callback and become `InternalError` on the Ruby thread. Two
//! flavours, for the two ways Ruby may want the thread back (Ctrl-C,
//! `Thread#raise`, `Thread#kill`):
//!
//! * [`blocking`] for writes: the work is bounded and must not be cut short
//!   (a half-done append would leave a torn frame). It either does not start
//!   (an interrupt was already pending: it is raised, nothing was written) or
//!   runs to the end and returns its result; an interrupt that arrives
//!   meanwhile is raised by Ruby at its next checkpoint, after this call
//!   returned, so a write the caller saw succeed is in the log too.
//! * [`interruptible`] for long reads: the unblocking function raises a
//!   [`Cancel`] flag that the core checks at its checkpoints, and Ruby raises
//!   the interrupt as soon as the work has stopped. When the interrupt raises
//!   nothing (a `trap` handler ran), the work starts over, as Ruby's own IO
//!   retries a read after `EINTR`.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ledger_core::Cancel;
use magnus::{rb_sys::AsRawValue, Error, Ruby};

struct Call<F, R> {
    work: F,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F, R>(data: *mut c_void) -> *mut c_void
where
    F: FnMut() -> R,
{
    // SAFETY: `data` is the `Call` that the caller keeps alive on its stack
    // until rb_thread_call_without_gvl{,2} has returned.
    let call = unsafe { &mut *(data as *mut Call<F, R>) };
    call.result = Some(catch_unwind(AssertUnwindSafe(&mut call.work)));
    std::ptr::null_mut()
}

/// The trampoline for `call`'s closure type (which has no name to spell).
fn trampoline_for<F, R>(_: &Call<F, R>) -> unsafe extern "C" fn(*mut c_void) -> *mut c_void
where
    F: FnMut() -> R,
{
    trampoline::<F, R>
}

/// The unblocking function of [`interruptible`]: Ruby calls it from another
/// thread, or from its signal handler, to get this one back; it only raises
/// the flag.
unsafe extern "C" fn raise_cancel(data: *mut c_void) {
    // SAFETY: `data` is the `Cancel` that outlives the blocking region, and
    // Ruby only calls an unblocking function while the region runs.
    let cancel = unsafe { &*(data as *const Cancel) };
    cancel.raise();
}

fn settle<R>(ruby: &Ruby, result: std::thread::Result<R>) -> Result<R, Error> {
    result.map_err(|payload| crate::guard::panic_error(ruby, payload.as_ref()))
}

/// Runs `work` without the GVL, all of it or none of it (see the module
/// notes); an interrupt pending beforehand is raised without running it.
pub fn blocking<F, R>(ruby: &Ruby, mut work: F) -> Result<R, Error>
where
    F: FnMut() -> R + Send,
    R: Send,
{
    loop {
        let mut call = Call {
            work: &mut work,
            result: None,
        };
        let func = trampoline_for(&call);
        let data = &mut call as *mut Call<_, R> as *mut c_void;
        magnus::rb_sys::protect(|| {
            // SAFETY: the callback only runs Rust code on data it owns. No
            // unblocking function: the work is one bounded write and fsync.
            // The `2` variant neither raises nor runs the work when an
            // interrupt is pending, and does not check interrupts afterwards.
            unsafe {
                rb_sys::rb_thread_call_without_gvl2(Some(func), data, None, std::ptr::null_mut());
            }
            ruby.qnil().as_raw()
        })?;
        match call.result {
            Some(result) => return settle(ruby, result),
            // Not started: let Ruby handle the interrupt first (it raises, or
            // runs a trap handler and comes back), then try again.
            None => check_interrupts(ruby)?,
        }
    }
}

/// Runs `work` without the GVL with an unblocking function: `work` gets the
/// flag that function raises and must return `Error::Interrupted` soon after
/// (the core's long reads do). Ruby then raises its interrupt; if it raises
/// nothing, `work` runs again from the start.
pub fn interruptible<F, R>(ruby: &Ruby, mut work: F) -> Result<ledger_core::Result<R>, Error>
where
    F: FnMut(&Cancel) -> ledger_core::Result<R> + Send,
    R: Send,
{
    loop {
        let cancel = Cancel::new();
        let mut call = Call {
            work: || work(&cancel),
            result: None,
        };
        let func = trampoline_for(&call);
        let data = &mut call as *mut Call<_, ledger_core::Result<R>> as *mut c_void;
        let flag = &cancel as *const Cancel as *mut c_void;
        magnus::rb_sys::protect(|| {
            // SAFETY: as in `blocking`; `raise_cancel` only stores to `cancel`,
            // which lives until after this call returns. Ruby raises pending
            // interrupts before the work starts and after it ends, through
            // the protect frame. UBF_ASYNC_SAFE (the store is async-signal-
            // safe) lets Ruby's signal handler call it directly: otherwise a
            // SIGINT that lands while no other Ruby thread runs waits, unseen,
            // until the work ends by itself.
            unsafe {
                rb_sys::rb_nogvl(
                    Some(func),
                    data,
                    Some(raise_cancel),
                    flag,
                    rb_sys::RB_NOGVL_UBF_ASYNC_SAFE as i32,
                );
            }
            ruby.qnil().as_raw()
        })?;
        match call.result {
            Some(Ok(Err(ledger_core::Error::Interrupted))) => continue,
            Some(result) => return settle(ruby, result),
            None => {
                return Err(Error::new(
                    ruby.exception_runtime_error(),
                    "igniter-ledger: native call interrupted",
                ))
            }
        }
    }
}

/// Lets Ruby handle pending interrupts now (raising `Interrupt` after Ctrl-C,
/// running trap handlers): for long loops that hold the GVL, like building
/// the Ruby facts of a large replay.
pub fn check_interrupts(ruby: &Ruby) -> Result<(), Error> {
    magnus::rb_sys::protect(|| {
        // SAFETY: called with the GVL held; a raise unwinds through protect.
        unsafe { rb_sys::rb_thread_check_ints() };
        ruby.qnil().as_raw()
    })
    .map(|_| ())
}
