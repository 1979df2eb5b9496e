//! A random business calendar, start, pauses and amounts: the compiled
//! calendar against the minute-stepping reference and its own invariants
//! (checks: `harness::check_calendar`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_operator_fuzz::harness::{CalendarCase, check_calendar};

fuzz_target!(|case: CalendarCase| {
    check_calendar(&case);
});
