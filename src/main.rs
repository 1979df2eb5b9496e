//! The `support-operator` binary: everything is in the library.
//!
//! Its allocator is mimalloc, not the system's: the operator holds tens of
//! thousands of tickets as many small, long-lived allocations, written from
//! several threads, and glibc's per-thread arenas kept about a third more
//! resident memory than the live heap (docs/performance.md, "Memory").
//! The library and the tests use the default allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    support_operator::cli::main()
}
