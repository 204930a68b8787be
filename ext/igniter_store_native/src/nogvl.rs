//! Runs Rust work with the GVL released, so other Ruby threads keep running
//! during replay's file reading, CRC checks and JSON decoding.
//!
//! The closure must not touch Ruby: callers copy their inputs into Rust-owned
//! data first. Panics are caught inside the callback, and the call is wrapped
//! in `protect` because `rb_thread_call_without_gvl` may raise (pending
//! interrupts) on the way back.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use magnus::{rb_sys::AsRawValue, Error, Ruby};

struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F, R>(data: *mut c_void) -> *mut c_void
where
    F: FnOnce() -> R,
{
    // SAFETY: `data` is the `Call` that `without_gvl` keeps alive on its stack.
    let call = unsafe { &mut *(data as *mut Call<F, R>) };
    if let Some(work) = call.work.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Runs `work` without the GVL and returns its result.
pub fn without_gvl<F, R>(ruby: &Ruby, work: F) -> Result<R, Error>
where
    F: FnOnce() -> R + Send,
    R: Send,
{
    let mut call = Call { work: Some(work), result: None };
    let data = &mut call as *mut Call<F, R> as *mut c_void;
    magnus::rb_sys::protect(|| {
        // SAFETY: the callback only runs Rust code on data it owns; no unblock
        // function is needed because the work is bounded (one file read).
        unsafe {
            rb_sys::rb_thread_call_without_gvl(Some(trampoline::<F, R>), data, None, std::ptr::null_mut());
        }
        ruby.qnil().as_raw()
    })?;
    match call.result {
        Some(Ok(value)) => Ok(value),
        Some(Err(payload)) => Err(crate::guard::panic_error(ruby, payload.as_ref())),
        None => Err(Error::new(ruby.exception_runtime_error(), "igniter-ledger: native call interrupted")),
    }
}
