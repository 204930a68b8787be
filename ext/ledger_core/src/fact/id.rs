//! Fresh fact ids: UUID v4, lowercase, hyphenated (Ruby `SecureRandom.uuid` shape).
//!
//! The random bytes come from rand's per-thread ChaCha generator (seeded from the
//! OS), reseeded whenever the process id changed since the thread last drew from
//! it. rand does not reseed after `fork`, so without that check every forked
//! worker (Puma, Sidekiq, Unicorn) would hand out the same ids as its parent and
//! its siblings. The check is an atomic load and a thread-local compare (see
//! [`crate::pid::current_pid`]); asking the OS per id (`getrandom(2)`) measured
//! ~240 ns an id against ~30 ns this way, about a tenth of a native `Fact.build`.

use std::cell::Cell;

use rand::Rng;

use crate::pid::current_pid;

thread_local! {
    /// The process this thread's generator was last (re)seeded in; 0: not yet.
    static SEEDED_IN: Cell<u32> = const { Cell::new(0) };
}

/// A fresh random id, distinct across threads and forked processes.
pub fn new_uuid() -> String {
    let mut rng = rand::rng();
    let pid = current_pid();
    if SEEDED_IN.get() != pid {
        // A fork copied the parent's generator state: draw a new seed from the
        // OS before a single byte is used. Failing that, an id could repeat, so
        // it is a hard error (the binding turns the panic into InternalError).
        rng.reseed()
            .expect("igniter-ledger: cannot seed the id generator from the OS");
        SEEDED_IN.set(pid);
    }
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    // encode_lower writes the 36 bytes directly; `to_string` would go through the
    // formatting machinery on every write.
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    String::from(&*id.hyphenated().encode_lower(&mut buf))
}

#[cfg(test)]
mod tests {
    /// Ids keep Ruby's `SecureRandom.uuid` shape: 36 lowercase hex digits and hyphens, v4.
    #[test]
    fn new_uuid_is_lowercase_hyphenated_v4() {
        let id = super::new_uuid();
        assert_eq!(id.len(), 36);
        for (i, c) in id.char_indices() {
            if [8, 13, 18, 23].contains(&i) {
                assert_eq!(c, '-');
            } else {
                assert!(c.is_ascii_digit() || ('a'..='f').contains(&c), "{id}");
            }
        }
        assert_eq!(&id[14..15], "4");
        assert!(
            matches!(&id[19..20], "8" | "9" | "a" | "b"),
            "RFC 4122 variant: {id}"
        );
        assert_ne!(super::new_uuid(), id);
    }

    /// A forked child draws other ids than its parent does after the fork.
    #[test]
    fn a_forked_child_draws_other_ids_than_its_parent() {
        let _ = super::new_uuid();
        let mut fds = [0; 2];
        // SAFETY: a plain pipe and fork; the child only generates an id, writes it
        // and leaves with _exit (no destructors, no test harness code).
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let id = super::new_uuid();
                libc::write(fds[1], id.as_ptr().cast(), id.len());
                libc::_exit(0);
            }
            libc::close(fds[1]);
            let parent = super::new_uuid();
            let mut buf = [0u8; 36];
            let mut got = 0;
            while got < buf.len() {
                let n = libc::read(fds[0], buf[got..].as_mut_ptr().cast(), buf.len() - got);
                assert!(n > 0, "the child wrote no id");
                got += n as usize;
            }
            libc::close(fds[0]);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert_ne!(std::str::from_utf8(&buf).unwrap(), parent);
        }
    }
}
