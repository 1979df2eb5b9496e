//! Gives memory freed after a burst of work back to the system.
//!
//! glibc's allocator keeps what a burst freed in its arenas: the list and
//! first convergence of every ticket, a routing compile of the whole table,
//! a change that re-evaluates every ticket. The resident set then stays at
//! the burst's high-water mark, and the next burst, allocating on other
//! threads' arenas or in sizes the holes do not fit, adds to it. Measured
//! at 50,000 tickets (issue 11): 165 MiB after convergence, 177 MiB after
//! one tier change's routing compile, 194 MiB during a policy change, with
//! under 100 MB of it live. `malloc_trim(0)` hands the free pages of every
//! arena back; it is called once at the end of such a burst (the last
//! ticket of a burst handed to the controller, the end of a routing round),
//! never on a timer. Elsewhere (musl's allocator in the container image,
//! which returns memory by itself) it does nothing.

/// Returns freed memory to the system (glibc only).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own free
    // lists, under its own locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
