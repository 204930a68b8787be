//! This process's id, cached and fork-aware. Two things depend on knowing when
//! the process forked: the ledger lock (a child must not write through its
//! parent's handle) and fact ids (a child must not repeat its parent's random
//! stream); a `getpid` per write or per id would be a syscall each time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

static PID: AtomicU32 = AtomicU32::new(0);
static ATFORK: Once = Once::new();

extern "C" fn forget_pid_in_child() {
    PID.store(0, Ordering::Relaxed);
}

/// This process's id, cached; a fork handler clears the cache in the child, so
/// asking costs an atomic load. The handler is registered on the first call, so
/// a process that never asked has nothing cached that a fork could make stale.
pub fn current_pid() -> u32 {
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic (async-signal-safe).
        unsafe {
            libc::pthread_atfork(None, None, Some(forget_pid_in_child));
        }
    });
    match PID.load(Ordering::Relaxed) {
        0 => {
            let pid = std::process::id();
            PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}
